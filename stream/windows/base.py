"""The window store: where every open day window lives, and its state machine.

A window is one (kind, entity, local day). Its life, enforced atomically by the
store so that any number of workers can share it::

    open ──(all slots present, or watermark past deadline)──► claimed
    claimed ──(verdict committed, outputs kept in an outbox)──► scored
    scored ──(a changed value arrives)──► claimed        (re-score, revision + 1)
    claimed ──(lease expires: the scoring worker died)──► claimed by another
    scored ──(watermark past deadline + lateness)──► retired (tombstone)

Only the holder of a claim's token can commit it, so two workers never both
score a window. The committed outputs are stored with the verdict and
re-published byte for byte if the worker dies before Kafka acknowledged them,
so a redelivery or crash never yields an alert with other content.

The interface is batch-shaped: one call per micro-batch, so a backend can do
one round trip for many windows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from stream.watermark import PartitionMark

__all__ = [
    "Claim",
    "Commit",
    "MeterSlot",
    "Outbox",
    "SaleSlot",
    "UpdateOutcome",
    "WindowBatch",
    "WindowContents",
    "WindowKey",
    "WindowStore",
]


@dataclass(frozen=True, slots=True, order=True)
class WindowKey:
    kind: str
    day: date
    entity_id: str

    @property
    def id(self) -> str:
        """Stable text id, also the Redis hash tag: ``meter:2013-03-01:MAC000002``."""
        return f"{self.kind}:{self.day.isoformat()}:{self.entity_id}"

    @classmethod
    def parse(cls, text: str) -> WindowKey:
        kind, day, entity = text.split(":", 2)
        return cls(kind, date.fromisoformat(day), entity)


class MeterSlot(NamedTuple):
    """A reading's effect: set real slot ``slot`` (last value wins).

    Tuples, not frozen dataclasses: one is built per reading on the hot path,
    and a frozen dataclass costs several times more to build."""

    slot: int
    kwh: float
    temperature_c: float | None = None


class SaleSlot(NamedTuple):
    """A sale's effect: add ``amount`` to real slot ``slot``, once per ``sale_id``."""

    sale_id: str
    slot: int
    amount: float


@dataclass(slots=True)
class WindowBatch:
    """The updates of one micro-batch for one window."""

    key: WindowKey
    n_slots: int
    deadline: float  # event time (epoch s) after which the watermark closes it
    retire_at: float  # event time after which it can no longer change
    meter: list[MeterSlot] = field(default_factory=list)
    sales: list[SaleSlot] = field(default_factory=list)
    # input partition -> highest offset among these updates. The window keeps
    # the highest it took per partition, also once retired: records of a
    # partition are read in order, so a reading for a final day at or below
    # that offset was taken before (a redelivery: unchanged, no dead letter).
    offsets: dict[int, int] = field(default_factory=dict)


class UpdateOutcome(StrEnum):
    OPEN = "open"  # still collecting
    CLAIMED = "claimed"  # complete, or a scored window changed: score it now
    UNCHANGED = "unchanged"  # a redelivery: nothing new
    BUSY = "busy"  # another worker is scoring it; it will re-score after its commit
    LATE = "late"  # the window was retired: the update is refused (unless a redelivery)


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to score one window once. ``revision`` is the window-score
    revision this scoring will publish; ``alert_revision`` the last published
    alert's revision (-1: none) and ``alert_active`` whether it still stands."""

    key: WindowKey
    token: str
    revision: int
    alert_revision: int
    alert_active: bool


@dataclass(frozen=True, slots=True)
class WindowContents:
    """What a claimed window holds, by real slot (NaN = missing)."""

    claim: Claim
    values: npt.NDArray[np.float64]
    temperatures: npt.NDArray[np.float64]
    history: npt.NDArray[np.float64]  # (k, 48) model slots of earlier days, oldest first
    history_days: tuple[date, ...] = ()  # the day of each history row (empty: unknown)
    # each history day's mean temperature, NaN where it had none (an older
    # stored day, or a ticket); empty: unknown
    history_temperatures: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0))


@dataclass(frozen=True, slots=True)
class Outbox:
    """Messages to produce for one committed window, as ``(topic_role, key, value)``."""

    key: WindowKey
    messages: tuple[tuple[str, bytes, bytes], ...]
    # The window-score revision these messages carry: acknowledging revision r
    # must not discard the outbox of a later revision committed meanwhile.
    revision: int = 0


@dataclass(frozen=True, slots=True)
class Commit:
    claim: Claim
    outbox: Outbox
    model_values: npt.NDArray[np.float64]  # the day in model slots, for later history
    alert_active: bool  # whether an alert for this window stands after this commit
    alert_published: bool  # whether this commit publishes an alert revision
    retire_at: float


class WindowStore(Protocol):
    """Backends: :mod:`stream.windows.redis_store` and :mod:`stream.windows.memory_store`,
    both held to the same contract tests."""

    async def apply(
        self, batches: Sequence[WindowBatch], lease_seconds: float
    ) -> Mapping[WindowKey, tuple[UpdateOutcome, Claim | None]]:
        """Apply updates atomically per window; claim windows that became due."""
        ...

    async def claim_due(
        self, kind: str, watermark: float, lease_seconds: float, limit: int
    ) -> list[Claim]:
        """Claim open windows whose deadline the watermark has passed."""
        ...

    async def load(self, claims: Sequence[Claim], history_days: int) -> list[WindowContents]: ...

    async def commit(
        self, commits: Sequence[Commit], lease_seconds: float, history_days: int
    ) -> tuple[list[Outbox], list[Claim]]:
        """Store verdicts + outboxes for claims still held. Returns the outboxes
        to publish and the re-claims of windows that changed while scored."""
        ...

    async def published(self, outboxes: Sequence[Outbox]) -> None:
        """These outboxes were acknowledged by Kafka (a later revision's stays)."""
        ...

    async def recover(
        self, kind: str, lease_seconds: float, limit: int
    ) -> tuple[list[Claim], list[Outbox]]:
        """Windows whose scorer died: re-claims, and outboxes never acknowledged."""
        ...

    async def retire(self, kind: str, watermark: float, limit: int) -> int:
        """Turn windows past their lateness horizon into tombstones; returns how many."""
        ...

    async def advance_watermark(
        self,
        kind: str,
        partition_times: Mapping[int, float],
        status: Mapping[int, bool] | None = None,
    ) -> dict[int, PartitionMark]:
        """Record partitions' highest event times read (never lowered) and, in
        ``status``, whether each reported partition's consumer has read everything.
        Returns the marks after the update (as :meth:`partition_marks`)."""
        ...

    async def partition_marks(self, kind: str) -> dict[int, PartitionMark]:
        """What is known of each input partition of ``kind`` (see stream.watermark)."""
        ...

    async def open_windows(self, kind: str) -> int: ...
