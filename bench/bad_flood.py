"""Does a flood of bad messages slow the valid ones down? ``python -m bench.bad_flood``.

The same valid readings (:class:`bench.data.Dataset`, single-reading messages)
go to two topics; the second also carries ``bad`` invalid messages spread
evenly among them (the kinds a broken producer or an attacker sends: not
JSON, truncated JSON, NaN, negative or huge numbers, wrong types, unaligned
and naive timestamps, repeated keys, deep nesting, a 10 kB id). A fresh
worker reads each topic from the start; the time from serving to the last
valid window scored is measured on both, alternating, ``repeats`` times.
``slowdown`` = median flooded time / median clean time: the requirement is
at most 2 (every bad message still costs a decode and a dead letter).
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
from bench.data import Dataset
from bench.kafka_io import create_topics, load
from bench.loop import run_async
from bench.throughput import worker_run

__all__ = ["BAD", "flooded", "run_flood"]

_TS = '"2013-03-01T00:30:00Z"'
BAD: tuple[bytes, ...] = (
    b"MAC000001,2013-03-01T00:30:00Z,0.219",
    b'{"meter_id": "MAC000001", "ts": "2013-03-01T00:3',
    b'{"meter_id": "MAC000001", "ts": ' + _TS.encode() + b', "kwh": NaN}',
    b'{"meter_id": "MAC000001", "ts": ' + _TS.encode() + b', "kwh": -1}',
    b'{"meter_id": "MAC000001", "ts": ' + _TS.encode() + b', "kwh": 1e308}',
    b'{"meter_id": "MAC000001", "ts": ' + _TS.encode() + b', "kwh": "0.2"}',
    b'{"meter_id": "MAC000001", "ts": "2013-03-01T00:31:00Z", "kwh": 0.2}',
    b'{"meter_id": "MAC000001", "ts": "2013-03-01T00:30:00", "kwh": 0.2}',
    b'{"meter_id": "A", "meter_id": "B", "ts": ' + _TS.encode() + b', "kwh": 0.2}',
    b'{"meter_id": "MAC000001", "ts": '
    + _TS.encode()
    + b', "kwh": 0.2, "x": '
    + b"[" * 500
    + b"]" * 500
    + b"}",
    b'{"meter_id": "' + b"M" * 10_000 + b'", "ts": ' + _TS.encode() + b', "kwh": 0.2}',
)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--bad", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = run_flood(
        households=args.households, days=args.days, bad=args.bad, repeats=args.repeats
    )
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
