"""Raw records of one micro-batch -> validated updates grouped by window.

The first stage of :class:`~stream.processor.WindowProcessor`, and the part
of the hot path that runs once per reading, so it is kept lean:

* a plain valid single reading takes ``schemas.decode.fast_reading`` (msgspec,
  0.6 µs); anything it does not accept goes the pydantic way below, which
  decides and words every error, so dead letters are unchanged;
* a payload rejected before is rejected again by a lookup
  (:mod:`stream.rejections`: a flood of bad input repeats itself);
* a meter record may be a single reading or a bulk message (many readings of
  one meter, ``schemas.decode.decode_meter_items``); a bad reading of a bulk
  message becomes its own dead letter, the rest are kept;
* the local day, layout and real slot of a timestamp are computed once per
  distinct timestamp (a replay or a live fleet sends every meter's reading of
  a half hour with the same ``ts``), not once per reading;
* windows are looked up by ``(entity, day)`` tuples, cheaper than building
  a ``WindowKey`` per reading.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from core.days import DayLayout, day_layout, local_day
from schemas import InvalidMessage, MeterReading, TicketSale
from schemas.decode import (
    ItemError,
    decode_meter_items,
    decode_reading,
    decode_sale,
    fast_reading,
)
from stream.records import Record
from stream.rejections import Rejections
from stream.windows.base import MeterSlot, SaleSlot, WindowBatch, WindowKey

if TYPE_CHECKING:
    from stream.dead_letters import DeadLetters

__all__ = ["Grouped", "Pending", "group_records"]

_CACHE_LIMIT = 200_000  # distinct timestamps remembered (a few MB at most)


@dataclass(slots=True)
class Pending:
    """One window's updates of this batch, and the records they came from."""

    batch: WindowBatch
    records: list[Record] = field(default_factory=list)


@dataclass(slots=True)
class Grouped:
    pending: dict[WindowKey, Pending]
    partition_times: dict[int, float]  # highest event time per input partition
    invalid: list[tuple[Record, InvalidMessage]]
    invalid_items: list[tuple[Record, ItemError]]
    rejected: DeadLetters | None = None  # the dead letters of invalid and invalid_items
    sending: asyncio.Future[None] | None = None  # rejected, being produced
    counted: bool = False  # in the events metric (once, whatever the retries)


_Slot = tuple[date, DayLayout, int, float]


class _Slots:
    """ts -> (day, layout, real slot, epoch seconds), memoised per distinct ts;
    ``by_text`` is keyed by the timestamp as written (the fast path's key:
    hashing a str is cheaper than hashing an aware datetime). Also each
    window's key and day end (:meth:`window`)."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._by_ts: dict[datetime, _Slot] = {}
        self.by_text: dict[str, _Slot] = {}
        self._day_ends: dict[date, float] = {}  # epoch seconds of each local day's end
        self._keys: dict[tuple[str, str, date], WindowKey] = {}

    def window(
        self, kind: str, entity: str, day: date, layout: DayLayout
    ) -> tuple[WindowKey, float]:
        """A window's key and its day's end, remembered: at a low rate every
        reading of a batch is another window's, and building them was half of
        its cost."""
        key = self._keys.get((kind, entity, day))
        if key is None:
            if len(self._keys) >= _CACHE_LIMIT:
                self._keys.clear()
            key = self._keys[(kind, entity, day)] = WindowKey(kind, day, entity)
        end = self._day_ends.get(day)
        if end is None:
            end = self._day_ends[day] = layout.end.timestamp()
        return key, end

    def text(self, text: str, ts: datetime) -> _Slot:
        if len(self.by_text) >= _CACHE_LIMIT:
            self.by_text.clear()
        found = self.by_text[text] = self(ts)
        return found

    def __call__(self, ts: datetime) -> _Slot:
        found = self._by_ts.get(ts)
        if found is None:
            if len(self._by_ts) >= _CACHE_LIMIT:
                self._by_ts.clear()
            day = local_day(ts, self.timezone)
            layout = day_layout(day, self.timezone)
            found = self._by_ts[ts] = (day, layout, layout.real_slot(ts), ts.timestamp())
        return found


_slot_cache: dict[str, _Slots] = {}
_rejections: dict[bool, Rejections] = {True: Rejections(), False: Rejections()}  # meter, sale


def _slots_for(timezone: str) -> _Slots:
    slots = _slot_cache.get(timezone)
    if slots is None:
        slots = _slot_cache[timezone] = _Slots(timezone)
    return slots


def _decoded(meter: bool, record: Record, out: Grouped) -> Sequence[MeterReading | TicketSale]:
    """The pydantic path: any form, every error worded (into ``out``, and remembered)."""
    value = record.value
    try:
        if not meter:
            return (decode_sale(value),)
        if value is not None and b'"readings"' not in value:
            return (decode_reading(value),)  # the single-reading form, directly
        readings, errors = decode_meter_items(value)
    except InvalidMessage as exc:
        out.invalid.append((record, _rejections[meter].remember(value, exc)))
        return ()
    if errors:
        out.invalid_items += [(record, e) for e in errors]
    return readings


def group_records(
    kind: str, records: Sequence[Record], timezone: str, grace_s: float, lateness_s: float
) -> Grouped:
    """Decode and validate ``records`` of ``kind`` and group their updates by window."""
    slots = _slots_for(timezone)
    by_window: dict[tuple[str, date], Pending] = {}
    pending: dict[WindowKey, Pending] = {}
    times: dict[int, float] = {}
    out = Grouped(pending, times, [], [])

    def window(entity: str, day: date, layout: DayLayout) -> Pending:
        key, end = slots.window(kind, entity, day, layout)
        deadline = end + grace_s
        item = by_window[(entity, day)] = pending[key] = Pending(
            WindowBatch(key, layout.n_slots, deadline, deadline + lateness_s)
        )
        return item

    def taken(item: Pending, record: Record) -> None:
        if not item.records or item.records[-1] is not record:
            item.records.append(record)
            # the highest offset taken per partition tells a redelivery of
            # a retired day from a late reading (see WindowBatch.offsets)
            offsets = item.batch.offsets
            if record.offset > offsets.get(record.partition, -1):
                offsets[record.partition] = record.offset

    meter = kind == "meter"
    by_text = slots.by_text
    rejected = _rejections[meter]
    for record in records:
        value = record.value
        if (known := rejected.get(value)) is not None:
            out.invalid.append((record, known))
            continue
        fast = fast_reading(value) if meter else None
        if fast is not None:  # a plain valid single reading (schemas._fast)
            entity, text, ts, kwh, temperature = fast
            day, layout, slot, epoch = by_text.get(text) or slots.text(text, ts)
            item = by_window.get((entity, day)) or window(entity, day, layout)
            item.batch.meter.append(MeterSlot(slot, kwh, temperature))
            taken(item, record)
            partition = record.partition
            if epoch > times.get(partition, -math.inf):
                times[partition] = epoch
            continue
        readings = _decoded(meter, record, out)
        latest = times.get(record.partition, -math.inf)
        for message in readings:
            day, layout, slot, epoch = slots(message.ts)
            if isinstance(message, MeterReading):
                entity = message.meter_id
                item = by_window.get((entity, day)) or window(entity, day, layout)
                item.batch.meter.append(MeterSlot(slot, message.kwh, message.temperature_c))
            else:
                assert isinstance(message, TicketSale)
                entity = message.event_id
                item = by_window.get((entity, day)) or window(entity, day, layout)
                item.batch.sales.append(SaleSlot(message.sale_id, slot, message.amount))
            taken(item, record)
            latest = max(latest, epoch)
        if latest > -math.inf:
            times[record.partition] = latest
    return out
