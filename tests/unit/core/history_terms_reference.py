"""The per-window history terms as they were before the batched version
(commit 60e6c66), kept verbatim as the reference the batched code must equal."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from core.scoring.history_terms import HistoryTerms, HistoryTermsConfig

__all__ = ["reference_terms"]

FloatArray = npt.NDArray[np.float64]
_MAD_TO_SIGMA = 1.4826


def _longest_run(rows: FloatArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per row: the longest run of equal consecutive present values (as repeats,
    so 3 equal values are a run of 2) and the index of its last slot."""
    same = rows[:, 1:] == rows[:, :-1]  # NaN is never equal: gaps break runs
    index = np.arange(same.shape[1])
    # repeats so far at each slot: distance to the last slot that broke the run
    last_break = np.maximum.accumulate(np.where(same, -1, index), axis=1)
    current = np.where(same, index - last_break, 0)
    best = current.max(axis=1)
    end = current.argmax(axis=1) + 1  # the first slot where the longest run peaks
    return best.astype(np.int64), np.where(best > 0, end, 0).astype(np.int64)


def _row_quantile(rows: FloatArray, q: float) -> FloatArray:
    """Per row, the ``q`` quantile of the present values (numpy's linear rule);
    ``np.nanpercentile`` does the same one row at a time, 50 times slower."""
    ordered = np.sort(rows, axis=1)  # NaN sorts last
    top = np.maximum(np.isfinite(rows).sum(axis=1) - 1, 0)
    position = q * top
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, top)
    fraction = position - low
    picked = np.arange(rows.shape[0])
    result: FloatArray = ordered[picked, low] * (1 - fraction) + ordered[picked, high] * fraction
    return result


def _excess(logs: FloatArray, history: FloatArray, c: float) -> FloatArray:
    """Squared log rise of ``logs`` above the history's per-slot maximum, ± one slot."""
    peak = np.nan_to_num(np.nanmax(history, axis=0), nan=0.0)
    peak = np.maximum(peak, np.maximum(np.roll(peak, 1), np.roll(peak, -1)))
    result: FloatArray = np.maximum(logs - np.log(peak + c), 0.0) ** 2
    return result


def _block_mean(rows: FloatArray, cfg: HistoryTermsConfig) -> FloatArray:
    """Centred moving mean over ``block_slots`` half hours (wrapping at midnight)."""
    k = cfg.block_slots
    shifted = np.stack([np.roll(rows, shift, axis=1) for shift in range(-(k // 2), k - k // 2)])
    result: FloatArray = np.nanmean(shifted, axis=0)
    return result


def _level_z(
    today: float, days: FloatArray, c: float, floor: float, cfg: HistoryTermsConfig
) -> float:
    """|robust z| of ``log(today + c)`` against the history's days, the smaller of
    the whole history's and the recent days' (same spread): a change that has
    lasted a few days (the heating switched off for spring) is news once."""
    logs = np.log(days + c)
    median = float(np.median(logs))
    spread = max(_MAD_TO_SIGMA * float(np.median(np.abs(logs - median))), floor)
    recent = float(np.median(logs[-cfg.recent_days :]))
    value = float(np.log(today + c))
    return min(abs(value - median), abs(value - recent)) / spread


def _one(
    day: FloatArray, history: FloatArray, cfg: HistoryTermsConfig
) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    zeros = np.zeros(MODEL_SLOTS)
    usable = history[np.nansum(history, axis=1) > 0] if len(history) else history
    present = np.isfinite(day)
    if len(usable) < cfg.min_history or not present.any():
        return zeros, zeros, zeros.copy(), len(usable)
    c = cfg.log_offset
    logs = np.log(np.maximum(np.nan_to_num(day), 0.0) + c)

    # excess over the history's largest value at this time of day, ± one slot,
    # for single half hours and for two-hour means (a sustained rise)
    excess = cfg.excess_weight * np.where(present, _excess(logs, usable, c), 0.0)
    if cfg.block_slots > 1:
        block = _block_mean(np.where(present, np.nan_to_num(day), np.nan)[np.newaxis], cfg)
        block_logs = np.log(np.nan_to_num(block[0]) + c)
        block_excess = _excess(block_logs, _block_mean(usable, cfg), c)
        excess += cfg.block_weight * np.where(present, block_excess, 0.0)

    # the day's level (mean) and baseload (10th-percentile half hour) against the history's
    z = _level_z(float(np.nanmean(day)), np.nanmean(usable, axis=1), c, cfg.level_spread_floor, cfg)
    zb = _level_z(
        float(_row_quantile(day[np.newaxis, :], 0.1)[0]),
        _row_quantile(usable, 0.1),
        c,
        cfg.baseload_spread_floor,
        cfg,
    )
    level_total = cfg.level_weight * max(z - cfg.level_free_z, 0.0) ** 2
    level_total += cfg.baseload_weight * max(zb - cfg.baseload_free_z, 0.0) ** 2

    level = zeros.copy()
    if level_total > 0:
        profile = np.nan_to_num(np.nanmedian(usable, axis=0))
        away = np.where(present, np.abs(np.nan_to_num(day) - profile), 0.0)
        weights = away if away.sum() > 0 else present.astype(np.float64)
        level = level_total * weights / weights.sum()

    # a reading repeated longer than the entity ever repeated one lately
    run, end = _longest_run(day[np.newaxis, :])
    allowed = max(cfg.stuck_free_slots, int(_longest_run(usable)[0].max()))
    stuck = zeros.copy()
    beyond = int(run[0]) - allowed
    if beyond > 0:
        first = int(end[0]) - int(run[0])
        stuck[first : int(end[0]) + 1] = cfg.stuck_weight * beyond**2 / (int(run[0]) + 1)
    return excess, level, stuck, len(usable)


def reference_terms(
    values: FloatArray, histories: list[FloatArray], config: HistoryTermsConfig | None = None
) -> HistoryTerms:
    """The terms for a batch: ``values`` ``(n, 48)`` and one ``(k, 48)`` history
    per row, both already divided by the entity's scale; NaN = missing."""
    cfg = config or HistoryTermsConfig()
    n = values.shape[0]
    out = np.zeros((3, n, MODEL_SLOTS))
    days = np.zeros(n, dtype=np.int64)
    # An all-NaN column of history (a half hour never read) is handled; numpy warns.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for row in range(n):
            excess, level, stuck, used = _one(values[row], histories[row], cfg)
            out[0, row], out[1, row], out[2, row] = excess, level, stuck
            days[row] = used
    return HistoryTerms(out[0], out[1], out[2], np.zeros_like(out[0]), days)
