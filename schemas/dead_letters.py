"""``dead-letters``: every rejected input, with the reason and the original bytes.

The payload is kept as text when it is valid UTF-8 (readable in any Kafka
tool) and as base64 otherwise, so a dead letter can always be replayed byte
for byte. The key gets the same treatment (``key`` / ``key_b64``); the
contract names only ``key``, and ``key_b64`` is an added optional field.

Both are cut to :data:`MAX_KEPT_BYTES`: an oversized input (the reason it is
here) would otherwise make a dead letter larger than the broker accepts, and
the worker could not record the rejection at all. ``truncated`` and
``value_size`` say when that happened.

The worker writes a dead letter's bytes with
:func:`schemas.dead_letter_json.dead_letter_json`: the same bytes as
``DeadLetter.from_raw(...).model_dump_json()``, without the model.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas._common import SCHEMA_VERSION, Message, SchemaVersion
from schemas.errors import ErrorType, InvalidMessage

__all__ = [
    "MAX_KEPT_BYTES",
    "DeadLetter",
    "DeadLetterError",
    "DeadLetterType",
    "kept_text",
    "text_or_base64",
]

MAX_KEPT_BYTES = 256 * 1024
"""Key and value bytes kept in a dead letter; above every accepted input size
(schemas.decode), so only a payload rejected as too large is ever cut. As
base64 this stays well under Kafka's default 1 MB message limit."""

Offset = Annotated[int, Field(strict=True, ge=0)]

DeadLetterType = ErrorType | Literal["too_late"]
"""Why a record is here: an :class:`~schemas.errors.InvalidMessage` type, or
``too_late`` (a reading for a day that is final: past the grace period)."""


class DeadLetterError(Message):
    """Why the input was rejected.

    ``{"type": "validation", "message": "kwh: must be >= 0", "field": "kwh"}``
    """

    type: DeadLetterType
    message: str = Field(strict=True)
    field: str | None = Field(default=None, strict=True)

    @classmethod
    def from_invalid(cls, exc: InvalidMessage) -> DeadLetterError:
        return cls(type=exc.type, message=exc.message, field=exc.field)


class DeadLetter(Message):
    """A rejected input, where it came from, and why."""

    source_topic: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=249)]
    partition: Offset
    offset: Offset
    key: str | None = Field(default=None, description="The record key, when it is UTF-8.")
    key_b64: str | None = Field(default=None, description="The record key, base64, when not UTF-8.")
    value: str | None = Field(default=None, description="The payload, when it is UTF-8.")
    value_b64: str | None = Field(
        default=None,
        description="The payload, base64, when it is not UTF-8. "
        "Neither value nor value_b64 is set when the record value was null.",
    )
    value_size: int | None = Field(
        default=None, strict=True, ge=0, description="Size of the original payload, bytes."
    )
    truncated: bool = Field(
        default=False, strict=True, description="Key or payload was cut to MAX_KEPT_BYTES."
    )
    error: DeadLetterError
    received_at: AwareDatetime
    schema_version: SchemaVersion = SCHEMA_VERSION

    @model_validator(mode="after")
    def _one_form_each(self) -> DeadLetter:
        if self.key is not None and self.key_b64 is not None:
            raise PydanticCustomError("one_form", "set at most one of key and key_b64")
        if self.value is not None and self.value_b64 is not None:
            raise PydanticCustomError("one_form", "set at most one of value and value_b64")
        return self

    @classmethod
    def from_raw(  # noqa: PLR0917 - the agreed signature; the record's coordinates in order
        cls,
        source_topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        error: InvalidMessage | DeadLetterError,
        received_at: datetime,
        *,
        max_bytes: int = MAX_KEPT_BYTES,
    ) -> DeadLetter:
        """A dead letter for the Kafka record at ``source_topic``/``partition``/``offset``."""
        key_text, key_b64, key_cut = _text_or_base64(key, max_bytes)
        value_text, value_b64, value_cut = _text_or_base64(value, max_bytes)
        if isinstance(error, InvalidMessage):
            error = DeadLetterError.from_invalid(error)
        return cls(
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            key=key_text,
            key_b64=key_b64,
            value=value_text,
            value_b64=value_b64,
            value_size=None if value is None else len(value),
            truncated=key_cut or value_cut,
            error=error,
            received_at=received_at,
        )

    def original_value(self) -> bytes | None:
        """The payload bytes as received (the first ``max_bytes`` if ``truncated``)."""
        if self.value is not None:
            return self.value.encode("utf-8")
        if self.value_b64 is not None:
            return base64.b64decode(self.value_b64, validate=True)
        return None


def kept_text(data: bytes | None, max_bytes: int = MAX_KEPT_BYTES) -> str | None:
    """The text a dead letter keeps of ``data`` (its ``key``/``value``), or None."""
    return _text_or_base64(data, max_bytes)[0]


def text_or_base64(data: bytes | None, limit: int) -> tuple[str | None, str | None, bool]:
    """How a dead letter keeps ``data``: (text, None, cut) or (None, base64, cut)."""
    return _text_or_base64(data, limit)


def _text_or_base64(data: bytes | None, limit: int) -> tuple[str | None, str | None, bool]:
    """(text, None, cut) when ``data`` is UTF-8, else (None, base64, cut)."""
    if data is None:
        return None, None, False
    cut = len(data) > limit
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None, base64.b64encode(data[:limit]).decode("ascii"), cut
    # The whole is valid UTF-8, so only the last character can be split by
    # the cut; "ignore" drops just that partial character.
    return data[:limit].decode("utf-8", "ignore"), None, cut
