"""The invalid messages the flood benchmarks send: the kinds a broken producer
or an attacker sends (not JSON, truncated JSON, NaN, negative or huge numbers,
wrong types, unaligned and naive timestamps, repeated keys, deep nesting, a
10 kB id), each rejected by the worker with its own reason.
"""

from __future__ import annotations

__all__ = ["BAD"]

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
