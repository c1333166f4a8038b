"""Decode + validate cost of one input message, per parsing path.

    .venv/bin/python -m bench.decode [--out results.json] [--number 20000] [--repeat 7]

Each path turns the same few hundred realistic, varied messages (several
UTC offsets, optional fields present or not) into validated objects. The
figure is the median over ``--repeat`` runs of ``--number`` messages, in
microseconds per message. Paths that fully apply the models' rules:

* ``json.loads + model_validate``     stdlib parser, pydantic in Python mode
* ``orjson.loads + model_validate``   fast parser, pydantic in Python mode
* ``model_validate_json``             pydantic-core parses and validates at once
* ``schemas.decode``                  production: the above + size limit + repeated-key screen
* ``... without repeated-key check``  the same minus the screen, to show what it costs
* ``schemas.decode.fast_reading``     production fast path of the worker (msgspec, every rule)
* ``schemas.decode (bulk)``           1000 readings per message, cost per reading

For reference, msgspec (only part of the rules; see the note in the table):

* ``msgspec Struct``                  a mirror Struct: parse + the constraints msgspec has
* ``msgspec + rest + construct``      plus the rules msgspec lacks, plus building the
                                      pydantic objects the rest of the code expects
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import timeit
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import msgspec
import orjson
import pydantic
from pydantic import BaseModel, ValidationError

from schemas import MeterReading, TicketSale, decode_reading, decode_reading_batch, decode_sale
from schemas import decode as production
from schemas._timestamps import check_datetime
from schemas.decode import fast_reading

N_MESSAGES = 300
OFFSETS = [
    UTC,
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
]


def meter_messages(rng: random.Random, n: int = N_MESSAGES) -> list[bytes]:
    start = datetime(2012, 1, 1, tzinfo=UTC)
    out = []
    for _ in range(n):
        ts = (start + timedelta(minutes=30 * rng.randrange(60_000))).astimezone(rng.choice(OFFSETS))
        message: dict[str, Any] = {
            "meter_id": f"MAC{rng.randrange(1, 6000):06d}",
            "ts": ts.isoformat().replace("+00:00", "Z"),
            "kwh": round(rng.lognormvariate(-1.5, 0.8), rng.choice([3, 6, 12])),
        }
        if rng.random() < 0.7:
            message["temperature_c"] = round(rng.gauss(10, 7), 1)
        out.append(orjson.dumps(message))
    return out


def sale_messages(rng: random.Random, n: int = N_MESSAGES) -> list[bytes]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        ts = start + timedelta(seconds=rng.randrange(30_000_000), microseconds=rng.randrange(10**6))
        message: dict[str, Any] = {
            "sale_id": f"S-{i:07d}",
            "event_id": f"EVT-{rng.randrange(1, 500)}",
            "ts": ts.astimezone(rng.choice(OFFSETS)).isoformat(
                timespec=rng.choice(["seconds", "milliseconds"])
            ),
            "quantity": rng.randrange(1, 7),
            "amount": round(rng.uniform(10, 400), 2),
        }
        if rng.random() < 0.8:
            message["currency"] = rng.choice(["EUR", "GBP", "USD"])
        if rng.random() < 0.5:
            message["channel"] = rng.choice(["web", "app", "box-office"])
        out.append(orjson.dumps(message))
    return out


def bulk_messages(readings: Sequence[bytes], size: int = 1000) -> list[bytes]:
    """Whole days of each meter, ``size`` readings per message."""
    out = []
    for first in range(0, 20 * size, size):
        items = [orjson.loads(readings[(first + i) % len(readings)]) for i in range(size)]
        for item in items:
            del item["meter_id"]
        out.append(orjson.dumps({"meter_id": "MAC000002", "readings": items}))
    return out


# --- msgspec mirror (reference only) ------------------------------------------

_ID = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")
]


class MeterStruct(msgspec.Struct):
    meter_id: _ID
    ts: Annotated[datetime, msgspec.Meta(tz=True)]
    kwh: Annotated[float, msgspec.Meta(ge=0, le=1e6)]
    temperature_c: Annotated[float, msgspec.Meta(ge=-90, le=60)] | None = None
    schema_version: int = 1


_METER_DECODER = msgspec.json.Decoder(MeterStruct)


def msgspec_full(raw: bytes) -> MeterReading:
    """What a msgspec fast path would have to do to hand out MeterReading objects."""
    s = _METER_DECODER.decode(raw)
    ts = check_datetime(s.ts, half_hour=True)  # alignment, range: not expressible in msgspec
    return MeterReading.model_construct(
        meter_id=s.meter_id, ts=ts, kwh=s.kwh, temperature_c=s.temperature_c, schema_version=1
    )


def without_repeat_check(model: type[BaseModel]) -> Callable[[bytes], object]:
    """schemas.decode's decoder minus the repeated-key screen (its private parts, on purpose)."""

    def decode(raw: bytes) -> object:
        data = production._sized(raw, production.MAX_PAYLOAD_BYTES)
        try:
            return model.model_validate_json(data)
        except ValidationError as exc:
            raise production._translate(data, exc) from exc

    return decode


# --- measuring ----------------------------------------------------------------


def per_message_us(
    fn: Callable[[bytes], object], messages: Sequence[bytes], number: int, repeat: int
) -> float:
    cycle = [messages[i % len(messages)] for i in range(number)]

    def run() -> None:
        for raw in cycle:
            fn(raw)

    run()  # warm-up: caches, lazy imports
    gc.collect()
    times = timeit.repeat(run, number=1, repeat=repeat)  # timeit turns gc off while timing
    return statistics.median(times) / number * 1e6


def check_paths_agree(
    paths: dict[str, Callable[[bytes], object]], messages: Sequence[bytes]
) -> None:
    """Every full path must give the same objects, or its timing means nothing."""
    for raw in messages:
        results = [fn(raw) for fn in paths.values()]
        if any(result != results[0] for result in results[1:]):
            raise SystemExit(f"paths disagree on {raw!r}: {results}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.decode", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--number", type=int, default=20_000, help="messages per run")
    parser.add_argument("--repeat", type=int, default=7, help="runs; the median is reported")
    args = parser.parse_args(argv)

    rng = random.Random(20130301)
    readings, sales = meter_messages(rng), sale_messages(rng)
    bulks = bulk_messages(readings)

    full_meter: dict[str, Callable[[bytes], object]] = {
        "json.loads + model_validate": lambda raw: MeterReading.model_validate(json.loads(raw)),
        "orjson.loads + model_validate": lambda raw: MeterReading.model_validate(orjson.loads(raw)),
        "model_validate_json": MeterReading.model_validate_json,
        "schemas.decode": decode_reading,
        "... without repeated-key check": without_repeat_check(MeterReading),
        "msgspec + rest + construct": msgspec_full,
    }
    full_sale: dict[str, Callable[[bytes], object]] = {
        "json.loads + model_validate": lambda raw: TicketSale.model_validate(json.loads(raw)),
        "orjson.loads + model_validate": lambda raw: TicketSale.model_validate(orjson.loads(raw)),
        "model_validate_json": TicketSale.model_validate_json,
        "schemas.decode": decode_sale,
        "... without repeated-key check": without_repeat_check(TicketSale),
    }
    check_paths_agree(full_meter, readings)
    check_paths_agree(full_sale, sales)

    rows: list[dict[str, Any]] = []

    def measure(
        kind: str,
        path: str,
        fn: Callable[[bytes], object],
        messages: Sequence[bytes],
        *,
        per: int = 1,
        note: str = "",
    ) -> None:
        number = max(args.number // per, 5)
        us = per_message_us(fn, messages, number, args.repeat) / per
        rows.append({"kind": kind, "path": path, "us_per_message": round(us, 3), "note": note})
        print(f"{kind:8s} {path:32s} {us:8.2f} us  {note}", flush=True)

    print(f"{'kind':8s} {'path':32s} {'median':>11s}")
    for path, fn in full_meter.items():
        note = "not all rules in msgspec; objects via model_construct" if "msgspec" in path else ""
        measure("meter", path, fn, readings, note=note)
    fast_note = "production fast path (all rules; fields, not objects); None -> schemas.decode"
    measure("meter", "schemas.decode.fast_reading", fast_reading, readings, note=fast_note)
    reference = "reference: parse + msgspec's constraints only"
    measure("meter", "msgspec Struct", _METER_DECODER.decode, readings, note=reference)
    bulk_note = "per reading, 1000 readings a message"
    measure("meter", "schemas.decode (bulk)", decode_reading_batch, bulks, per=1000, note=bulk_note)
    for path, fn in full_sale.items():
        measure("ticket", path, fn, sales)

    if args.out is not None:
        report = {
            "benchmark": "decode",
            "unit": "microseconds per message (median)",
            "number": args.number,
            "repeat": args.repeat,
            "distinct_messages": N_MESSAGES,
            "python": sys.version.split()[0],
            "pydantic": pydantic.VERSION,
            "orjson": orjson.__version__,
            "msgspec": msgspec.__version__,
            "machine": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "results": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
