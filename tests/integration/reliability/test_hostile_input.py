"""Hostile input on a real topic: every bad record is dead-lettered with its reason,
and the valid readings around it are scored as if it were not there.

The corpus is the decoders' own (``harness.hostile``: not JSON, truncated
JSON, wrong types, NaN/Infinity, negative and huge numbers, unaligned,
far-future, ancient and naive timestamps, a 1 MB payload, deep nesting, empty
and 10 kB ids, invalid UTF-8, repeated keys), plus a null value, a key that is
not UTF-8, whatever hypothesis generates that the decoder rejects, and a
flood of 20,000 bad records interleaved with the valid ones. How much a flood
slows the valid readings is measured by ``python -m bench.bad_flood``, not
asserted here.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from typing import Any

import pytest
from harness.fleet import Fleet
from harness.hostile import HOSTILE
from harness.kafka_io import produce_recorded, read_topic
from harness.workload import MeterWorkload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import InvalidMessage
from schemas.decode import decode_meter_items
from schemas.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLOOD = 20_000
Record = tuple[bytes | None, bytes | None]


def _rejected(payload: bytes | None) -> bool:
    """Whether the worker's decoder refuses the whole record (so it is one dead letter)."""
    try:
        decode_meter_items(payload)
    except InvalidMessage:
        return True
    return False


def _fuzzed() -> list[bytes]:
    """Payloads hypothesis generates that the decoder rejects, derandomized."""
    found: list[bytes] = []
    field = st.sampled_from(["meter_id", "ts", "kwh", "temperature_c", "readings", "x"])
    scalar = st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=12)
    documents = st.recursive(
        scalar,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(field, inner, max_size=4),
        max_leaves=12,
    )
    payloads = st.binary(max_size=200) | documents.map(lambda d: json.dumps(d).encode())

    @settings(
        max_examples=300,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(payloads)
    def collect(payload: bytes) -> None:
        if _rejected(payload):
            found.append(payload)

    collect()
    return found


def _interleave(valid: list[Record], bad: list[Record]) -> list[tuple[Record, bool]]:
    """Bad records spread evenly through the valid stream; (record, is_bad)."""
    out: list[tuple[Record, bool]] = []
    step = max(1, len(valid) // max(1, len(bad)))
    bad_iter = iter(bad)
    for n, record in enumerate(valid):
        out.append((record, False))
        if n % step == 0:
            with contextlib.suppress(StopIteration):
                out.append((next(bad_iter), True))
    out += [(record, True) for record in bad_iter]
    return out


async def test_hostile_records_are_dead_lettered_and_valid_ones_still_scored(
    fault_settings: Settings, fleet: Fleet
) -> None:
    workload = MeterWorkload(households=20, n_days=4, invalid_every=10**9)
    corpus: list[Record] = [(b"BAD", payload) for _, payload, *_ in HOSTILE]
    corpus += [(b"BAD", None), (b"\xff\xfe not utf-8", b"{not json"), (None, b"[]")]
    small = [payload for _, payload in corpus if payload is not None and len(payload) < 1000]
    fuzz = [(b"FUZZ", payload) for payload in _fuzzed()]
    flood = [(b"FLOOD", small[n % len(small)]) for n in range(FLOOD)]
    assert len(fuzz) > 100
    assert all(_rejected(v) for _, v in corpus + fuzz + flood)
    stream = _interleave(workload.messages, corpus + fuzz + flood)

    worker = fleet.start("w")
    worker.wait_until_serving(assigned=False)
    where = await produce_recorded(
        fault_settings.kafka_bootstrap, fault_settings.topic_readings, [r for r, _ in stream]
    )
    bad_at = [at for at, (_, is_bad) in zip(where, stream, strict=True) if is_bad]
    bad = set(bad_at)

    expected = set(workload.expected)
    scores = await read_topic(
        fault_settings.kafka_bootstrap,
        fault_settings.topic_scores,
        until=lambda seen: {(m["entity_id"], m["day"]) for m in seen} >= expected,
        timeout=240,
    )
    letters = await read_topic(
        fault_settings.kafka_bootstrap,
        fault_settings.topic_dead_letters,
        until=lambda seen: {(m["partition"], m["offset"]) for m in seen} >= bad,
        timeout=240,
        settle=2.0,
    )
    by_source: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for letter in letters:
        by_source[(letter["partition"], letter["offset"])].append(letter)

    assert {(m["entity_id"], m["day"]) for m in scores} == expected, worker.tail()
    assert all(m["actual"] == workload.expected[(m["entity_id"], m["day"])] for m in scores)
    assert set(by_source) == bad  # every bad record, and no valid one
    assert all(m["source_topic"] == fault_settings.topic_readings for m in letters)
    assert all(m["error"]["type"] and m["error"]["message"] for m in letters)
    # the corpus's records come back with the reason the decoder gives them
    for (name, _, error_type, field, _), at in zip(HOSTILE, bad_at, strict=False):
        letter = by_source[at][0]
        assert (letter["error"]["type"], letter["error"]["field"]) == (error_type, field), name
    big = [m for m in letters if m.get("truncated")]
    assert big, "the 1 MB payload's dead letter is cut, not refused by the broker"
    assert any(m.get("key_b64") for m in letters)  # the non-UTF-8 key, kept byte for byte
    assert worker.running
