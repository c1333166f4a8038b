"""``dead_letter_json`` writes exactly the bytes the model writes, without the model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from schema_strategies import PROPERTY

from schemas import DeadLetter, DeadLetterError
from schemas.dead_letter_json import dead_letter_json, received_at_json
from schemas.dead_letters import kept_text

_INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_PAYLOADS = st.none() | st.binary(max_size=300) | st.text(max_size=200).map(str.encode)
_TYPES = st.sampled_from(["decode", "validation", "too_large", "too_late"])


def _model_bytes(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    kind: str,
    message: str,
    field: str | None,
    at: datetime,
    max_bytes: int,
) -> bytes:
    error = DeadLetterError(type=kind, message=message, field=field)  # type: ignore[arg-type]
    letter = DeadLetter.from_raw(
        topic, partition, offset, key, value, error, at, max_bytes=max_bytes
    )
    return letter.model_dump_json().encode()


@PROPERTY
@given(
    topic=st.text(min_size=1, max_size=249),
    partition=st.integers(0, 2**31 - 1),
    offset=st.integers(0, 2**63 - 1),
    key=_PAYLOADS,
    value=_PAYLOADS,
    kind=_TYPES,
    message=st.text(max_size=200),
    field=st.none() | st.text(max_size=40),
    at=_INSTANTS,
    max_bytes=st.sampled_from([8, 64, 256 * 1024]),
)
def test_the_same_bytes_as_the_model(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    kind: str,
    message: str,
    field: str | None,
    at: datetime,
    max_bytes: int,
) -> None:
    fast = dead_letter_json(
        topic,
        partition,
        offset,
        key,
        value,
        kind,
        message,
        field,
        received_at_json(at),
        max_bytes=max_bytes,
    )
    expected = _model_bytes(
        topic, partition, offset, key, value, kind, message, field, at, max_bytes
    )
    assert fast == expected
    assert DeadLetter.model_validate_json(fast).received_at == at


def test_a_whole_second_and_a_fraction_are_written_as_pydantic_does() -> None:
    assert received_at_json(datetime(2026, 11, 22, 10, 0, tzinfo=UTC)) == "2026-11-22T10:00:00Z"
    at = datetime(2026, 11, 22, 10, 0, 0, 500, tzinfo=UTC)
    assert received_at_json(at) == "2026-11-22T10:00:00.000500Z"


def test_the_kept_text_of_a_key() -> None:
    assert kept_text(b"MAC000002") == "MAC000002"
    assert kept_text(b"\xff") is None
    assert kept_text(None) is None


@pytest.mark.parametrize(
    ("partition", "offset", "topic", "kind"),
    [(-1, 0, "t", "decode"), (0, -1, "t", "decode"), (0, 0, "", "decode"), (0, 0, "t", "oops")],
)
def test_what_the_model_refuses_is_refused(
    partition: int, offset: int, topic: str, kind: str
) -> None:
    with pytest.raises(ValidationError):
        dead_letter_json(
            topic, partition, offset, None, b"x", kind, "m", None, "2026-11-22T10:00:00Z"
        )


def test_remembered_pieces_give_the_same_bytes() -> None:
    """A flood repeats payloads: the second and later letters reuse what the first wrote."""
    error = DeadLetterError(type="validation", message="kwh: must be >= 0", field="kwh")
    value = b'{"meter_id": "M", "ts": "2013-03-01T00:30:00Z", "kwh": -1}'
    for n, topic in enumerate(["meter-readings", "other", "meter-readings"] * 3):
        at = datetime(2026, 11, 22, 10, 0, n // 4, tzinfo=UTC)
        fast = dead_letter_json(
            topic, n % 2, 1000 + n, b"M", value, *error.model_dump().values(), received_at_json(at)
        )
        model = DeadLetter.from_raw(topic, n % 2, 1000 + n, b"M", value, error, at)
        assert fast == model.model_dump_json().encode()
