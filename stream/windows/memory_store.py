"""The in-memory window store: the Redis store's semantics in plain dicts.

For the offline evaluation (no Redis to run) and for unit tests. Each method
runs to completion without awaiting, so under asyncio every call is as atomic
as a Lua script; the store is not thread-safe. It mirrors the scripts in
``lua/`` rule for rule (the contract tests hold both to that), with two
deliberate differences of scale: the whole store is one shard, so ``limit``
bounds a call rather than each shard's part of it; and a tombstone never
expires and keeps only the input offsets the window took (no revisions:
nothing reads them). Ticket sums are added in double
precision where Redis' HINCRBYFLOAT uses long double: equal to ~1e-15.

The wall clock (leases, partition idleness) is injected, so a test expires a
lease by moving the clock instead of sleeping.
"""

from __future__ import annotations

import heapq
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from stream.watermark import PartitionMark
from stream.windows.base import (
    Claim,
    Commit,
    Outbox,
    UpdateOutcome,
    WindowBatch,
    WindowContents,
    WindowKey,
)

__all__ = ["MemoryWindowStore"]

_OPEN, _CLAIMED, _SCORED, _RETIRED = "o", "c", "s", "x"
_Days = dict[date, npt.NDArray[np.float32]]  # an entity's history: day -> 48 model values


class _Index:
    """A Redis sorted set of windows: member -> score, read in score order.

    A heap with lazy deletion: an entry whose score is no longer the member's
    current one is dropped when it reaches the top.
    """

    def __init__(self) -> None:
        self._score: dict[WindowKey, float] = {}
        self._heap: list[tuple[float, WindowKey]] = []

    def __len__(self) -> int:
        return len(self._score)

    def add(self, key: WindowKey, score: float) -> None:
        if self._score.get(key) != score:
            self._score[key] = score
            heapq.heappush(self._heap, (score, key))
        if len(self._heap) > 2 * len(self._score) + 64:  # keep stale entries bounded
            self._heap = [(score, key) for key, score in self._score.items()]
            heapq.heapify(self._heap)

    def discard(self, key: WindowKey) -> None:
        self._score.pop(key, None)

    def upto(self, score: float, limit: int) -> list[WindowKey]:
        """Up to ``limit`` members with a score ≤ ``score``, lowest first (ZRANGEBYSCORE)."""
        found: dict[WindowKey, float] = {}
        while self._heap and len(found) < limit and self._heap[0][0] <= score:
            at, key = heapq.heappop(self._heap)
            if self._score.get(key) == at:
                found[key] = at
        for key, at in found.items():  # reading does not remove: put them back
            heapq.heappush(self._heap, (at, key))
        return list(found)


@dataclass(slots=True)
class _Window:
    """One window's hash: ``values`` hold the text of each slot, as in Redis."""

    n_slots: int
    state: str = _OPEN
    values: dict[int, str] = field(default_factory=dict)  # real slot -> repr(float)
    temperatures: dict[int, str] = field(default_factory=dict)
    sale_ids: set[str] = field(default_factory=set)
    revision: int = -1  # last committed window-score revision
    alert_revision: int = -1
    alert_active: bool = False
    token: str | None = None
    lease_until: float = 0.0
    dirty: bool = False  # changed while claimed: re-claim after the commit
    outbox: Outbox | None = None  # committed, not yet acknowledged
    offsets: dict[int, int] = field(default_factory=dict)  # partition -> highest taken


_EMPTY = _Window(0, _RETIRED)  # what a window that is gone loads as; never mutated


def _trim(days: dict[date, Any], keep: int) -> None:
    """Keep the latest ``keep`` days."""
    for day in sorted(days)[: max(len(days) - keep, 0)]:
        del days[day]


def _take(taken: dict[int, int], offsets: Mapping[int, int]) -> None:
    for partition, offset in offsets.items():
        if offset > taken.get(partition, -1):
            taken[partition] = offset


def _retired_outcome(window: _Window, batch: WindowBatch) -> UpdateOutcome:
    """A redelivery of what the window took is no change; anything else is late."""
    taken = window.offsets
    if batch.offsets and all(o <= taken.get(p, -1) for p, o in batch.offsets.items()):
        return UpdateOutcome.UNCHANGED
    return UpdateOutcome.LATE


class MemoryWindowStore:
    """:class:`~stream.windows.base.WindowStore` in process memory."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[WindowKey, _Window] = {}
        self._open: defaultdict[str, _Index] = defaultdict(_Index)  # -> deadline
        self._inflight: defaultdict[str, _Index] = defaultdict(_Index)  # -> recover at
        self._retire: defaultdict[str, _Index] = defaultdict(_Index)  # -> retire_at
        self._history: defaultdict[tuple[str, str], _Days] = defaultdict(dict)
        # meters: day -> the mean of its readings' temperatures, beside the history
        self._history_temps: defaultdict[tuple[str, str], dict[date, float]] = defaultdict(dict)
        self._times: defaultdict[str, dict[int, float]] = defaultdict(dict)
        self._data_at: defaultdict[str, dict[int, float]] = defaultdict(dict)
        # partition -> (caught up, wall clock of the report)
        self._status: defaultdict[str, dict[int, tuple[bool, float | None]]] = defaultdict(dict)

    def _claim(self, key: WindowKey, window: _Window, lease_until: float) -> Claim:
        window.state, window.token, window.lease_until = _CLAIMED, uuid.uuid4().hex, lease_until
        self._inflight[key.kind].add(key, lease_until)
        self._open[key.kind].discard(key)
        return Claim(
            key, window.token, window.revision + 1, window.alert_revision, window.alert_active
        )

    async def apply(
        self, batches: Sequence[WindowBatch], lease_seconds: float
    ) -> dict[WindowKey, tuple[UpdateOutcome, Claim | None]]:
        if len({batch.key for batch in batches}) != len(batches):
            raise ValueError("one WindowBatch per window per call: outcomes are keyed by window")
        lease_until = self._clock() + lease_seconds
        return {batch.key: self._apply(batch, lease_until) for batch in batches}

    def _apply(self, batch: WindowBatch, lease_until: float) -> tuple[UpdateOutcome, Claim | None]:
        key, is_meter = batch.key, batch.key.kind == "meter"
        window = self._windows.get(key)
        if window is not None and window.state == _RETIRED:
            return _retired_outcome(window, batch), None
        if window is None:
            window = self._windows[key] = _Window(batch.n_slots)
            self._open[key.kind].add(key, batch.deadline)
        _take(window.offsets, batch.offsets)
        changed = False
        if is_meter:
            for m in batch.meter:  # last value wins; a redelivery is no change
                if window.values.get(m.slot) != (text := repr(m.kwh)):
                    window.values[m.slot], changed = text, True
                temp = None if m.temperature_c is None else repr(m.temperature_c)
                if temp is not None and window.temperatures.get(m.slot) != temp:
                    window.temperatures[m.slot], changed = temp, True
        else:
            for s in batch.sales:  # a sale counts once, however often it is delivered
                if s.sale_id not in window.sale_ids:
                    window.sale_ids.add(s.sale_id)
                    window.values[s.slot] = repr(float(window.values.get(s.slot, "0")) + s.amount)
                    changed = True
        if not changed:
            return UpdateOutcome.UNCHANGED, None
        if window.state == _CLAIMED:  # its scorer re-claims after committing
            window.dirty = True
            return UpdateOutcome.BUSY, None
        if window.state == _SCORED or (is_meter and len(window.values) >= window.n_slots):
            return UpdateOutcome.CLAIMED, self._claim(key, window, lease_until)
        return UpdateOutcome.OPEN, None

    async def claim_due(
        self, kind: str, watermark: float, lease_seconds: float, limit: int
    ) -> list[Claim]:
        lease_until = self._clock() + lease_seconds
        claims = []
        for key in self._open[kind].upto(watermark, limit):
            self._open[kind].discard(key)
            window = self._windows.get(key)
            if window is not None and window.state == _OPEN:
                claims.append(self._claim(key, window, lease_until))
        return claims

    async def load(self, claims: Sequence[Claim], history_days: int) -> list[WindowContents]:
        contents = []
        for claim in claims:
            window = self._windows.get(claim.key)
            window = window or _EMPTY  # gone: no slots, like an emptied hash
            values = np.full(window.n_slots, np.nan)
            temperatures = np.full(window.n_slots, np.nan)
            for slot, text in window.values.items():
                values[slot] = float(text)
            for slot, text in window.temperatures.items():
                temperatures[slot] = float(text)
            if claim.key.kind != "meter":
                values = np.nan_to_num(values, nan=0.0)  # no sale in a half hour is 0
            history = self._history.get((claim.key.kind, claim.key.entity_id), {})
            days = sorted(d for d in history if d < claim.key.day)  # never its own future
            days = days[-history_days:] if history_days > 0 else []  # [-0:] is all
            past = (
                np.stack([history[d].astype(np.float64) for d in days])
                if days
                else np.empty((0, MODEL_SLOTS))
            )
            kept = self._history_temps.get((claim.key.kind, claim.key.entity_id), {})
            temps = np.array([kept.get(d, np.nan) for d in days])
            contents.append(WindowContents(claim, values, temperatures, past, tuple(days), temps))
        return contents

    async def commit(
        self, commits: Sequence[Commit], lease_seconds: float, history_days: int
    ) -> tuple[list[Outbox], list[Claim]]:
        lease_until = self._clock() + lease_seconds
        outboxes: list[Outbox] = []
        reclaims: list[Claim] = []
        for c in commits:
            key = c.claim.key
            window = self._windows.get(key)
            if window is None or window.state != _CLAIMED or window.token != c.claim.token:
                continue  # lost: the lease expired and another worker holds it now
            window.state, window.token, window.outbox = _SCORED, None, c.outbox
            window.revision = c.claim.revision
            window.alert_revision = c.claim.alert_revision + (1 if c.alert_published else 0)
            window.alert_active = c.alert_active
            self._retire[key.kind].add(key, c.retire_at)
            self._inflight[key.kind].add(key, lease_until)  # until Kafka acknowledges
            history = self._history[(key.kind, key.entity_id)]
            history[key.day] = np.asarray(c.model_values, dtype="<f4").copy()
            _trim(history, history_days)
            if key.kind == "meter" and window.temperatures:
                # summed in slot order, as commit.lua does: the same double
                temps = [float(window.temperatures[slot]) for slot in sorted(window.temperatures)]
                kept = self._history_temps[(key.kind, key.entity_id)]
                kept[key.day] = sum(temps) / len(temps)
                _trim(kept, history_days)
            outboxes.append(c.outbox)
            if window.dirty:
                window.dirty = False
                reclaims.append(self._claim(key, window, lease_until))
        return outboxes, reclaims

    async def published(self, outboxes: Sequence[Outbox]) -> None:
        for outbox in outboxes:
            key = outbox.key
            window = self._windows.get(key)
            # a later revision's outbox stays until that one is acknowledged
            if window is not None and window.outbox and window.outbox.revision == outbox.revision:
                window.outbox = None
            if window is None or (window.state != _CLAIMED and window.outbox is None):
                self._inflight[key.kind].discard(key)

    async def recover(
        self, kind: str, lease_seconds: float, limit: int
    ) -> tuple[list[Claim], list[Outbox]]:
        now = self._clock()
        claims: list[Claim] = []
        outboxes: list[Outbox] = []
        for key in self._inflight[kind].upto(now, limit):
            window = self._windows.get(key)
            if window is not None and window.state == _CLAIMED and window.lease_until <= now:
                window.dirty = False  # the new claimer loads the current values
                claims.append(self._claim(key, window, now + lease_seconds))
            if window is not None and window.outbox is not None:
                self._inflight[kind].add(key, now + lease_seconds)
                outboxes.append(window.outbox)
            elif window is None or window.state != _CLAIMED:
                self._inflight[kind].discard(key)
        return claims, outboxes

    async def retire(self, kind: str, watermark: float, limit: int) -> int:
        retired = 0
        for key in self._retire[kind].upto(watermark, limit):
            window = self._windows.get(key)
            if window is not None and window.state == _SCORED and window.outbox is None:
                # values dropped, later updates refused (redeliveries known by offset)
                self._windows[key] = _Window(0, _RETIRED, offsets=window.offsets)
                self._retire[kind].discard(key)
                retired += 1
            elif window is None or window.state not in (_CLAIMED, _SCORED):
                self._retire[kind].discard(key)
        return retired

    async def advance_watermark(
        self,
        kind: str,
        partition_times: Mapping[int, float],
        status: Mapping[int, bool] | None = None,
    ) -> dict[int, PartitionMark]:
        now = self._clock()
        times, data = self._times[kind], self._data_at[kind]
        for partition, event_time in partition_times.items():
            if event_time > times.get(partition, -1.0):  # raised, never lowered
                times[partition] = float(event_time)
            data[partition] = now
        for partition, caught_up in (status or {}).items():
            self._status[kind][partition] = (caught_up, now)
        return await self.partition_marks(kind)

    async def partition_marks(self, kind: str) -> dict[int, PartitionMark]:
        times, data, status = self._times[kind], self._data_at[kind], self._status[kind]
        return {
            p: PartitionMark(
                time=times.get(p),
                data_at=data.get(p),
                caught_up=status.get(p, (False, None))[0],
                reported_at=status.get(p, (False, None))[1],
            )
            for p in {*times, *data, *status}
        }

    async def open_windows(self, kind: str) -> int:
        return len(self._open[kind])
