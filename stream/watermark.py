"""The event-time watermark: up to when has every partition delivered?

Each input partition has a *mark*: the highest event time read from it, when
new data last arrived (wall clock), whether its consumer had read everything
at its last report, and when that report was made. A partition holds the
watermark back at its highest event time unless it is **caught up and quiet**
(everything read, nothing new for ``idle_s``): then everything it will send
later is new, and waiting for it would stall every other partition. A
partition nobody has reported on lately — not yet assigned, or its worker died
and the group has not rebalanced yet — always holds the watermark, so a
crash or rebalance never closes a day early. When every partition is caught
up and quiet, everything sent has arrived and the highest time holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["PartitionMark", "watermark"]


@dataclass(frozen=True, slots=True)
class PartitionMark:
    time: float | None  # highest event time read (epoch s); None: no data yet
    data_at: float | None  # wall clock (s) when that partition last brought data
    caught_up: bool  # at its last report, its consumer had read everything
    reported_at: float | None  # wall clock (s) of that report


def watermark(
    marks: Mapping[int, PartitionMark],
    partitions: int,
    *,
    now: float,
    idle_s: float,
    report_ttl_s: float,
) -> float | None:
    """The watermark over partitions ``0..partitions-1``; None while any
    partition that must hold it has delivered nothing yet."""
    held: list[float] = []
    latest: list[float] = []
    for partition in range(partitions):
        mark = marks.get(partition)
        time = -math.inf if mark is None or mark.time is None else mark.time
        if mark is None or mark.reported_at is None or now - mark.reported_at > report_ttl_s:
            held.append(time)  # nobody vouches for this partition right now
            continue
        if mark.time is not None:
            latest.append(mark.time)
        quiet = mark.data_at is None or now - mark.data_at >= idle_s
        if not (mark.caught_up and quiet):
            held.append(time)
    if held:
        lowest = min(held)
        return None if lowest == -math.inf else lowest
    return max(latest) if latest else None
