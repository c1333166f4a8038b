"""Input messages: what producers write to ``meter-readings`` and ``ticket-sales``.

The rules follow ``shared/CONTRACT.md`` ("Input messages"); anything that
fails them goes to ``dead-letters``. Decoding from bytes lives in
:mod:`schemas.decode`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from schemas._common import SCHEMA_VERSION, EntityId, Message, SchemaVersion
from schemas._timestamps import HalfHourStart, Timestamp

__all__ = [
    "MAX_BATCH_READINGS",
    "BatchReading",
    "MeterReading",
    "MeterReadingBatch",
    "TicketSale",
]

MAX_BATCH_READINGS = 1000

Kwh = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1_000_000)]
TemperatureC = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-90, le=60)]


class MeterReading(Message):
    """Energy used by one meter in one half hour.

    ``{"meter_id": "MAC000002", "ts": "2013-03-01T00:30:00Z", "kwh": 0.219}``
    """

    meter_id: EntityId
    ts: HalfHourStart = Field(description="Start of the half hour, RFC 3339 with offset.")
    kwh: Kwh = Field(description="Energy used in that half hour, kWh.")
    temperature_c: TemperatureC | None = Field(
        default=None, description="Outside temperature, a model condition."
    )
    # Optional on input: the contract's examples omit it.
    schema_version: SchemaVersion = SCHEMA_VERSION


class TicketSale(Message):
    """One sale of tickets for an event; ``amount`` is summed per half hour."""

    sale_id: EntityId = Field(description="Unique; a sale delivered twice counts once.")
    event_id: EntityId = Field(description="The entity whose day of sales is modelled.")
    ts: Timestamp = Field(description="Instant of the sale, RFC 3339 with offset.")
    quantity: int = Field(strict=True, ge=1, le=1_000_000)
    amount: float = Field(strict=True, allow_inf_nan=False, ge=0, le=1_000_000_000)
    currency: Annotated[str, StringConstraints(strict=True, max_length=16)] | None = None
    channel: Annotated[str, StringConstraints(strict=True, max_length=64)] | None = None
    schema_version: SchemaVersion = SCHEMA_VERSION


class BatchReading(Message):
    """One reading inside a :class:`MeterReadingBatch` (the meter id is outside)."""

    ts: HalfHourStart
    kwh: Kwh
    temperature_c: TemperatureC | None = None
    schema_version: SchemaVersion = SCHEMA_VERSION


class MeterReadingBatch(Message):
    """Optional bulk form on ``meter-readings``: many readings of one meter.

    ``{"meter_id": "MAC000002", "readings": [{"ts": ..., "kwh": ...}, ...]}``
    means exactly the same as one :class:`MeterReading` per element; it only
    saves per-message overhead. The decoder validates each element as a
    :class:`MeterReading` (so the rules are the same) and reports a bad one
    with its index, e.g. ``readings.3.kwh``.
    """

    meter_id: EntityId
    readings: list[BatchReading] = Field(min_length=1, max_length=MAX_BATCH_READINGS)
    schema_version: SchemaVersion = SCHEMA_VERSION

    def to_readings(self) -> list[MeterReading]:
        """The equivalent single readings, in message order."""
        return [
            MeterReading(
                meter_id=self.meter_id,
                ts=item.ts,
                kwh=item.kwh,
                temperature_c=item.temperature_c,
            )
            for item in self.readings
        ]
