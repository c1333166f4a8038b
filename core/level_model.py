"""Per-entity level model: how much an entity uses on a day like this one, learnt in training.

The history terms judge a day's level against the entity's last 28 days.
Two anomalies slip through that: a doubled day looks like a cold or busy
day of a history that has both, and a meter drifting upward for a week
carries its own drift into the history it is judged against. This model
gives the expected level from the entity's *training* days instead, under
the day's conditions, with the spread of its training days around it.

Per entity, two ridge regressions on its training days (scaled units,
``log(x + c)``):

* the day's mean half hour, and
* its baseload, the 10th-percentile half hour (a busy day lifts some
  hours; a doubled day or a drifting meter lifts the night's baseload too);

on the features ``1``, *darkness* ``-cos(2π(day of year - 172) / 365.25)``
(lighting: symmetric about midsummer, so autumn is learnt from spring),
*heating* ``max(15.5 °C - temperature, 0) / 10`` (heating degrees of the
day's mean temperature) and *rest day* (Saturday, Sunday or a public
holiday). The coefficients are shrunk towards the pooled fit of all
entities (``ridge``; the intercept is the entity's own), so five weeks of
one household are enough. A day without a temperature gets the heating
degrees its darkness had on average in training (``heat_fill``); a model
trained without any temperature leaves heating out.

:meth:`LevelModel.z` is the robust z of a day's two statistics against the
prediction (residual / the entity's residual MAD as σ, at least
``spread_floor``); NaN for an entity without a fit. The scorer's
``trained_level`` term (:mod:`core.scoring.level_term`) uses it. Stored with
the model version as JSON (coefficients rounded to 5 significant digits).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from core.holidays import HolidayCalendar
from core.normalization import EntityNormalizer
from core.scoring.base import DayWindow
from core.scoring.batch_stats import nan_mean, nan_quantile

__all__ = ["FEATURES", "LevelModel", "day_levels"]

FloatArray = npt.NDArray[np.float64]
FEATURES = ("intercept", "darkness", "heating", "rest_day")
_HEAT_BASE_C = 15.5
_MIN_DAYS = 14  # fewer training days: no fit, the entity is judged by its history alone
_MAD_TO_SIGMA = 1.4826
_Fit = tuple[tuple[float, ...], tuple[float, ...], float, float]  # mean, base coefs; spreads


def day_levels(values: FloatArray, c: float) -> tuple[FloatArray, FloatArray]:
    """``(log(mean + c), log(q10 + c))`` of each row of scaled values ``(n, 48)``; NaN = none."""
    with np.errstate(invalid="ignore"):
        return np.log(nan_mean(values) + c), np.log(nan_quantile(values, 0.1, axis=1) + c)


def _round(values: npt.NDArray[np.floating[Any]]) -> tuple[float, ...]:
    return tuple(float(f"{v:.5g}") for v in values)


@dataclass(frozen=True, slots=True)
class LevelModel:
    """Entity -> (mean coefficients, baseload coefficients, mean spread, baseload spread)."""

    log_offset: float = 0.05
    spread_floor: float = 0.1
    uses_temperature: bool = True
    heat_fill: tuple[float, float] = (0.0, 0.0)  # heating ≈ a + b · darkness, no temperature
    fits: Mapping[str, _Fit] = field(default_factory=lambda: MappingProxyType({}))
    # the fits as arrays (row 0: no fit, NaN) and each entity's row: one lookup a window
    _rows: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _coef: FloatArray = field(init=False, repr=False, compare=False)
    _spread: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        width = len(FEATURES)
        for entity, (mean, base, s_mean, s_base) in self.fits.items():
            numbers = (*mean, *base, s_mean, s_base)
            if len(mean) != width or len(base) != width:
                raise ValueError(f"level model of {entity!r} must have {width} coefficients each")
            if not all(math.isfinite(v) for v in numbers) or min(s_mean, s_base) <= 0:
                raise ValueError(f"level model of {entity!r} must be finite, spreads > 0")
        object.__setattr__(self, "fits", MappingProxyType(dict(self.fits)))
        coef = np.full((len(self.fits) + 1, 2, width), np.nan)
        spread = np.full((len(self.fits) + 1, 2), np.nan)
        for row, (mean, base, s_mean, s_base) in enumerate(self.fits.values(), start=1):
            coef[row], spread[row] = (mean, base), (s_mean, s_base)
        object.__setattr__(self, "_rows", {e: r for r, e in enumerate(self.fits, start=1)})
        object.__setattr__(self, "_coef", coef)
        object.__setattr__(self, "_spread", spread)

    def features(self, windows: Sequence[DayWindow], calendar: HolidayCalendar) -> FloatArray:
        """The ``(n, 4)`` feature matrix of :data:`FEATURES` of the windows' days."""
        n = len(windows)
        ordinal = np.fromiter((w.day.toordinal() for w in windows), np.int64, n)
        temps = np.fromiter(
            (np.nan if w.temperature_c is None else w.temperature_c for w in windows), float, n
        )
        return self.day_features(ordinal, temps, calendar)

    def day_features(
        self, ordinal: npt.NDArray[np.int64], temps: FloatArray, calendar: HolidayCalendar
    ) -> FloatArray:
        """:data:`FEATURES` of days given as ordinals and mean temperatures (NaN:
        none); array arithmetic, the calendar looked up once per distinct day."""
        out = np.zeros((len(ordinal), len(FEATURES)))
        if len(ordinal) == 0:
            return out
        distinct, where = np.unique(ordinal, return_inverse=True)
        days = [date.fromordinal(int(o)) for o in distinct]
        new_year = np.array([date(d.year, 1, 1).toordinal() for d in days])[where]
        holiday = np.array([calendar.is_holiday(d) for d in days], dtype=bool)[where]
        out[:, 0] = 1.0
        out[:, 1] = -np.cos(2.0 * np.pi * (ordinal - new_year + 1 - 172) / 365.25)
        if self.uses_temperature:
            heat = np.maximum(_HEAT_BASE_C - temps, 0.0) / 10.0
            fill = self.heat_fill[0] + self.heat_fill[1] * out[:, 1]
            out[:, 2] = np.where(np.isfinite(temps), heat, fill)
        out[:, 3] = ((ordinal - 1) % 7 >= 5) | holiday  # ordinal 1 was a Monday
        return out

    @classmethod
    def fit(
        cls,
        windows: Sequence[DayWindow],
        normalizer: EntityNormalizer,
        calendar: HolidayCalendar,
        *,
        ridge: float = 10.0,
        log_offset: float = 0.05,
        spread_floor: float = 0.1,
    ) -> LevelModel:
        """The level model of the entities of ``windows`` (their training days)."""
        days = [w for w in windows if w.entity_id in normalizer.scales]
        temps = np.array([np.nan if w.temperature_c is None else w.temperature_c for w in days])
        has_temp = np.isfinite(temps)
        uses_temperature = int(has_temp.sum()) >= _MIN_DAYS
        probe = cls(log_offset, spread_floor, uses_temperature)
        x = probe.features(days, calendar)
        heat_fill = (0.0, 0.0)
        if uses_temperature:  # heating degrees by darkness, for days that come without one
            b, a = np.polyfit(x[has_temp, 1], x[has_temp, 2], 1)
            heat_fill = (float(a), float(b))
            x[~has_temp, 2] = a + b * x[~has_temp, 1]
        if not days:
            return cls(log_offset, spread_floor, uses_temperature, heat_fill)
        scales = np.array([normalizer.scales[w.entity_id] for w in days])
        y = np.stack(day_levels(np.stack([w.values for w in days]) / scales[:, None], log_offset))
        ok: npt.NDArray[np.bool_] = np.asarray(np.isfinite(y).all(axis=0))
        pooled = np.linalg.lstsq(x[ok], y[:, ok].T, rcond=None)[0]  # (4, 2)
        penalty = np.eye(len(FEATURES)) * ridge
        penalty[0, 0] = 0.0  # the entity's own level is not shrunk
        by_entity: defaultdict[str, list[int]] = defaultdict(list)
        for row, window in enumerate(days):
            if ok[row]:
                by_entity[window.entity_id].append(row)
        fits: dict[str, _Fit] = {}
        for entity, rows in by_entity.items():
            if len(rows) < _MIN_DAYS:
                continue
            xe, ye = x[rows], y[:, rows].T
            coef = np.linalg.solve(xe.T @ xe + penalty, xe.T @ ye + penalty @ pooled)
            residual = ye - xe @ coef
            mad = np.median(np.abs(residual - np.median(residual, axis=0)), axis=0)
            s_mean, s_base = np.maximum(_MAD_TO_SIGMA * mad, spread_floor)
            fits[entity] = (
                _round(coef[:, 0]),
                _round(coef[:, 1]),
                float(f"{s_mean:.5g}"),
                float(f"{s_base:.5g}"),
            )
        return cls(log_offset, spread_floor, uses_temperature, heat_fill, fits)

    def _fitted(self, entities: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        """``(n, 2, F)`` coefficients and ``(n, 2)`` spreads, NaN without a fit."""
        rows = self._rows
        index = np.fromiter((rows.get(e, 0) for e in entities), np.int64, len(entities))
        return self._coef[index], self._spread[index]

    def expected(self, windows: Sequence[DayWindow], calendar: HolidayCalendar) -> FloatArray:
        """``(n, 2)``: the expected ``log(mean + c)`` and ``log(q10 + c)`` of each
        window's day (scaled units), NaN rows for entities without a fit."""
        coef, _ = self._fitted([w.entity_id for w in windows])
        if np.isnan(coef).all():
            return coef[:, :, 0]
        result: FloatArray = np.einsum("nkf,nf->nk", coef, self.features(windows, calendar))
        return result

    def z(
        self,
        windows: Sequence[DayWindow],
        scaled: FloatArray,
        calendar: HolidayCalendar,
        expected: FloatArray | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Robust z of the day's mean and baseload (``scaled``: ``(n, 48)``, NaN =
        missing) against the entity's expected ones (:meth:`expected`, if the
        caller has it); NaN rows for unknown entities."""
        _, spread = self._fitted([w.entity_id for w in windows])
        if np.isnan(spread).all():
            return spread[:, 0], spread[:, 1]
        if expected is None:
            expected = self.expected(windows, calendar)
        mean, base = day_levels(scaled, self.log_offset)
        return (mean - expected[:, 0]) / spread[:, 0], (base - expected[:, 1]) / spread[:, 1]

    def day_expected(
        self,
        entities: Sequence[str],
        ordinal: npt.NDArray[np.int64],
        temps: FloatArray,
        calendar: HolidayCalendar,
    ) -> FloatArray:
        """``(n, k, 2)``: :meth:`expected` of ``k`` other days of each entity (its
        history days, say), given as ``(n, k)`` ordinals and mean temperatures
        (NaN: none)."""
        coef, _ = self._fitted(entities)
        n, k = ordinal.shape
        features = self.day_features(ordinal.reshape(-1), temps.reshape(-1), calendar)
        result: FloatArray = np.einsum("nkf,njf->njk", coef, features.reshape(n, k, len(FEATURES)))
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "log_offset": self.log_offset,
            "spread_floor": self.spread_floor,
            "uses_temperature": self.uses_temperature,
            "heat_fill": list(self.heat_fill),
            "fits": {e: [list(m), list(b), sm, sb] for e, (m, b, sm, sb) in self.fits.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LevelModel:
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError(f"level model features {data.get('features')!r} are not {FEATURES}")
        fits = data.get("fits")
        if not isinstance(fits, Mapping):
            raise ValueError("level_model.fits must be an object of entity -> fit")
        fill = tuple(float(v) for v in data["heat_fill"])
        if len(fill) != 2:
            raise ValueError("level_model.heat_fill must be two numbers")
        return cls(
            float(data["log_offset"]),
            float(data["spread_floor"]),
            bool(data["uses_temperature"]),
            (fill[0], fill[1]),
            {
                str(e): (
                    tuple(float(v) for v in m),
                    tuple(float(v) for v in b),
                    float(sm),
                    float(sb),
                )
                for e, (m, b, sm, sb) in fits.items()
            },
        )
