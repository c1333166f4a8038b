"""The condition features the autoencoder is given beside a day's 48 values.

A condition is what makes a day *expected* to look the way it does without
being anomalous: a Sunday, a cold January day, Christmas. The vector, in
this order (:data:`FEATURE_NAMES`, stored with every model version and
checked when one is loaded):

====================  =====  ==========================================================
feature               width  encoding
====================  =====  ==========================================================
``dow_mon..dow_sun``  7      one-hot day of week. Not sin/cos: weekly behaviour is
                             categorical (Saturday is not "between" Friday and Sunday;
                             Friday to Saturday is a jump), and 7 inputs cost nothing.
``season_sin/cos``    2      sin and cos of 2π·(day of year − 1)/365.2425: the annual
                             cycle (daylight, heating) with 31 December next to 1 January.
``holiday``           1      1 on a public holiday of the :class:`HolidayCalendar`.
``temperature``       1      (°C − mean) / std, mean and std learnt from the training
                             windows (:meth:`ConditionEncoder.fit`) and stored with the
                             model; 0 when the day has no temperature...
``temperature_missing``  1   ...and then this flag is 1, so "no reading" is not "mild".
``missing_fraction``  1      share of the 48 model slots with no reading. The values of
                             missing slots are filled by interpolation
                             (:mod:`core.normalization`); this tells the network how much
                             of its input is filled in. The full 48-slot mask is not
                             given: the score ignores missing slots anyway, and 48 more
                             inputs to a 2+C decoder would dwarf the latent code.
====================  =====  ==========================================================

:func:`conditions_for` returns the same facts in readable form for the
output message's ``conditions`` (day names and °C, not encodings).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from core.holidays import HolidayCalendar, default_calendar
from core.scoring.base import ConditionValue, DayWindow

__all__ = [
    "FEATURE_NAMES",
    "N_CONDITIONS",
    "ConditionEncoder",
    "condition_matrix",
    "conditions_for",
]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FEATURE_NAMES: tuple[str, ...] = (
    *(f"dow_{name}" for name in _DAY_NAMES),
    "season_sin",
    "season_cos",
    "holiday",
    "temperature",
    "temperature_missing",
    "missing_fraction",
)
N_CONDITIONS = len(FEATURE_NAMES)
_YEAR_DAYS = 365.2425
# London's climate, used only until an encoder is fitted on real temperatures.
_DEFAULT_TEMPERATURE_MEAN = 11.0
_DEFAULT_TEMPERATURE_STD = 6.0


def _day_of_year(day: date) -> int:
    """``day.timetuple().tm_yday``, 10 times faster (timetuple builds a struct per
    call: it was a sixth of ``score()`` at batch 4096)."""
    return day.toordinal() - date(day.year, 1, 1).toordinal() + 1


@dataclass(frozen=True, slots=True)
class ConditionEncoder:
    """Turns windows into the condition matrix; its numbers travel with the model."""

    calendar: HolidayCalendar = field(default_factory=default_calendar)
    temperature_mean: float = _DEFAULT_TEMPERATURE_MEAN
    temperature_std: float = _DEFAULT_TEMPERATURE_STD

    @property
    def names(self) -> tuple[str, ...]:
        return FEATURE_NAMES

    @classmethod
    def fit(cls, windows: Sequence[DayWindow], calendar: HolidayCalendar) -> ConditionEncoder:
        """Temperature mean and std from the windows that have one (defaults otherwise)."""
        temps = np.array([w.temperature_c for w in windows if w.temperature_c is not None])
        if temps.size < 2 or float(temps.std()) < 1e-6:
            return cls(calendar)
        return cls(calendar, float(temps.mean()), float(temps.std()))

    def matrix(self, windows: Sequence[DayWindow]) -> npt.NDArray[np.float32]:
        """The ``(n, N_CONDITIONS)`` float32 condition matrix, rows in window order."""
        out = np.zeros((len(windows), N_CONDITIONS), dtype=np.float32)
        if windows:
            missing = np.isnan(np.stack([w.values for w in windows])).sum(axis=1)
            out[:, 12] = missing / MODEL_SLOTS
        for row, window in enumerate(windows):
            day = window.day
            out[row, day.weekday()] = 1.0
            angle = 2.0 * math.pi * (_day_of_year(day) - 1) / _YEAR_DAYS
            out[row, 7] = math.sin(angle)
            out[row, 8] = math.cos(angle)
            out[row, 9] = float(self.calendar.is_holiday(day))
            if window.temperature_c is None or not math.isfinite(window.temperature_c):
                out[row, 11] = 1.0
            else:
                out[row, 10] = (window.temperature_c - self.temperature_mean) / self.temperature_std
        return out

    def describe(self, window: DayWindow, missing: int | None = None) -> dict[str, ConditionValue]:
        """The readable conditions of one window, for the output message
        (``missing``: its number of missing slots, when the caller counted them)."""
        day = window.day
        temperature = window.temperature_c
        if temperature is not None and not math.isfinite(temperature):
            temperature = None
        if missing is None:
            missing = int(np.isnan(window.values).sum())
        return {
            "day_of_week": _DAY_NAMES[day.weekday()],
            "day_of_year": _day_of_year(day),
            "holiday": self.calendar.is_holiday(day),
            "holiday_name": self.calendar.name(day),
            "temperature_c": temperature,
            "missing_slots": missing,
            "missing_fraction": missing / MODEL_SLOTS,
        }

    def to_dict(self) -> dict[str, Any]:
        """What a model version stores (the calendar is the deployment's, not the model's)."""
        return {
            "names": list(FEATURE_NAMES),
            "temperature_mean": self.temperature_mean,
            "temperature_std": self.temperature_std,
            "calendar": self.calendar.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], calendar: HolidayCalendar) -> ConditionEncoder:
        """Rebuild a stored encoder; ``ValueError`` if it was built for other features."""
        names = tuple(data.get("names", ()))
        if names != FEATURE_NAMES:
            raise ValueError(f"condition features {list(names)} differ from {list(FEATURE_NAMES)}")
        mean, std = float(data["temperature_mean"]), float(data["temperature_std"])
        if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
            raise ValueError(f"bad temperature standardisation (mean={mean}, std={std})")
        return cls(calendar, mean, std)


def conditions_for(
    window: DayWindow, encoder: ConditionEncoder | None = None
) -> dict[str, ConditionValue]:
    """Readable conditions of ``window`` (default encoder: shipped UK calendar)."""
    return (encoder or ConditionEncoder()).describe(window)


def condition_matrix(
    windows: Sequence[DayWindow], encoder: ConditionEncoder | None = None
) -> npt.NDArray[np.float32]:
    """The float32 condition matrix of ``windows`` (see :data:`FEATURE_NAMES`)."""
    return (encoder or ConditionEncoder()).matrix(windows)
