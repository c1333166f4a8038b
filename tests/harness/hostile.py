# ruff: noqa: E501 - the table reads best one case per line
"""The hostile-input corpus: readings broken every way a producer or an attacker can.

Each case is ``(id, payload, error type, field, rule)``: what the decoders must
raise (``tests/unit/schemas/test_schema_hostile_inputs.py``) and what a worker
must dead-letter with that reason (``tests/integration/reliability``).
"""

from __future__ import annotations

from schemas import MAX_PAYLOAD_BYTES

__all__ = ["HOSTILE", "NESTED", "OK", "reading"]

OK = b'{"meter_id": "MAC000002", "ts": "2013-03-01T00:30:00Z", "kwh": 0.219}'


def reading(**fields: str) -> bytes:
    """The valid reading above with some fields' raw JSON replaced."""
    body = {"meter_id": '"MAC000002"', "ts": '"2013-03-01T00:30:00Z"', "kwh": "0.219"}
    body.update(fields)
    return ("{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}").encode()


NESTED = b"[" * 5000 + b"]" * 5000
# fmt: off
# (id, payload, expected type, expected field, expected rule)
HOSTILE: list[tuple[str, bytes | None, str, str | None, str]] = [
    ("not json", b"MAC000002,2013-03-01T00:30:00Z,0.219", "decode", None, "json_invalid"),
    ("truncated json", OK[:-10], "decode", None, "json_invalid"),
    ("trailing garbage", OK + b" x", "decode", None, "json_invalid"),
    ("empty payload", b"", "decode", None, "json_invalid"),
    ("whitespace only", b"  \n ", "decode", None, "json_invalid"),
    ("null record", None, "decode", None, "null_value"),
    ("top-level array", b"[" + OK + b"]", "decode", None, "model_type"),
    ("top-level null", b"null", "decode", None, "model_type"),
    ("top-level string", b'"MAC000002"', "decode", None, "model_type"),
    ("top-level number", b"0.219", "decode", None, "model_type"),
    ("invalid utf-8", reading(meter_id='"MAC"').replace(b"MAC", b"MAC\xff\xfe"), "decode", None, "utf8"),
    ("utf-8 bom", b"\xef\xbb\xbf" + OK, "decode", None, "json_invalid"),
    ("lone surrogate escape", reading(meter_id='"\\ud800"'), "decode", None, "json_invalid"),
    ("deeply nested extra", reading(extra=NESTED.decode()), "decode", None, "json_invalid"),
    ("deeply nested value", reading(kwh=NESTED.decode()), "decode", None, "json_invalid"),
    ("1 MB payload", reading(pad='"' + "x" * 1_000_000 + '"'), "too_large", None, "too_large"),
    ("just over the limit", reading(pad='"' + "x" * MAX_PAYLOAD_BYTES + '"'), "too_large", None, "too_large"),
    ("kwh as string", reading(kwh='"0.219"'), "validation", "kwh", "float_type"),
    ("kwh as bool", reading(kwh="true"), "validation", "kwh", "float_type"),
    ("kwh as object", reading(kwh='{"value": 1}'), "validation", "kwh", "float_type"),
    ("kwh null", reading(kwh="null"), "validation", "kwh", "float_type"),
    ("kwh NaN", reading(kwh="NaN"), "validation", "kwh", "finite_number"),
    ("kwh Infinity", reading(kwh="Infinity"), "validation", "kwh", "finite_number"),
    ("kwh -Infinity", reading(kwh="-Infinity"), "validation", "kwh", "finite_number"),
    ("kwh overflow to inf", reading(kwh="1e400"), "validation", "kwh", "finite_number"),
    ("kwh negative", reading(kwh="-0.001"), "validation", "kwh", "greater_than_equal"),
    ("kwh huge", reading(kwh="1e308"), "validation", "kwh", "less_than_equal"),
    ("kwh huge integer", reading(kwh="1" + "0" * 40), "validation", "kwh", "less_than_equal"),
    ("meter_id number", reading(meter_id="2"), "validation", "meter_id", "string_type"),
    ("meter_id empty", reading(meter_id='""'), "validation", "meter_id", "string_too_short"),
    ("meter_id 10 kB", reading(meter_id='"' + "M" * 10_000 + '"'), "validation", "meter_id", "string_too_long"),
    ("meter_id control char", reading(meter_id='"MAC\\u0000002"'), "validation", "meter_id", "string_pattern_mismatch"),
    ("meter_id newline", reading(meter_id='"MAC\\n002"'), "validation", "meter_id", "string_pattern_mismatch"),
    ("meter_id missing", b'{"ts": "2013-03-01T00:30:00Z", "kwh": 1}', "validation", "meter_id", "missing"),
    ("ts unaligned minute", reading(ts='"2013-03-01T00:31:00Z"'), "validation", "ts", "half_hour"),
    ("ts unaligned second", reading(ts='"2013-03-01T00:30:01Z"'), "validation", "ts", "half_hour"),
    ("ts unaligned fraction", reading(ts='"2013-03-01T00:30:00.5Z"'), "validation", "ts", "half_hour"),
    ("ts offset off the grid", reading(ts='"2013-03-01T06:00:00+05:45"'), "validation", "ts", "half_hour"),
    ("ts naive", reading(ts='"2013-03-01T00:30:00"'), "validation", "ts", "offset_required"),
    ("ts date only", reading(ts='"2013-03-01"'), "validation", "ts", "rfc3339"),
    ("ts no seconds", reading(ts='"2013-03-01T00:30Z"'), "validation", "ts", "rfc3339"),
    ("ts unix number", reading(ts="1362097800"), "validation", "ts", "rfc3339"),
    ("ts unix text", reading(ts='"1362097800"'), "validation", "ts", "rfc3339"),
    ("ts basic offset", reading(ts='"2013-03-01T00:30:00+0100"'), "validation", "ts", "rfc3339"),
    ("ts impossible date", reading(ts='"2013-02-30T00:30:00Z"'), "validation", "ts", "rfc3339"),
    ("ts leap second", reading(ts='"2016-12-31T23:59:60Z"'), "validation", "ts", "half_hour"),
    ("ts hour 24", reading(ts='"2013-03-01T24:00:00Z"'), "validation", "ts", "rfc3339"),
    ("ts arabic digits", reading(ts='"٢٠١٣-03-01T00:30:00Z"'), "validation", "ts", "rfc3339"),
    ("ts ancient", reading(ts='"1999-12-31T23:30:00Z"'), "validation", "ts", "ancient"),
    ("ts epoch zero", reading(ts='"1970-01-01T00:00:00Z"'), "validation", "ts", "ancient"),
    ("ts far future", reading(ts='"2999-01-01T00:00:00Z"'), "validation", "ts", "far_future"),
    ("temperature NaN", reading(temperature_c="NaN"), "validation", "temperature_c", "finite_number"),
    ("temperature absurd", reading(temperature_c="1000"), "validation", "temperature_c", "less_than_equal"),
    ("schema_version 2", reading(schema_version="2"), "validation", "schema_version", "schema_version"),
    ("schema_version true", reading(schema_version="true"), "validation", "schema_version", "schema_version"),
    ("duplicate kwh, bad last", reading(kwh='1, "kwh": -1'), "validation", "kwh", "greater_than_equal"),
    ("duplicate kwh, bad first", reading(kwh='-1, "kwh": 1'), "validation", "kwh", "duplicate_key"),
    ("duplicate meter_id", reading(meter_id='"A", "meter_id": "B"'), "validation", "meter_id", "duplicate_key"),
    ("duplicate via \\u escape", reading(kwh='-1, "k\\u0077h": 1'), "validation", "kwh", "duplicate_key"),
]
# fmt: on
