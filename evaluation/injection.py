"""Documented, seeded anomalies injected into real meter days.

Each :class:`AnomalyType` changes one day (or, for ``drift``, a run of
consecutive days) of an entity and has a magnitude with three documented
settings (low, moderate, high), so a report shows recall as a function of
magnitude. ``level`` is the entity's typical half hour (the mean kWh per
present half hour over its recent history): additive changes are measured
in it, so a change means as much for a small flat as for a large house.

=============  ==========================================================  ===============
type           change                                                      magnitude
=============  ==========================================================  ===============
spike          1-4 consecutive half hours set to m × max(value, level)     m: 3, 6, 10
dead_meter     the last f of the day: zeros (half the cases) or, the       f: 0.25, 0.5, 1
               other half, a flat line at that part's own mean (an
               estimated read: same total, no shape)
stuck          the reading of one half hour repeated for the next h hours  h: 2, 6, 12 hours
night_load     + m × level on each half hour of a 2-4 hour block inside    m: 1.5, 3, 6
               01:00-05:00 (an electric car, a heater left on)
doubled_day    every half hour × m                                         m: 1.5, 2, 3
shifted        the whole profile moved by h hours, either way (wrapping)   h: 3, 4.5, 6 hours
drift          7 days; day j of 7 × (1 + m·j/7) (a meter drifting upward)  m: 0.5, 1, 2
=============  ==========================================================  ===============

Where and how (which slots, which variant) is drawn from a generator seeded
per (seed, type, entity, day), the same for every magnitude: only the
magnitude differs between the three settings of a type. Missing slots stay
missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS

__all__ = ["METER_ANOMALIES", "AnomalyType", "Apply", "anomaly_by_name"]

FloatArray = npt.NDArray[np.float64]
Apply = Callable[[FloatArray, np.random.Generator, float, float], FloatArray]
"""``(days (d, 48) kWh, rng, magnitude, level) -> changed days``; never in place."""


@dataclass(frozen=True, slots=True)
class AnomalyType:
    name: str
    kind: str  # "meter" or "ticket"
    magnitudes: tuple[float, float, float]  # low, moderate, high
    unit: str
    days: int  # consecutive days it changes (all are labelled anomalous)
    apply: Apply
    change: str  # one line for the report

    @property
    def moderate(self) -> float:
        return self.magnitudes[1]


def _spike(days: FloatArray, rng: np.random.Generator, m: float, level: float) -> FloatArray:
    out = days.copy()
    length = int(rng.integers(1, 5))
    start = int(rng.integers(0, MODEL_SLOTS - length + 1))
    block = out[0, start : start + length]
    out[0, start : start + length] = m * np.maximum(block, level)
    return out


def _dead(days: FloatArray, rng: np.random.Generator, f: float, level: float) -> FloatArray:
    out = days.copy()
    start = MODEL_SLOTS - round(f * MODEL_SLOTS)
    dead = out[0, start:]
    flat = rng.random() < 0.5
    if flat and np.isfinite(dead).any():
        out[0, start:] = np.where(np.isnan(dead), np.nan, float(np.nanmean(dead)))
    else:
        out[0, start:] = np.where(np.isnan(dead), np.nan, 0.0)
    return out


def _stuck(days: FloatArray, rng: np.random.Generator, hours: float, level: float) -> FloatArray:
    out = days.copy()
    length = round(2 * hours)
    start = int(rng.integers(0, MODEL_SLOTS - length))
    value = out[0, start]
    if np.isnan(value):
        value = float(np.nanmean(out[0])) if np.isfinite(out[0]).any() else level
    block = out[0, start + 1 : start + 1 + length]
    out[0, start + 1 : start + 1 + length] = np.where(np.isnan(block), np.nan, value)
    return out


def _night(days: FloatArray, rng: np.random.Generator, m: float, level: float) -> FloatArray:
    out = days.copy()
    length = int(rng.integers(4, 9))  # 2-4 hours
    start = int(rng.integers(2, 11 - length)) if length < 8 else 2  # inside 01:00-05:00
    out[0, start : start + length] += m * level
    return out


def _doubled(days: FloatArray, rng: np.random.Generator, m: float, level: float) -> FloatArray:
    return days * m


def _shifted(days: FloatArray, rng: np.random.Generator, hours: float, level: float) -> FloatArray:
    direction = 1 if rng.random() < 0.5 else -1
    return np.roll(days, direction * round(2 * hours), axis=1)


def _drift(days: FloatArray, rng: np.random.Generator, m: float, level: float) -> FloatArray:
    steps = np.arange(1, days.shape[0] + 1) / days.shape[0]
    factors: FloatArray = 1.0 + m * steps
    return days * factors[:, np.newaxis]


METER_ANOMALIES: tuple[AnomalyType, ...] = (
    AnomalyType("spike", "meter", (3, 6, 10), "× level", 1, _spike, "1-4 half hours × m"),
    AnomalyType(
        "dead_meter", "meter", (0.25, 0.5, 1.0), "of the day", 1, _dead, "zeros or flat, last f"
    ),
    AnomalyType("stuck", "meter", (2, 6, 12), "hours", 1, _stuck, "one reading repeated h hours"),
    AnomalyType(
        "night_load", "meter", (1.5, 3, 6), "× level", 1, _night, "+m × level, 2-4 h in 01-05"
    ),
    AnomalyType("doubled_day", "meter", (1.5, 2, 3), "×", 1, _doubled, "every half hour × m"),
    AnomalyType("shifted", "meter", (3, 4.5, 6), "hours", 1, _shifted, "profile moved h hours"),
    AnomalyType("drift", "meter", (0.5, 1, 2), "final +", 7, _drift, "7 days ramping to × (1+m)"),
)


def anomaly_by_name(name: str, types: tuple[AnomalyType, ...] = METER_ANOMALIES) -> AnomalyType:
    for anomaly in types:
        if anomaly.name == name:
            return anomaly
    raise KeyError(f"no anomaly type {name!r}; known: {[a.name for a in types]}")
