"""Training and inference speed of the conditional autoencoder, CPU and CUDA.

    .venv/bin/python -m bench.model [--out results.json] [--repeat 5] [--epochs 5]

* **training**: windows per second through :func:`trainer.fit.fit` (the real
  loop: device-resident data, fused Adam, clipping, the AMP order), per
  precision: fp32 and bf16 autocast on the CPU; fp32, fp16 and bf16 AMP on
  CUDA when there is one. 20,000 synthetic household-days, batch 512.
  The figure is the median over ``--repeat`` runs of ``--epochs`` epochs each
  (validation time excluded, as ``FitResult.train_windows_per_second`` does).
* **inference**: windows per second and milliseconds per household-day of
  :meth:`AutoencoderScorer.score` (preparation, one forward pass, verdicts)
  at micro-batches of 1, 64 and 4096, and of the forward pass alone, median
  of ``--repeat`` runs of at least 0.2 s each, with ``--threads`` torch
  threads (default 1). At this model size more threads buy nothing, and on
  a machine whose cores are busy with other processes (a worker beside
  Kafka and Redis) torch's default of one thread per core made a batch of
  64 fifteen to three hundred times slower, as its threads waited for cores.

Synthetic days (a daily shape times a household scale, noise, 3% missing
slots) cost the model the same as real ones; the data only has to be valid.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.autoencoder import AutoencoderConfig, ConditionalAutoencoder
from core.conditions import ConditionEncoder
from core.normalization import EntityNormalizer
from core.scoring.autoencoder import AutoencoderScorer, model_inputs
from core.scoring.base import DayWindow
from trainer.fit import FitConfig, build_training_set, fit

BATCHES = (1, 64, 4096)
TRAIN_WINDOWS = 20_000
TRAIN_BATCH = 512


def synthetic_windows(n: int, seed: int = 0) -> list[DayWindow]:
    rng = np.random.default_rng(seed)
    hours = np.arange(48) / 2
    shape = 0.3 + np.exp(-((hours - 8) ** 2) / 4) + 1.5 * np.exp(-((hours - 19) ** 2) / 6)
    entities = 500
    scales = rng.lognormal(-1.5, 0.6, entities)
    windows = []
    for i in range(n):
        entity = i % entities
        values = scales[entity] * shape * rng.lognormal(0, 0.4, 48)
        values[rng.random(48) < 0.03] = np.nan
        day = date(2013, 1, 1) + timedelta(days=int(i // entities) % 365)
        temperature = float(rng.normal(11, 6))
        windows.append(DayWindow("meter", f"M{entity:05d}", day, values, temperature_c=temperature))
    return windows


def _median_rate(run: Callable[[], int], repeat: int, min_seconds: float = 0.2) -> float:
    """Median of ``repeat`` measurements of items/s; each loops ``run`` >= min_seconds."""
    run()  # warm-up: allocator, kernels, caches
    rates = []
    for _ in range(repeat):
        items, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < min_seconds:
            items += run()
        rates.append(items / elapsed)
    return statistics.median(rates)


def bench_training(
    device: str, precisions: list[str], repeat: int, epochs: int
) -> list[dict[str, Any]]:
    windows = synthetic_windows(TRAIN_WINDOWS + 2_000)
    encoder, normalizer = ConditionEncoder(), EntityNormalizer.fit(windows)
    train = build_training_set(windows[:TRAIN_WINDOWS], encoder, normalizer)
    valid = build_training_set(windows[TRAIN_WINDOWS:], encoder, normalizer)
    rows = []
    variants: list[tuple[str, int | None]] = [(p, 1) for p in precisions]
    cores = os.cpu_count() or 1
    if device == "cpu" and cores > 1:
        variants.append(("fp32", cores))  # every core, to show why 1 thread is the default
    for precision, threads in variants:
        config = FitConfig(
            max_epochs=epochs,
            patience=epochs + 1,
            batch_size=TRAIN_BATCH,
            precision=precision,  # type: ignore[arg-type]
            cpu_threads=threads,
        )
        rates = [
            fit(train, valid, config, device=device).train_windows_per_second for _ in range(repeat)
        ]
        label = precision if threads == 1 else f"{precision}, {threads} threads"
        rows.append(
            {"device": device, "precision": label, "windows_per_s": statistics.median(rates)}
        )
    return rows


def bench_inference(device: str, repeat: int) -> list[dict[str, Any]]:
    windows = synthetic_windows(max(BATCHES))
    torch.manual_seed(0)
    model = ConditionalAutoencoder(AutoencoderConfig())
    encoder, normalizer = ConditionEncoder(), EntityNormalizer.fit(windows)
    scorer = AutoencoderScorer(
        model,
        kind="meter",
        version="bench-20130101T0000-1",
        threshold=1.0,
        encoder=encoder,
        normalizer=normalizer,
        device=device,
    )
    rows = []
    for batch in BATCHES:
        chunk = windows[:batch]
        inputs = model_inputs(chunk, encoder, normalizer)
        x = torch.from_numpy(inputs.values).to(device)
        c = torch.from_numpy(inputs.conditions).to(device)

        def end_to_end(chunk: list[DayWindow] = chunk) -> int:
            scorer.score(chunk)
            return len(chunk)

        def forward(x: torch.Tensor = x, c: torch.Tensor = c) -> int:
            with torch.inference_mode():
                scorer.model(x, c)
            if x.is_cuda:
                torch.cuda.synchronize()
            return int(x.shape[0])

        for what, run in (("score()", end_to_end), ("forward only", forward)):
            rate = _median_rate(run, repeat)
            rows.append(
                {
                    "device": device,
                    "batch": batch,
                    "what": what,
                    "windows_per_s": rate,
                    "ms_per_window": 1e3 / rate,
                    "ms_per_batch": 1e3 * batch / rate,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads for inference (default 1: see the module doc)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    training, inference = [], []
    for device in devices:
        precisions = ["fp32", "bf16"]
        if device == "cuda":
            precisions = ["fp32", "fp16"] + (["bf16"] if torch.cuda.is_bf16_supported() else [])
        training += bench_training(device, precisions, args.repeat, args.epochs)
        inference += bench_inference(device, args.repeat)

    print(f"training ({TRAIN_WINDOWS} windows, batch {TRAIN_BATCH}, median of {args.repeat})")
    print(f"  {'device':6} {'precision':18} {'windows/s':>12}")
    for row in training:
        print(f"  {row['device']:6} {row['precision']:18} {row['windows_per_s']:12,.0f}")
    print(f"inference ({args.threads} torch thread(s), median of {args.repeat})")
    header = ("device", "batch", "what", "windows/s", "ms/window", "ms/batch")
    print("  {:6} {:>5} {:13} {:>12} {:>10} {:>9}".format(*header))
    for row in inference:
        print(
            f"  {row['device']:6} {row['batch']:5d} {row['what']:13} {row['windows_per_s']:12,.0f} "
            f"{row['ms_per_window']:10.4f} {row['ms_per_batch']:9.3f}"
        )
    if args.out:
        result = {
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor(),
                "torch": torch.__version__,
                "torch_threads": torch.get_num_threads(),
                "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            },
            "model": AutoencoderConfig().to_dict(),
            "training": training,
            "inference": inference,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
