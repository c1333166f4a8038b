"""NaN-aware statistics over whole batches of days, for the history terms.

The history terms judge every window of a micro-batch against its own
history. Done window by window in numpy they cost ~0.3 ms each (numpy's
per-call overhead, ~15 calls a window); here every statistic is one call
over the batch: histories are one ``(n, K, 48)`` array, NaN where a slot or
a whole day is absent, and each reduction ignores NaN.

* :func:`stack_histories` pads the per-window histories into that array and
  moves each window's *usable* days (not all zero, not all missing: a meter
  that sent zeros for weeks says nothing of its normal use) to the end, in
  order, so ``[:, -r:]`` are the ``r`` most recent usable days;
* :func:`nan_quantile` is numpy's linear quantile of the present values
  along an axis (``np.nanmedian``/``np.nanpercentile`` over an axis loop in
  Python or go through masked arrays, 10-50 times slower);
* :func:`longest_run` and :func:`block_mean` work on the last axis of any
  shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS

__all__ = ["block_mean", "longest_run", "nan_mean", "nan_quantile", "stack_histories"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _present_sums(days: FloatArray) -> tuple[FloatArray, IntArray]:
    """Per day (last axis): the sum and the number of the present values."""
    present = np.isfinite(days)
    return np.sum(days, axis=-1, where=present), np.count_nonzero(present, axis=-1)


def stack_histories(histories: Sequence[FloatArray] | FloatArray) -> tuple[FloatArray, IntArray]:
    """``(days, usable)``: ``(n, K, 48)`` with each row's usable days last (oldest
    first) and NaN before them, and the number of usable days per row.

    ``histories`` is one ``(k, 48)`` array per window, or already an
    ``(n, K, 48)`` array (rows of NaN are absent days; it is not modified).
    """
    if isinstance(histories, np.ndarray) and histories.ndim == 3:
        days = np.asarray(histories, dtype=np.float64)
    else:
        longest = max((len(h) for h in histories), default=0)
        days = np.full((len(histories), longest, MODEL_SLOTS), np.nan)
        for row, history in enumerate(histories):
            if len(history):
                days[row, longest - len(history) :] = history
    usable = _present_sums(days)[0] > 0  # values are >= 0: zero means nothing used
    # rows where an unusable day lies between usable ones (rare): compact them,
    # a stable sort of the flags keeps the order and puts the usable days last
    rows = np.flatnonzero((usable[:, :-1] & ~usable[:, 1:]).any(axis=1))
    if rows.size or not usable.all():
        days = days.copy()
        days[~usable] = np.nan
    if rows.size:
        order = np.argsort(usable[rows], axis=1, kind="stable")
        days[rows] = np.take_along_axis(days[rows], order[:, :, np.newaxis], axis=1)
    return days, usable.sum(axis=1).astype(np.int64)


def nan_mean(days: FloatArray) -> FloatArray:
    """Mean of the present values along the last axis; NaN where there is none."""
    sums, counts = _present_sums(days)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = np.where(counts > 0, sums / counts, np.nan)
    return result


def nan_quantile(values: FloatArray, q: float, axis: int) -> FloatArray:
    """The ``q`` quantile of the finite values along ``axis`` (numpy's linear
    rule); NaN where there is none."""
    ordered = np.sort(values, axis=axis)  # NaN sorts last
    top = np.maximum(np.isfinite(values).sum(axis=axis, keepdims=True) - 1, 0)
    position = q * top
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, top)
    fraction = position - low
    below = np.take_along_axis(ordered, low, axis=axis)
    above = np.take_along_axis(ordered, high, axis=axis)
    result: FloatArray = np.squeeze(below * (1 - fraction) + above * fraction, axis=axis)
    return result


def longest_run(rows: FloatArray) -> tuple[IntArray, IntArray]:
    """Per day (last axis, 48 slots): the longest run of equal consecutive
    present values (as repeats, so 3 equal values are a run of 2) and the slot
    where it ends. Computed on the flat buffer: numpy is fast along one long
    axis and slow along many short ones."""
    shape = rows.shape[:-1]
    flat = np.ascontiguousarray(rows).reshape(-1)
    same = np.zeros(flat.size, dtype=bool)
    same[1:] = flat[1:] == flat[:-1]  # NaN is never equal: gaps break runs
    same[:: rows.shape[-1]] = False  # a day's first slot continues nothing
    index = np.arange(flat.size, dtype=np.int64)
    last_break = np.maximum.accumulate(np.where(same, 0, index))
    current = (index - last_break).reshape(-1, rows.shape[-1])
    best = current.max(axis=1)
    end = current.argmax(axis=1)  # the first slot where the longest run peaks
    return best.reshape(shape), np.where(best > 0, end, 0).reshape(shape)


def block_mean(rows: FloatArray, slots: int) -> FloatArray:
    """Centred moving mean of the present values over ``slots`` half hours
    along the last axis (48), wrapping at midnight; NaN where none is present.
    Shifts of the flat buffer, then the few slots that wrap are redone."""
    width = rows.shape[-1]
    present = np.isfinite(rows)
    filled = np.where(present, rows, 0.0).reshape(-1)
    counts = present.reshape(-1).astype(np.int16)
    flat_total, flat_count = filled.copy(), counts.copy()
    offsets = range(-(slots - slots // 2 - 1), slots // 2 + 1)  # as np.roll's shifts did
    for d in offsets:
        if d < 0:
            flat_total[-d:] += filled[:d]
            flat_count[-d:] += counts[:d]
        elif d > 0:
            flat_total[:-d] += filled[d:]
            flat_count[:-d] += counts[d:]
    total, count = flat_total.reshape(-1, width), flat_count.reshape(-1, width)
    grid_filled, grid_counts = filled.reshape(-1, width), counts.reshape(-1, width)
    # the slots near midnight took their neighbours from the next or previous day
    wrapping = [s for s in range(width) if any(not 0 <= s + d < width for d in offsets)]
    for slot in wrapping:
        columns = [(slot + d) % width for d in offsets]
        total[:, slot] = grid_filled[:, columns].sum(axis=1)
        count[:, slot] = grid_counts[:, columns].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = np.where(count > 0, total / count, np.nan)
    return result.reshape(rows.shape)
