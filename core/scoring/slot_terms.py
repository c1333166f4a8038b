"""Two history terms read against the entity's usual value at each time of day.

Both compare the day, half hour by half hour, with per-slot quantiles of
the entity's history (``(n, K, 48)`` from :func:`~core.scoring.batch_stats.stack_histories`,
scaled units, NaN = absent), batched over windows:

``raised``   a day raised at *every* hour. Per slot, the robust z of
             ``log(x + c)`` against that slot's history (median, MAD with a
             floor); the day's statistic is the lower quartile of those z
             over the slots, beyond ``raised_free_z``, squared. A doubled
             day or a meter drifting upward lifts every half hour, the
             night's baseload with the evening; a real busy day (guests,
             cooking, heating on a cold evening) lifts some hours and
             leaves the rest: its lower quartile stays near 0. Spread over
             the slots in proportion to their positive z.
``deficit``  a block of ``deficit_slots`` half hours whose mean falls below
             what the entity's history had at that time of day (the
             ``deficit_quantile`` of the history's block means), in log,
             squared, *inside the day's active span* (from its first to
             its last non-zero half hour). A sales outage (nothing sold for
             hours, then sales again) or a price error (the same tickets
             at a quarter of the amount) is a gap inside the day; a
             sell-out ends the day's sales and is no gap, nor is a meter
             that stopped (that is ``stuck``'s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from core.scoring.batch_stats import block_mean, nan_quantile

if TYPE_CHECKING:
    from core.scoring.history_terms import HistoryTermsConfig

__all__ = ["deficit_term", "raised_term"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_MAD_TO_SIGMA = 1.4826


def raised_term(
    day: FloatArray, days: FloatArray, present: BoolArray, cfg: HistoryTermsConfig
) -> FloatArray:
    """Per-slot contributions ``(n, 48)`` of ``raised`` (see the module doc)."""
    c = cfg.log_offset
    logs = np.log(days + c)
    median = nan_quantile(logs, 0.5, axis=1)  # (n, 48): the usual at each half hour
    mad = nan_quantile(np.abs(logs - median[:, np.newaxis]), 0.5, axis=1)
    spread = np.maximum(_MAD_TO_SIGMA * np.nan_to_num(mad), cfg.raised_spread_floor)
    z = (np.log(np.maximum(day, 0.0) + c) - median) / spread  # NaN where absent
    lifted = np.nan_to_num(nan_quantile(z, cfg.raised_quantile, axis=1))
    total = cfg.raised_weight * np.maximum(lifted - cfg.raised_free_z, 0.0) ** 2
    weights = np.where(present, np.maximum(np.nan_to_num(z), 0.0), 0.0)
    sums = weights.sum(axis=1, keepdims=True)
    result: FloatArray = np.where(
        (total[:, np.newaxis] > 0) & (sums > 0),
        total[:, np.newaxis] * weights / np.maximum(sums, 1e-12),
        0.0,
    )
    return result


def deficit_term(
    day: FloatArray, days: FloatArray, present: BoolArray, cfg: HistoryTermsConfig
) -> FloatArray:
    """Per-slot contributions ``(n, 48)`` of ``deficit`` (see the module doc)."""
    c, width = cfg.log_offset, cfg.deficit_slots
    usual_low = nan_quantile(block_mean(days, width), cfg.deficit_quantile, axis=1)
    block = block_mean(np.where(present, day, np.nan), width)
    gap = np.maximum(np.log(np.nan_to_num(usual_low) + c) - np.log(np.nan_to_num(block) + c), 0.0)
    sold = np.nan_to_num(day) > 0
    first = np.where(sold.any(axis=1), sold.argmax(axis=1), MODEL_SLOTS)
    last = np.where(sold.any(axis=1), MODEL_SLOTS - 1 - sold[:, ::-1].argmax(axis=1), -1)
    slots = np.arange(MODEL_SLOTS)
    # the block around slot s spans s - (width - width // 2 - 1) .. s + width // 2
    inside = (slots - (width - width // 2 - 1) >= first[:, np.newaxis]) & (
        slots + width // 2 <= last[:, np.newaxis]
    )
    result: FloatArray = cfg.deficit_weight * np.where(inside & present, gap**2, 0.0)
    return result
