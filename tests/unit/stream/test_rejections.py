"""Remembered rejections: the same words as deciding again, never a moving rule."""

from __future__ import annotations

import pytest

from bench.bad_messages import BAD
from schemas import InvalidMessage, decode_reading
from stream.grouping import group_records
from stream.records import RawRecord
from stream.rejections import Rejections

FUTURE = b'{"meter_id": "MAC000001", "ts": "2999-03-01T00:30:00Z", "kwh": 0.2}'


def _error(raw: bytes) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(raw)
    return caught.value


def test_a_flood_gets_the_words_of_a_first_rejection() -> None:
    records = [RawRecord("t", 0, n, b"BAD", BAD[n % len(BAD)]) for n in range(3 * len(BAD))]
    grouped = group_records("meter", records, "UTC", 7200, 0)
    assert [r.offset for r, _ in grouped.invalid] == list(range(len(records)))
    for record, error in grouped.invalid:
        expected = _error(record.value or b"")
        assert (error.type, error.message, error.field, error.rule) == (
            expected.type,
            expected.message,
            expected.field,
            expected.rule,
        )
        assert error.__traceback__ is None and error.__cause__ is None


def test_a_rejection_is_remembered_without_its_traceback() -> None:
    rejections = Rejections()
    raw = BAD[3]
    kept = rejections.remember(raw, _error(raw))
    assert rejections.get(raw) is kept
    assert (kept.__traceback__, kept.__cause__, kept.__context__) == (None, None, None)
    assert rejections.get(BAD[4]) is None
    assert rejections.get(None) is None


def test_a_timestamp_too_far_ahead_is_not_remembered() -> None:
    """Its bound moves with the clock: the same bytes may pass later."""
    rejections = Rejections()
    error = _error(FUTURE)
    assert error.rule == "far_future"
    rejections.remember(FUTURE, error)
    assert rejections.get(FUTURE) is None


def test_memory_is_bounded() -> None:
    rejections = Rejections(max_bytes=200, max_entries=1000)
    payloads = [BAD[3].replace(b"MAC000001", b"MAC%06d" % n) for n in range(10)]
    for raw in payloads:
        rejections.remember(raw, _error(raw))
    assert sum(rejections.get(raw) is not None for raw in payloads) <= 200 // len(payloads[0])
    assert rejections.get(payloads[-1]) is not None
