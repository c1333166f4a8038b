"""Dead letters keep the original bytes (text or base64), the reason, the origin."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from schema_strategies import PROPERTY

from schemas import MAX_KEPT_BYTES, DeadLetter, DeadLetterError, InvalidMessage, decode_reading

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ERROR = DeadLetterError(type="decode", message="not valid JSON")


@PROPERTY
@given(key=st.none() | st.binary(max_size=64), value=st.none() | st.binary(max_size=512))
def test_any_record_round_trips(key: bytes | None, value: bytes | None) -> None:
    letter = DeadLetter.from_raw("meter-readings", 3, 1882, key, value, ERROR, NOW)
    assert letter.original_value() == value
    assert letter.value_size == (None if value is None else len(value))
    assert not letter.truncated
    again = DeadLetter.model_validate_json(letter.model_dump_json())
    assert again == letter
    stored_key = again.key.encode() if again.key is not None else None
    if again.key_b64 is not None:
        stored_key = base64.b64decode(again.key_b64)
    assert stored_key == key


@PROPERTY
@given(text=st.text(max_size=200))
def test_utf8_payloads_are_kept_as_text(text: str) -> None:
    letter = DeadLetter.from_raw("t", 0, 0, text.encode(), text.encode(), ERROR, NOW)
    assert (letter.key, letter.value, letter.key_b64, letter.value_b64) == (text, text, None, None)


def test_binary_payloads_are_kept_as_base64() -> None:
    letter = DeadLetter.from_raw("t", 0, 0, b"\xff", b"\x00\xff\xfe", ERROR, NOW)
    assert (letter.key, letter.key_b64) == (None, "/w==")
    assert (letter.value, letter.value_b64) == (None, "AP/+")


def test_a_tombstone_has_neither_value_form() -> None:
    letter = DeadLetter.from_raw("t", 0, 0, None, None, ERROR, NOW)
    assert (letter.value, letter.value_b64, letter.value_size) == (None, None, None)


@pytest.mark.parametrize(
    "payload",
    [b"x" * (MAX_KEPT_BYTES + 5), "é".encode() * MAX_KEPT_BYTES, b"\xff" * (MAX_KEPT_BYTES + 1)],
)
def test_oversized_payloads_are_cut_and_marked(payload: bytes) -> None:
    letter = DeadLetter.from_raw("t", 0, 0, None, payload, ERROR, NOW)
    kept = letter.original_value()
    assert kept is not None
    assert letter.truncated
    assert letter.value_size == len(payload)
    assert len(kept) <= MAX_KEPT_BYTES
    assert payload.startswith(kept)
    assert len(kept) >= MAX_KEPT_BYTES - 3  # at most a split character is dropped


def test_from_an_invalid_message() -> None:
    raw = b'{"meter_id": "MAC000002", "ts": "2013-03-01T00:30:00Z", "kwh": -1}'
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(raw)
    letter = DeadLetter.from_raw("meter-readings", 3, 1882, b"MAC000002", raw, caught.value, NOW)
    assert letter.error == DeadLetterError(
        type="validation", message="kwh: must be >= 0", field="kwh"
    )
    assert letter.value == raw.decode()
    assert letter.key == "MAC000002"


@pytest.mark.parametrize(
    "fields",
    [
        {"value": "a", "value_b64": "YQ=="},
        {"key": "a", "key_b64": "YQ=="},
        {"partition": -1},
        {"offset": 1.5},
        {"source_topic": ""},
        {"received_at": "2026-11-22T10:00:00"},
    ],
)
def test_inconsistent_dead_letters_are_refused(fields: dict[str, object]) -> None:
    base = {
        "source_topic": "t",
        "partition": 0,
        "offset": 0,
        "error": {"type": "decode", "message": "m"},
        "received_at": "2026-11-22T10:00:00Z",
    }
    with pytest.raises(ValidationError):
        DeadLetter.model_validate({**base, **fields})


def test_reasons_beyond_invalid_input() -> None:
    """A reading for a day that is already final is dead-lettered as too_late."""
    error = DeadLetterError(type="too_late", message="ts: day is final", field="ts")
    assert DeadLetter.from_raw("t", 0, 0, None, b"{}", error, NOW).error.type == "too_late"
    with pytest.raises(ValidationError):
        DeadLetterError.model_validate({"type": "oops", "message": "m"})
