"""The benchmark suite behind ``anomstream bench`` and ``make bench``.

One run starts the embedded broker and Redis, loads the same messages once,
and measures, alternating the paths in every repeat so that a load change
on the machine hits them alike:

* (a) ceiling: raw aiokafka ``getmany`` + orjson decode of those messages;
* (b) baseline: a Faust agent validating each event, one awaited Redis write
  per event (and, for reference, the same agent doing nothing);
* (c) the anomstream worker end to end, single-reading messages;
* (d) the same with bulk messages (one message per meter and day);
* latency from a window's last reading to its score and alert at a steady rate;
* Redis round trips per event, memory per open window;
* inference and training windows/s (:mod:`bench.model`).

Rates are medians over the repeats; the ratios c/a and c/b compare figures of
the same run, which is what makes them meaningful on a busy machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from anomstream.embedded import EmbeddedServices
from bench.data import Dataset
from bench.kafka_io import ceiling_rate, create_topics, load
from bench.latency import latency_run
from bench.loop import run_async
from bench.memory import memory_run
from bench.model_setup import publish_model
from bench.throughput import WorkerRun, baseline_rate, worker_run

__all__ = ["SECTIONS", "SuiteConfig", "run_suite"]

SECTIONS = ("throughput", "latency", "memory", "model")


@dataclass(frozen=True, slots=True)
class SuiteConfig:
    households: int = 1000
    days: int = 10
    repeats: int = 3
    baseline_events: int = 40_000  # (b) is measured over this many events
    latency_seconds: float = 12.0
    latency_rate: int = 5000
    memory_windows: int = 100_000
    model_repeats: int = 3

    @classmethod
    def quick(cls) -> SuiteConfig:
        return cls(
            households=200,
            days=3,
            repeats=1,
            baseline_events=5_000,
            latency_seconds=3.0,
            memory_windows=5_000,
            model_repeats=1,
        )


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_suite(config: SuiteConfig, *, sections: set[str] | None = None) -> dict[str, Any]:
    """Run the suite; returns the results (also what the JSON file holds)."""
    wanted: Callable[[str], bool] = lambda name: sections is None or name in sections  # noqa: E731
    data = Dataset(config.households, config.days)
    results: dict[str, Any] = {
        "config": asdict(config),
        "machine": _machine(),
        "dataset": {"readings": data.readings, "windows": data.windows},
    }
    with tempfile.TemporaryDirectory(prefix="anomstream-bench-") as tmp:
        run_dir = Path(tmp)
        with EmbeddedServices(run_dir=run_dir / "services") as services:
            bootstrap, redis_url = services.kafka_bootstrap, services.redis_url
            _say(f"loading {data.readings:,} readings (broker {bootstrap})")
            run_async(create_topics(bootstrap, ["bench-single", "bench-bulk"]))
            run_async(load(bootstrap, "bench-single", data.single()))
            run_async(load(bootstrap, "bench-bulk", data.bulk()))
            model_dir = run_dir / "models"
            results["model_version"] = publish_model(model_dir, config.households)

            if wanted("throughput"):
                results["throughput"] = _throughput(
                    config,
                    data=data,
                    bootstrap=bootstrap,
                    redis_url=redis_url,
                    model_dir=model_dir,
                    run_dir=run_dir,
                )
            if wanted("latency"):
                _say(f"latency at a steady {config.latency_rate:,} events/s")
                results["latency"] = latency_run(
                    bootstrap,
                    redis_url,
                    model_dir,
                    run_dir,
                    rate=config.latency_rate,
                    seconds=config.latency_seconds,
                )
            if wanted("memory"):
                _say(f"memory at {config.memory_windows:,} open windows")
                results["memory"] = memory_run(redis_url, config.memory_windows)
    if wanted("model"):
        _say("model: inference and training")
        results["model"] = _model(config.model_repeats)
    return results


def _throughput(
    config: SuiteConfig,
    *,
    data: Dataset,
    bootstrap: str,
    redis_url: str,
    model_dir: Path,
    run_dir: Path,
) -> dict[str, Any]:
    single, bulk = data.readings, data.windows
    runs: dict[str, list[float]] = {k: [] for k in ("a", "b", "b0", "c", "d")}
    worker_runs: dict[str, list[WorkerRun]] = {"c": [], "d": []}
    for repeat in range(config.repeats):
        _say(f"repeat {repeat + 1}/{config.repeats}")
        runs["a"].append(run_async(ceiling_rate(bootstrap, "bench-single", single)))
        _say(f"  (a) ceiling   {runs['a'][-1]:12,.0f} events/s")
        limit = min(config.baseline_events, single)
        for key, mode in (("b", "validate"), ("b0", "noop")):
            rate = baseline_rate(bootstrap, redis_url, "bench-single", limit, run_dir, mode=mode)
            runs[key].append(rate)
            _say(f"  ({key}) faust {mode:8s} {runs[key][-1]:10,.0f} events/s")
        forms = (("c", "bench-single", single, 1), ("d", "bench-bulk", bulk, 48))
        for key, topic, messages, per in forms:
            run = worker_run(
                bootstrap,
                redis_url,
                topic,
                model_dir,
                run_dir,
                messages=messages,
                readings_per_message=per,
                windows=data.windows,
            )
            worker_runs[key].append(run)
            runs[key].append(run.events_per_s)
            _say(
                f"  ({key}) worker     {run.events_per_s:12,.0f} events/s "
                f"({run.scores} scores, {run.alerts} alerts, "
                f"{run.round_trips_per_event:.4f} Redis round trips/event)"
            )
    medians = {k: _median(v) for k, v in runs.items() if v}
    return {
        "events_per_s": medians,
        "runs": runs,
        "ratio_c_a": medians["c"] / medians["a"],
        "ratio_c_b": medians["c"] / medians["b"],
        "ratio_d_a": medians["d"] / medians["a"],
        "worker": {k: [asdict(r) for r in v] for k, v in worker_runs.items()},
    }


def _model(repeat: int) -> dict[str, Any]:
    """:mod:`bench.model`, shortened: training 3 epochs per run."""
    import torch

    from bench.model import bench_inference, bench_training

    torch.set_num_threads(1)
    cuda = torch.cuda.is_available()
    training = bench_training("cpu", ["fp32", "bf16"], repeat, epochs=3)
    inference = bench_inference("cpu", repeat)
    if cuda:
        amp = ["fp32", "fp16"] + (["bf16"] if torch.cuda.is_bf16_supported() else [])
        training += bench_training("cuda", amp, repeat, epochs=3)
        inference += bench_inference("cuda", repeat)
    return {
        "cuda": torch.cuda.get_device_name() if cuda else None,
        "training": training,
        "inference": inference,
    }


def _machine() -> dict[str, Any]:
    load1, load5, _ = os.getloadavg()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_1m_5m_at_start": [round(load1, 2), round(load5, 2)],
    }
