"""Bytes from Kafka -> validated input messages: the hot path of every worker.

Each decoder returns valid messages or raises
:class:`~schemas.errors.InvalidMessage` (type ``too_large``, ``decode`` or
``validation``), which the worker turns into a dead letter. Nothing else
escapes for bad input: not UTF-8, not JSON, NaN/Infinity, deep nesting, a
top level that is not an object, repeated keys, an oversized payload.

Speed (``python -m bench.decode``): a single message goes through
``model_validate_json``, where pydantic-core parses and validates in one
pass; that beat ``json.loads`` or ``orjson.loads`` followed by
``model_validate``. A bulk message is parsed by orjson, its meter id copied
into each reading, and the readings validated as :class:`MeterReading` in one
call: the rules stay the model's, and a bad reading is named by its index.
Repeated keys are screened for by counting bytes, and only a suspect
message is re-parsed (:mod:`schemas._duplicates`).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import orjson
from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import from_json

from schemas._common import SCHEMA_VERSION, EntityId, Message, SchemaVersion
from schemas._duplicates import (
    first_repeated_key,
    least_quotes,
    quoted_names,
    screen,
    string_fields,
)
from schemas._fast import fast_reading
from schemas.errors import InvalidMessage
from schemas.inputs import MAX_BATCH_READINGS, MeterReading, MeterReadingBatch, TicketSale

__all__ = [
    "MAX_BATCH_PAYLOAD_BYTES",
    "MAX_PAYLOAD_BYTES",
    "ItemError",
    "decode_meter_items",
    "decode_meter_message",
    "decode_reading",
    "decode_reading_batch",
    "decode_sale",
    "fast_reading",
]

MAX_PAYLOAD_BYTES: Final = 64 * 1024
"""Largest single message accepted; a real one is about 100 bytes."""

MAX_BATCH_PAYLOAD_BYTES: Final = 192 * 1024
"""Largest bulk message: 1000 readings of about 110 bytes, with room to spare."""

_READING_FIELDS: Final = frozenset(MeterReading.model_fields)
_SALE_FIELDS: Final = frozenset(TicketSale.model_fields)
_BATCH_FIELDS: Final = frozenset(MeterReadingBatch.model_fields)
_QUOTED: Final = quoted_names(_READING_FIELDS | _SALE_FIELDS | _BATCH_FIELDS)
# A flat message may hold each known key once.
_READING_ALLOWED: Final = tuple((_QUOTED[name], 1) for name in _READING_FIELDS)
_SALE_ALLOWED: Final = tuple((_QUOTED[name], 1) for name in _SALE_FIELDS)
_READING_STRINGS: Final = string_fields(MeterReading)
_SALE_STRINGS: Final = string_fields(TicketSale)

_READINGS: Final = TypeAdapter(list[MeterReading])


class ItemError(NamedTuple):
    """One invalid reading of a bulk message: its position, its JSON (with the
    message's meter id, so it can be fixed and resent as a single reading)."""

    position: int
    value: bytes
    error: InvalidMessage


class _BatchEnvelope(Message):
    """:class:`MeterReadingBatch` with its readings left unchecked: they are
    validated afterwards as :class:`MeterReading`, all in one call."""

    meter_id: EntityId
    readings: list[Any] = Field(min_length=1, max_length=MAX_BATCH_READINGS)
    schema_version: SchemaVersion = SCHEMA_VERSION


# --- the decoders -------------------------------------------------------------


def decode_reading(raw: bytes | None) -> MeterReading:
    """One ``meter-readings`` message in the contract's single-reading form."""
    if raw is None or len(raw) > MAX_PAYLOAD_BYTES:  # inline: this runs per message
        raise _unsized(raw, MAX_PAYLOAD_BYTES)
    data = raw
    try:
        reading = MeterReading.model_validate_json(data)
    except ValidationError as exc:
        raise _translate(data, exc) from exc
    if data.count(b'"') != least_quotes(reading, _READING_STRINGS) and screen(
        data, _READING_ALLOWED
    ):
        _reject_repeated(data, _READING_FIELDS)
    return reading


def decode_sale(raw: bytes | None) -> TicketSale:
    """One ``ticket-sales`` message."""
    if raw is None or len(raw) > MAX_PAYLOAD_BYTES:
        raise _unsized(raw, MAX_PAYLOAD_BYTES)
    data = raw
    try:
        sale = TicketSale.model_validate_json(data)
    except ValidationError as exc:
        raise _translate(data, exc) from exc
    if data.count(b'"') != least_quotes(sale, _SALE_STRINGS) and screen(data, _SALE_ALLOWED):
        _reject_repeated(data, _SALE_FIELDS)
    return sale


def decode_reading_batch(raw: bytes | None) -> list[MeterReading]:
    """A bulk ``{"meter_id": ..., "readings": [...]}`` message, as single readings.

    A bad reading is reported with its index: ``readings.3.kwh: must be >= 0``.
    """
    data = _sized(raw, MAX_BATCH_PAYLOAD_BYTES)
    return _batch(data, _parse(data))


def decode_meter_message(raw: bytes | None) -> list[MeterReading]:
    """Either form on ``meter-readings``: a single reading or a bulk message.

    A JSON object with a ``readings`` field is a bulk message; anything else
    is decoded (and reported, when invalid) as a single reading.
    """
    data = _sized(raw, MAX_BATCH_PAYLOAD_BYTES)
    if b'"readings"' in data:
        try:
            parsed = _parse(data)
        except InvalidMessage:
            parsed = None  # not JSON: the single-reading decoder words the error
        if isinstance(parsed, dict) and "readings" in parsed:
            return _batch(data, parsed)
    return [decode_reading(data)]


def decode_meter_items(raw: bytes | None) -> tuple[list[MeterReading], list[ItemError]]:
    """Either form, with a bulk message's bad readings reported one by one.

    What the worker uses: a bulk message whose envelope is invalid (not JSON,
    no meter id, too many readings, a repeated key) raises like
    :func:`decode_meter_message`; otherwise its valid readings are returned
    and each invalid one comes back as an :class:`ItemError`, so one bad
    reading does not cost the other 999.
    """
    data = _sized(raw, MAX_BATCH_PAYLOAD_BYTES)
    if b'"readings"' not in data:
        return [decode_reading(data)], []
    try:
        parsed = _parse(data)
    except InvalidMessage:
        parsed = None
    if not (isinstance(parsed, dict) and "readings" in parsed):
        return [decode_reading(data)], []
    try:
        return _batch(data, parsed), []
    except InvalidMessage as whole:
        if whole.field is None or not whole.field.startswith("readings."):
            raise
    # a reading is invalid (the envelope is fine): validate them one at a time
    readings: list[MeterReading] = []
    errors: list[ItemError] = []
    for index, item in enumerate(parsed["readings"]):
        try:
            readings.append(MeterReading.model_validate(item))
        except ValidationError as exc:
            invalid = InvalidMessage.from_validation_error(exc, prefix=("readings", index))
            errors.append(ItemError(index, orjson.dumps(item), invalid))
    return readings, errors


# --- helpers ------------------------------------------------------------------


def _sized(raw: bytes | None, limit: int) -> bytes:
    if raw is None or len(raw) > limit:
        raise _unsized(raw, limit)
    return raw


def _unsized(raw: bytes | None, limit: int) -> InvalidMessage:
    if raw is None:
        # A Kafka record with a null value (a tombstone) carries no message.
        return InvalidMessage("decode", "empty record (null value)", rule="null_value")
    return InvalidMessage(
        "too_large", f"payload is {len(raw)} bytes; at most {limit} are accepted", rule="too_large"
    )


def _utf8_error(data: bytes) -> InvalidMessage | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return InvalidMessage(
            "decode", f"not valid UTF-8 ({err.reason} at byte {err.start})", rule="utf8"
        )
    return None


def _translate(data: bytes, exc: ValidationError) -> InvalidMessage:
    invalid = InvalidMessage.from_validation_error(exc)
    if invalid.rule == "json_invalid":
        # pydantic words bad UTF-8 as "invalid unicode code point"; say it plainly.
        return _utf8_error(data) or invalid
    return invalid


def _parse(data: bytes) -> Any:
    """orjson (fastest); when it refuses, pydantic's parser, which the models use.

    They differ only at the edges: NaN/Infinity literals and integers beyond
    64 bits, which pydantic's parser reads so that validation can name the
    field ("readings.3.kwh: must be a finite number").
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return from_json(data)
    except ValueError as exc:
        raise _utf8_error(data) or InvalidMessage(
            "decode", f"not valid JSON: {exc}", rule="json_invalid"
        ) from exc


def _batch(data: bytes, parsed: Any) -> list[MeterReading]:
    if not isinstance(parsed, dict):
        raise InvalidMessage("decode", "must be a JSON object", rule="model_type")
    try:
        envelope = _BatchEnvelope.model_validate(parsed)
    except ValidationError as exc:
        raise InvalidMessage.from_validation_error(exc) from exc
    items: list[Any] = parsed["readings"]
    objects = [item for item in items if type(item) is dict]
    allowed = (
        (_QUOTED[name], (name in parsed) + sum(name in item for item in objects))
        for name in _BATCH_FIELDS | _READING_FIELDS
    )
    if screen(data, allowed):
        _reject_repeated(data, _BATCH_FIELDS, items_key="readings")
    for item in objects:
        # The bulk form means "this meter" for every reading; a meter_id
        # inside an element is not part of the form and is overridden.
        item["meter_id"] = envelope.meter_id
    try:
        return _READINGS.validate_python(items)
    except ValidationError as exc:
        raise InvalidMessage.from_validation_error(exc, prefix=("readings",)) from exc


def _reject_repeated(data: bytes, fields: frozenset[str], *, items_key: str | None = None) -> None:
    try:
        path = first_repeated_key(data, fields, items_key=items_key, item_fields=_READING_FIELDS)
    except (ValueError, RecursionError) as exc:
        raise InvalidMessage("decode", "not valid JSON: nested too deeply", rule="depth") from exc
    if path is not None:
        raise InvalidMessage(
            "validation",
            f"{path}: must appear only once (a repeated key is ambiguous)",
            path,
            rule="duplicate_key",
        )
