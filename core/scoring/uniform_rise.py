"""A day raised at every level of use, against its own history put on today's conditions.

A meter that drifts, or doubles, multiplies every half hour: the day's
baseload, its median and its peaks rise by the same factor. A real busy day
(guests, cooking, a cold evening) lifts some hours and leaves the rest, and
a cold spell lifts the whole day because it is cold. So, for the day's
10th, 25th, 50th, 75th and 90th percentile half hour, the robust z of
``log(q + c)`` against the same percentile of each of its history days,
and the *smallest* of the five (``uniform_z``): how far the whole day rose.

Each history day is first moved to today's conditions by the trained level
model (:mod:`core.level_model`): its percentiles are raised by what the model
expects today above that day (the baseload model for the 10th percentile,
the mean model for the others), from that day's own date and mean
temperature (``DayWindow.history_days``, ``history_temperatures``, which
the worker keeps with every history day). A cold day after a mild week is
then judged against mild days made cold, not against mild days. Measured on
the tuning months (docs/QUALITY.md): without that adjustment the statistic
found no more drift on April-May, whose history held March's cold spell.

The score's ``uniform_rise`` term (:func:`core.scoring.level_term.uniform_rise_term`)
needs this *and* the trained level to agree. Computed only for the rows the
caller names (where the trained level is high enough for the term to be
non-zero): a sort of 28 history days per row is the costly part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.holidays import HolidayCalendar
from core.level_model import LevelModel
from core.scoring.base import DayWindow
from core.scoring.batch_stats import nan_quantile
from core.scoring.level_term import uniform_rise_term

if TYPE_CHECKING:
    from core.scoring.history_terms import HistoryTermsConfig

__all__ = ["PERCENTILES", "uniform_rise", "uniform_z"]

FloatArray = npt.NDArray[np.float64]
PERCENTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_MAD_TO_SIGMA = 1.4826


def _quantiles(rows: FloatArray) -> FloatArray:
    """``(..., 5)``: :data:`PERCENTILES` of the present values along the last axis
    (numpy's linear rule, as :func:`nan_quantile`), from one sort; NaN if none."""
    ordered = np.sort(rows, axis=-1)  # NaN sorts last
    top = np.maximum(np.isfinite(rows).sum(axis=-1, keepdims=True) - 1, 0)
    out = []
    for q in PERCENTILES:
        position = q * top
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, top)
        fraction = position - low
        below = np.take_along_axis(ordered, low, axis=-1)
        above = np.take_along_axis(ordered, high, axis=-1)
        out.append(below * (1 - fraction) + above * fraction)
    return np.concatenate(out, axis=-1)


def uniform_z(
    windows: Sequence[DayWindow],
    rows: npt.NDArray[np.int64],
    day: FloatArray,
    histories: FloatArray,
    expected: FloatArray,
    *,
    model: LevelModel,
    calendar: HolidayCalendar,
    c: float,
    spread_floor: float,
    min_present: int,
    min_days: int,
) -> FloatArray:
    """``uniform_z`` of ``windows[rows]``: ``day`` ``(n, 48)`` and ``histories``
    ``(n, K, 48)`` scaled (NaN = missing; a window's days last, as the scorer
    pads them), ``expected`` ``(n, 2)`` the level model's for the days.
    NaN where a window's history does not name its days, or has fewer than
    ``min_days`` days with ``min_present`` slots (zero-only days do not count)."""
    result = np.full(len(rows), np.nan)
    k = histories.shape[1]
    ordinal = np.zeros((len(rows), k), dtype=np.int64)
    temps = np.full((len(rows), k), np.nan)
    dated = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        window = windows[row]
        n = len(window.history)
        ordinal[i] = window.day.toordinal()  # padding rows: any day, they are NaN
        if n and len(window.history_days) == n:
            dated[i] = True
            ordinal[i, k - n :] = [d.toordinal() for d in window.history_days]
            if len(window.history_temperatures) == n:
                temps[i, k - n :] = window.history_temperatures
    if not dated.any():
        return result
    past = histories[rows]
    present = np.isfinite(past).sum(axis=2)
    used = (present >= min_present) & (np.nansum(past, axis=2) > 0)
    past = np.where(used[:, :, np.newaxis], past, np.nan)
    entities = [windows[row].entity_id for row in rows]
    shift = expected[rows][:, np.newaxis, :] - model.day_expected(
        entities, ordinal, temps, calendar
    )
    shift = np.nan_to_num(shift)  # an entity without a fit never gets here; be safe
    moved = np.log(_quantiles(past) + c)
    moved[:, :, 0] += shift[:, :, 1]  # the baseload model for the 10th percentile
    moved[:, :, 1:] += shift[:, :, :1]  # the mean model for the others
    median = nan_quantile(moved, 0.5, axis=1)
    mad = nan_quantile(np.abs(moved - median[:, np.newaxis, :]), 0.5, axis=1)
    spread = np.maximum(_MAD_TO_SIGMA * mad, spread_floor)
    today = np.log(_quantiles(day[rows]) + c)
    z = np.min((today - median) / spread, axis=1)
    ok = dated & (used.sum(axis=1) >= min_days) & np.isfinite(z)
    result[ok] = z[ok]
    return result


def uniform_rise(
    windows: Sequence[DayWindow],
    values: FloatArray,
    histories: FloatArray,
    expected: FloatArray,
    lifted: FloatArray,
    *,
    model: LevelModel,
    calendar: HolidayCalendar,
    cfg: HistoryTermsConfig,
) -> FloatArray:
    """The ``uniform_rise`` term per slot ``(n, 48)``, computed only where the
    trained level (``lifted``, :func:`core.scoring.level_term.lifted_z`) lets it
    be non-zero: on clean days a sixth or fewer."""
    out = np.zeros(values.shape)
    if cfg.uniform_rise_weight <= 0 or histories.shape[1] == 0:
        return out
    reach = np.nan_to_num(lifted, nan=-np.inf) + cfg.uniform_rise_level_slack
    rows = np.flatnonzero(reach > cfg.uniform_rise_free_z)
    if rows.size == 0:
        return out
    z = uniform_z(
        windows,
        rows,
        values,
        histories,
        expected,
        model=model,
        calendar=calendar,
        c=model.log_offset,
        spread_floor=cfg.uniform_rise_spread_floor,
        min_present=cfg.level_min_present,
        min_days=cfg.min_history,
    )
    out[rows] = uniform_rise_term(values[rows], lifted[rows], z, cfg)
    return out
