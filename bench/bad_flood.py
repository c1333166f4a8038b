"""Does a flood of bad messages slow the valid ones down? ``python -m bench.bad_flood``.

Two measurements, each with and without the flood, alternating, ``repeats``
times; the invalid messages are :data:`bench.bad_messages.BAD` in turn.

* **backlog**: the same valid readings (:class:`bench.data.Dataset`,
  single-reading messages) go to two topics; the second also carries ``bad``
  invalid messages spread evenly among them. A fresh worker reads each topic
  from the start (catching up after an outage); the time from serving to the
  last valid window scored is measured. ``slowdown`` = median flooded time /
  median clean time.
* **live**: a caught-up worker fed valid readings at a steady ``rate``/s
  (:mod:`bench.latency`) for ``seconds``, and in the flooded runs two invalid
  messages after every reading (at 5,000/s for 11 s: 105,600 bad messages at
  10,000/s). ``slowdown`` = median flooded / median clean latency from a
  window's last reading to its score, at p50 and at p99.

The requirement is a slowdown of at most 2: every bad message still costs a
read, a decode and a dead letter written back through the broker.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from anomstream.embedded import EmbeddedServices
from bench.bad_messages import BAD
from bench.data import Dataset
from bench.kafka_io import create_topics, load
from bench.latency import latency_run
from bench.loop import run_async
from bench.throughput import worker_run

__all__ = ["flooded", "run_flood", "run_live_flood", "summary"]


def flooded(valid: list[tuple[bytes, bytes]], bad: int) -> Iterator[tuple[bytes, bytes]]:
    """``valid`` in order with ``bad`` invalid messages spread evenly among them."""
    every = max(1, len(valid) // max(1, bad))
    sent = 0
    for n, message in enumerate(valid):
        yield message
        if n % every == 0 and sent < bad:
            yield b"BAD", BAD[sent % len(BAD)]
            sent += 1
    for n in range(sent, bad):
        yield b"BAD", BAD[n % len(BAD)]


def run_flood(
    *, households: int = 200, days: int = 5, bad: int = 100_000, repeats: int = 3
) -> dict[str, Any]:
    data = Dataset(households, days)
    valid = list(data.single())
    with (
        tempfile.TemporaryDirectory(prefix="anomstream-flood-") as tmp,
        EmbeddedServices(run_dir=Path(tmp)) as services,
    ):
        run_dir, models = Path(tmp), Path(tmp) / "models"
        tag = uuid.uuid4().hex[:8]
        clean, noisy = f"flood-clean-{tag}", f"flood-bad-{tag}"
        run_async(create_topics(services.kafka_bootstrap, [clean, noisy]))
        run_async(load(services.kafka_bootstrap, clean, valid))
        total = run_async(load(services.kafka_bootstrap, noisy, flooded(valid, bad)))
        seconds: dict[str, list[float]] = {"clean": [], "flooded": []}
        for _ in range(repeats):  # alternating: a load change on the machine hits both
            for name, topic, messages in (("clean", clean, len(valid)), ("flooded", noisy, total)):
                run = worker_run(
                    services.kafka_bootstrap,
                    services.redis_url,
                    topic,
                    models,
                    run_dir,
                    messages=messages,
                    readings_per_message=1,
                    windows=data.windows,
                )
                seconds[name].append(messages / run.events_per_s)
    clean_s, flooded_s = (statistics.median(seconds[k]) for k in ("clean", "flooded"))
    return {
        "valid_readings": len(valid),
        "bad_messages": bad,
        "windows": data.windows,
        "clean_seconds": seconds["clean"],
        "flooded_seconds": seconds["flooded"],
        "valid_readings_per_s_clean": len(valid) / clean_s,
        "valid_readings_per_s_flooded": len(valid) / flooded_s,
        "slowdown": flooded_s / clean_s,
        "within_2x": flooded_s / clean_s <= 2.0,
    }


def run_live_flood(
    *, rate: int = 5000, seconds: float = 11.0, bad_per_reading: int = 2, repeats: int = 3
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"clean": [], "flooded": []}
    with (
        tempfile.TemporaryDirectory(prefix="anomstream-flood-") as tmp,
        EmbeddedServices(run_dir=Path(tmp)) as services,
    ):
        run_dir, models = Path(tmp), Path(tmp) / "models"
        for _ in range(repeats):
            for name, bad in (("clean", 0), ("flooded", bad_per_reading)):
                runs[name].append(
                    latency_run(
                        services.kafka_bootstrap,
                        services.redis_url,
                        models,
                        run_dir,
                        rate=rate,
                        seconds=seconds,
                        bad_per_reading=bad,
                    )
                )
    result: dict[str, Any] = {
        "rate": rate,
        "readings": runs["clean"][0]["readings"],
        "bad_messages": runs["flooded"][0]["bad_messages"],
        "windows": runs["clean"][0]["windows"],
    }
    for quantile in ("p50_ms", "p99_ms"):
        for name, runs_of in runs.items():
            result[f"{name}_{quantile}"] = [run["score"][quantile] for run in runs_of]
        clean, noisy = (statistics.median(result[f"{k}_{quantile}"]) for k in runs)
        result[f"slowdown_{quantile.removesuffix('_ms')}"] = noisy / clean
    result["scored"] = {name: [run["score"]["n"] for run in runs[name]] for name in runs}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--bad", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=5000, help="live: valid readings/s")
    parser.add_argument("--seconds", type=float, default=11.0, help="live: how long")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--section", choices=("backlog", "live", "both"), default="both")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    if args.section in ("backlog", "both"):
        result["backlog"] = run_flood(
            households=args.households, days=args.days, bad=args.bad, repeats=args.repeats
        )
    if args.section in ("live", "both"):
        result["live"] = run_live_flood(rate=args.rate, seconds=args.seconds, repeats=args.repeats)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(summary(result))


def summary(result: dict[str, Any]) -> str:
    """The figures a reader wants, medians of the repeats; the rest is in ``--out``."""
    lines = []
    if backlog := result.get("backlog"):
        clean, noisy = (statistics.median(backlog[f"{k}_seconds"]) for k in ("clean", "flooded"))
        lines.append(
            f"backlog: {backlog['valid_readings']:,} valid readings with "
            f"{backlog['bad_messages']:,} bad messages among them: clean {clean:.2f} s, "
            f"flooded {noisy:.2f} s, slowdown {backlog['slowdown']:.2f}x (target <= 2)"
        )
    if live := result.get("live"):
        lines.append(
            f"live: {live['rate']:,} valid readings/s, {live['bad_messages']:,} bad messages "
            "beside them; last reading -> score:"
        )
        for q in ("p50", "p99"):
            clean, noisy = (statistics.median(live[f"{k}_{q}_ms"]) for k in ("clean", "flooded"))
            lines.append(
                f"  {q} clean {clean:6.1f} ms, flooded {noisy:6.1f} ms, "
                f"slowdown {live[f'slowdown_{q}']:.2f}x (target <= 2)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
