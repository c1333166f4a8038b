"""Local calendar days and their half-hour slots, daylight saving included.

A window is one local calendar day in the deployment's time zone. Its *real*
slots are the half hours that actually elapse between local midnight and the
next one: 48 on most days, 46 on the spring-forward day and 50 on the
fall-back day in zones that shift by an hour. The model always sees 48
*model* slots, one per wall-clock half hour (00:00, 00:30, ... 23:30).

The mapping rule (documented in docs/DESIGN.md and tested):

* every real slot goes to the model slot of its wall-clock start time;
* on a 50-slot day the repeated wall-clock hour has two real slots per model
  slot; the model slot holds their **mean** (a typical half hour, so the day
  is not anomalous merely for being long). The explanation reports the first
  real occurrence's true start time;
* on a 46-slot day the skipped wall-clock half hours have no real slot; the
  model slot is **interpolated** linearly from its real neighbours, is never
  counted as missing, and is never named in an explanation (it has no start
  time).

Real slot numbers (0..n-1) are what the window store keys on: the UTC offset
from the day's first instant divided by 30 minutes, which is unambiguous on
every day, unlike wall-clock labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = ["MODEL_SLOTS", "SLOT", "DayLayout", "day_layout", "local_day"]

MODEL_SLOTS = 48
SLOT = timedelta(minutes=30)
_SLOT_SECONDS = 1800


@dataclass(frozen=True, slots=True)
class DayLayout:
    """Where the half hours of one local day are, in UTC and in the model."""

    day: date
    timezone: str
    start: datetime  # first instant of the day, UTC
    end: datetime  # first instant of the next day, UTC
    model_index: tuple[int, ...]  # real slot -> model slot
    # model slot -> first real slot, or -1 for a wall-clock half hour that was skipped
    first_real: tuple[int, ...]

    @property
    def n_slots(self) -> int:
        return len(self.model_index)

    def real_slot(self, instant: datetime) -> int:
        """The real slot containing ``instant`` (aware). Raises if outside the day."""
        offset = (instant - self.start) // SLOT  # floor: a moment before the day is -1
        if not 0 <= offset < self.n_slots:
            raise ValueError(f"{instant.isoformat()} is not within local day {self.day}")
        return offset

    def real_start(self, slot: int) -> datetime:
        """True start of real slot ``slot``, in local time with its offset."""
        return (self.start + slot * SLOT).astimezone(ZoneInfo(self.timezone))

    def model_slot_start(self, model_slot: int) -> datetime | None:
        """True local start of a model slot; ``None`` for a skipped half hour."""
        real = self.first_real[model_slot]
        return None if real < 0 else self.real_start(real)

    def to_model(
        self, real_values: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Map real-slot values (NaN = missing) to 48 model values and a missing mask.

        Missing real slots stay NaN (and are flagged); skipped wall-clock slots
        are interpolated and not flagged.
        """
        if real_values.shape != (self.n_slots,):
            raise ValueError(f"expected {self.n_slots} real slots, got {real_values.shape}")
        if self.n_slots == MODEL_SLOTS:
            values = real_values.astype(np.float64, copy=True)
            return values, np.isnan(values)
        sums = np.zeros(MODEL_SLOTS)
        counts = np.zeros(MODEL_SLOTS)
        present = ~np.isnan(real_values)
        index = np.asarray(self.model_index)
        np.add.at(sums, index[present], real_values[present])
        np.add.at(counts, index[present], 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = sums / counts  # NaN where no real slot is present
        skipped = np.asarray(self.first_real) < 0
        missing = (counts == 0) & ~skipped
        if skipped.any():
            values[skipped] = _interpolate(values, skipped)
        return values, missing


def _interpolate(
    values: npt.NDArray[np.float64], skipped: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    known = ~skipped & ~np.isnan(values)
    if not known.any():
        return np.full(int(skipped.sum()), np.nan)
    positions = np.arange(MODEL_SLOTS)
    return np.interp(positions[skipped], positions[known], values[known])


@lru_cache(maxsize=4096)
def day_layout(day: date, timezone: str) -> DayLayout:
    """The layout of ``day`` in ``timezone`` (cached: days repeat across entities)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    n_slots = int((end - start).total_seconds()) // _SLOT_SECONDS
    model_index: list[int] = []
    first_real = [-1] * MODEL_SLOTS
    for slot in range(n_slots):
        local = (start + slot * SLOT).astimezone(zone)
        wall = local.hour * 2 + local.minute // 30
        model_index.append(wall)
        if first_real[wall] < 0:
            first_real[wall] = slot
    return DayLayout(day, timezone, start, end, tuple(model_index), tuple(first_real))


def local_day(instant: datetime, timezone: str) -> date:
    """The local calendar day in ``timezone`` that contains ``instant`` (aware)."""
    return instant.astimezone(ZoneInfo(timezone)).date()
