"""The fast path accepts only what ``decode_reading`` accepts, with the same values.

A differential test: every payload goes through both. Where the fast path
returns fields, the pydantic path must accept the payload and give exactly
those fields (types, the sign of zero and the UTC offset included); where it
returns None the worker asks the pydantic path, so only that direction is a
correctness question. Plain valid readings must take the fast path, or it
would be dead code.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import orjson
import pytest
from harness.hostile import HOSTILE, OK
from hypothesis import given, settings
from hypothesis import strategies as st
from schema_strategies import PROPERTY, as_dict, half_hour_starts, ids, readings

from schemas import InvalidMessage, MeterReading, decode_reading
from schemas.decode import fast_reading

DIFFERENTIAL = settings(PROPERTY, max_examples=600)


def same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return type(a) is type(b) and struct.pack("<d", a) == struct.pack("<d", b)


def check(raw: bytes | None) -> None:
    fast = fast_reading(raw)
    if fast is None:
        return
    meter_id, text, ts, kwh, temperature = fast
    try:
        reading = decode_reading(raw)
    except InvalidMessage as exc:  # pragma: no cover - the failure being tested for
        pytest.fail(f"fast path accepted {raw!r}, decode_reading rejects it: {exc}")
    assert meter_id == reading.meter_id
    assert type(meter_id) is str
    assert ts == reading.ts
    assert ts.utcoffset() == reading.ts.utcoffset()
    assert ts.isoformat() == reading.ts.isoformat()
    assert same_number(kwh, reading.kwh)
    assert same_number(temperature, reading.temperature_c)
    assert raw is not None and orjson.loads(raw)["ts"] == text


# --- payloads: valid, near-valid and broken pieces, serialised several ways -----

numbers = (
    st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(-1, 2_000_000)
    | st.integers(-(10**30), 10**30)
    | st.sampled_from([0, -0.0, 1e6, 1_000_000.0000001, -90, 60, 60.000001, 1e-320])
)
any_json = st.none() | st.booleans() | numbers | st.text(max_size=20) | st.just([]) | st.just({})
texts = (
    half_hour_starts().map(lambda d: d.isoformat())
    | half_hour_starts().map(lambda d: d.isoformat().replace("+00:00", "Z"))
    | st.sampled_from(
        [
            "2013-03-01T00:30:00Z",
            "2013-03-01T00:30:00z",
            "2013-03-01 00:30:00Z",
            "2013-03-01T00:30:00.000Z",
            "2013-03-01T00:15:00Z",
            "2013-03-01T00:30:00",
            "2013-03-01T00:30:00+05:45",
            "1999-12-31T23:30:00Z",
            "2999-01-01T00:00:00Z",
            "2013-02-30T00:30:00Z",
            "2013-03-01T24:00:00Z",
            "٢٠١٣-03-01T00:30:00Z",
        ]
    )
    | st.text(max_size=30)
)
meter_ids = ids | st.sampled_from(["", "a" * 129, "MAC\x00", "MAC\x85", "kwh", "ts", "meter_id"])


def mostly(valid: st.SearchStrategy[Any], broken: st.SearchStrategy[Any]) -> Any:
    """Valid four times in five: most payloads are near the edge, not far off it."""
    return st.integers(0, 4).flatmap(lambda n: broken if n == 4 else valid)


FIELDS: list[tuple[str, Any]] = [
    ("meter_id", mostly(ids | st.sampled_from(["MAC000002", "m"]), meter_ids | any_json)),
    ("ts", mostly(texts, any_json)),
    ("kwh", mostly(st.floats(0, 1_000_000) | st.integers(0, 1_000_000), numbers | any_json)),
]
OPTIONAL: list[tuple[str, Any]] = [
    ("temperature_c", mostly(st.none() | st.floats(-90, 60) | st.integers(-90, 60), any_json)),
    ("schema_version", mostly(st.just(1), st.sampled_from([1.0, True, 2, "1", None, 0]))),
]


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    fields = [(name, draw(values)) for name, values in FIELDS if draw(st.integers(0, 19)) < 19]
    fields += [(name, draw(values)) for name, values in OPTIONAL if draw(st.booleans())]
    if draw(st.integers(0, 4)) == 4:  # an unknown field or a repeated known one
        name = draw(st.sampled_from(["extra", "meter_id", "ts", "kwh", "temperature_c"]))
        fields.insert(draw(st.integers(0, len(fields))), (name, draw(any_json)))
    fields = draw(st.permutations(fields))
    style = draw(st.sampled_from(["compact", "spaced", "ascii", "repr17", "indent"]))
    return _render(fields, style)


def _render(fields: list[tuple[str, Any]], style: str) -> bytes:
    def value(v: Any) -> str:
        if style == "repr17" and type(v) is float:
            return f"{v:.17g}" if "e" in f"{v:.17g}" or "." in f"{v:.17g}" else f"{v:.1f}"
        return json.dumps(v, ensure_ascii=style == "ascii")

    sep = ", " if style == "spaced" else ","
    colon = ": " if style == "spaced" else ":"
    body = sep.join(f"{json.dumps(k)}{colon}{value(v)}" for k, v in fields)
    text = "{\n  " + body + "\n}" if style == "indent" else "{" + body + "}"
    return text.encode("utf-8", "surrogatepass")


@DIFFERENTIAL
@given(payloads())
def test_generated_payloads(raw: bytes) -> None:
    check(raw)


@DIFFERENTIAL
@given(st.binary(max_size=200))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)


@DIFFERENTIAL
@given(payloads(), st.integers(0, 200), st.binary(min_size=1, max_size=3))
def test_payloads_with_bytes_changed(raw: bytes, at: int, junk: bytes) -> None:
    at = at % (len(raw) + 1)
    check(raw[:at] + junk + raw[at:])
    check(raw[:at] + junk + raw[at + len(junk) :])


@pytest.mark.parametrize("case", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_the_hostile_corpus_never_takes_the_fast_path(case: tuple[Any, ...]) -> None:
    assert fast_reading(case[1]) is None


@PROPERTY
@given(readings())
def test_plain_valid_readings_take_the_fast_path(reading: MeterReading) -> None:
    for raw in (OK, orjson.dumps(as_dict(reading)), reading.model_dump_json().encode()):
        if b"\\" in raw:
            continue  # an escape in an id: the pydantic path's to judge
        assert fast_reading(raw) is not None, raw
        check(raw)
