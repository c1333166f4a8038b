"""A dead letter's bytes without the model: what the worker writes in a flood.

``dead_letter_json(...)`` returns exactly ``DeadLetter.from_raw(...).model_dump_json()``
(the unit test compares them on generated records). Building and dumping the
model cost ~30 µs a rejected record, a third of its cost in a flood of bad
input (docs/RELIABILITY.md); this costs ~1 µs.

How: pydantic writes compact JSON in the model's field order, as orjson does
(the same escapes for every code point, checked by the test), so the message
is three pieces of compact JSON joined around the two integers that change
from record to record: the topic's head, the record's ``partition`` and
``offset``, the middle (key, value, error: the same for every repeat of a bad
payload, so remembered) and the tail (``received_at``, one per batch).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, get_args

import orjson
from pydantic import AwareDatetime, TypeAdapter

from schemas._common import SCHEMA_VERSION
from schemas.dead_letters import (
    MAX_KEPT_BYTES,
    DeadLetter,
    DeadLetterError,
    DeadLetterType,
    text_or_base64,
)

__all__ = ["DeadLetterWriter", "dead_letter_json", "received_at_json"]

_ERROR_TYPES: Final = frozenset(t for part in get_args(DeadLetterType) for t in get_args(part))
_MAX_TOPIC: Final = 249
_INSTANT: Final = TypeAdapter(AwareDatetime)
_MIDDLES_KEPT_BYTES: Final = 8 << 20

_Middle = tuple[bytes | None, bytes | None, str, str, str | None, int]


class _Pieces:
    """The remembered pieces: heads by topic, middles by record, the last tail."""

    def __init__(self) -> None:
        self.heads: dict[str, bytes] = {}
        self.middles: dict[_Middle, bytes] = {}
        self.middle_bytes = 0
        self.tail: tuple[str, bytes] = ("", b"")

    def head(self, source_topic: str) -> bytes:
        if len(self.heads) > 1000:
            self.heads.clear()
        head = b'{"source_topic":%b,"partition":' % orjson.dumps(source_topic)
        self.heads[source_topic] = head
        return head

    def middle(self, parts: _Middle) -> bytes:
        key, value, error_type, message, field, max_bytes = parts
        key_text, key_b64, key_cut = text_or_base64(key, max_bytes)
        value_text, value_b64, value_cut = text_or_base64(value, max_bytes)
        # the model's field order, which model_dump_json keeps; without the braces
        middle = orjson.dumps(
            {
                "key": key_text,
                "key_b64": key_b64,
                "value": value_text,
                "value_b64": value_b64,
                "value_size": None if value is None else len(value),
                "truncated": key_cut or value_cut,
                "error": {"type": error_type, "message": message, "field": field},
            }
        )[1:-1]
        if self.middle_bytes + len(middle) > _MIDDLES_KEPT_BYTES:
            self.middles.clear()  # a new flood: start over
            self.middle_bytes = 0
        self.middles[parts] = middle
        self.middle_bytes += len(middle)
        return middle

    def new_tail(self, received_at: str) -> bytes:
        tail = b',"received_at":%b,"schema_version":%d}' % (
            orjson.dumps(received_at),
            SCHEMA_VERSION,
        )
        self.tail = (received_at, tail)
        return tail


_pieces: Final = _Pieces()


def received_at_json(at: datetime) -> str:
    """``at`` as a dead letter's ``received_at`` is written (pydantic's form: ``...Z``)."""
    return _INSTANT.dump_json(at).decode()[1:-1]


def dead_letter_json(  # noqa: PLR0917 - from_raw's arguments, the error's parts
    source_topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    error_type: str,
    message: str,
    field: str | None,
    received_at: str,
    *,
    max_bytes: int = MAX_KEPT_BYTES,
) -> bytes:
    """``DeadLetter.from_raw(...).model_dump_json()`` as bytes, without the model.

    ``received_at`` is :func:`received_at_json` of the instant (formatting it
    costs more than the rest: once per batch). What the model would refuse
    goes through the model, which raises.
    """
    if not (
        type(partition) is int
        and partition >= 0
        and type(offset) is int
        and offset >= 0
        and type(source_topic) is str
        and 0 < len(source_topic) <= _MAX_TOPIC
        and error_type in _ERROR_TYPES
        and type(message) is str
        and (field is None or type(field) is str)
    ):
        error = DeadLetterError(type=error_type, message=message, field=field)
        at = _INSTANT.validate_json(f'"{received_at}"')
        letter = DeadLetter.from_raw(
            source_topic, partition, offset, key, value, error, at, max_bytes=max_bytes
        )
        return letter.model_dump_json().encode()
    pieces = _pieces
    head = pieces.heads.get(source_topic) or pieces.head(source_topic)
    parts: _Middle = (key, value, error_type, message, field, max_bytes)
    middle = pieces.middles.get(parts) or pieces.middle(parts)
    last_at, tail = pieces.tail
    if last_at != received_at:
        tail = pieces.new_tail(received_at)
    return b'%b%d,"offset":%d,%b%b' % (head, partition, offset, middle, tail)


class DeadLetterWriter:
    """:func:`dead_letter_json` for the many records of one batch: the topic's
    head and the batch's tail are looked up once, a middle once per distinct
    (key, value, error) of the batch (a flood repeats itself)."""

    def __init__(self, received_at: str) -> None:
        self.received_at = received_at
        self._pieces: dict[tuple[object, ...], tuple[bytes, bytes, bytes]] = {}
        self._bytes = 0

    def __call__(  # noqa: PLR0917 - dead_letter_json's arguments
        self,
        source_topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        error_type: str,
        message: str,
        field: str | None,
    ) -> bytes:
        if type(partition) is not int or type(offset) is not int or partition < 0 or offset < 0:
            return dead_letter_json(
                source_topic, partition, offset, key, value, error_type, message, field,
                self.received_at,
            )  # fmt: skip
        parts = (source_topic, key, value, error_type, message, field)
        pieces = self._pieces.get(parts)
        if pieces is None:
            # the whole letter once, through every check: its head and tail around
            # the partition and offset are then the same for every repeat
            whole = dead_letter_json(
                source_topic, 0, 0, key, value, error_type, message, field, self.received_at
            )
            head, _, rest = whole.partition(b'"partition":0,"offset":0,')
            pieces = (head + b'"partition":', b',"offset":', b"," + rest)
            if self._bytes + len(whole) > _MIDDLES_KEPT_BYTES:
                self._pieces.clear()  # many large distinct rejections: start over
                self._bytes = 0
            self._pieces[parts] = pieces
            self._bytes += len(whole)
        head, between, tail = pieces
        return b"%b%d%b%d%b" % (head, partition, between, offset, tail)
