"""The day's level against the entity's trained level model (:mod:`core.level_model`).

``trained_level``: the smaller of the robust z of the day's mean half hour
and of its baseload (+ ``trained_level_baseload_slack``) against what the
entity's training days predict under the day's conditions, beyond
``trained_level_free_z``, squared, × ``trained_level_weight``. Upward only:
a day below its level is the dead-meter and stuck terms' business.

Why both statistics: a real busy day (guests, a cold evening, cooking for
many) lifts the mean but leaves the night's baseload; a doubled day or a
meter drifting upward lifts both. It also guards against a fit that
extrapolates: on the evaluation's autumn test months the mean's z alone
has a 99th percentile of 5.1 on clean days, the smaller of the two 2.3
(docs/QUALITY.md). Spread over the present slots in proportion to their
value: a day × 2 is most wrong where it uses most.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.scoring.batch_stats import nan_mean, nan_quantile

if TYPE_CHECKING:
    from core.scoring.history_terms import HistoryTermsConfig

__all__ = ["expected_rise", "lifted_z", "trained_level_term", "uniform_rise_term"]

FloatArray = npt.NDArray[np.float64]


def lifted_z(z_mean: FloatArray, z_base: FloatArray, cfg: HistoryTermsConfig) -> FloatArray:
    """The trained level's evidence: the smaller of the two z (baseload + slack)."""
    result: FloatArray = np.fmin(z_mean, z_base + cfg.trained_level_baseload_slack)
    return result


def trained_level_term(
    day: FloatArray, z_mean: FloatArray, z_base: FloatArray, cfg: HistoryTermsConfig
) -> FloatArray:
    """Per-slot contributions ``(n, 48)``; ``day`` scaled (NaN = missing), ``z_*``
    ``(n,)`` from :meth:`core.level_model.LevelModel.z` (NaN: no fit, no term)."""
    lifted = lifted_z(z_mean, z_base, cfg)
    beyond = np.maximum(np.nan_to_num(lifted, nan=0.0) - cfg.trained_level_free_z, 0.0)
    return _by_value(day, cfg.trained_level_weight * beyond**2, cfg)


def uniform_rise_term(
    day: FloatArray, lifted: FloatArray, uniform: FloatArray, cfg: HistoryTermsConfig
) -> FloatArray:
    """Per-slot contributions ``(n, 48)`` of a day raised at every percentile
    (``uniform``, :func:`core.scoring.uniform_rise.uniform_z`) *and* above its
    trained level (``lifted`` + ``uniform_rise_level_slack``): the smaller of
    the two beyond ``uniform_rise_free_z``, squared, × ``uniform_rise_weight``.
    NaN in either: no term."""
    both = np.fmin(lifted + cfg.uniform_rise_level_slack, uniform)
    both = np.where(np.isfinite(lifted) & np.isfinite(uniform), both, 0.0)
    beyond = np.maximum(both - cfg.uniform_rise_free_z, 0.0)
    return _by_value(day, cfg.uniform_rise_weight * beyond**2, cfg)


def _by_value(day: FloatArray, total: FloatArray, cfg: HistoryTermsConfig) -> FloatArray:
    """``total`` ``(n,)`` spread over each day's present slots in proportion to
    their value; 0 for a day with fewer than ``level_min_present`` slots."""
    present = np.isfinite(day)
    total = np.where(present.sum(axis=1) < cfg.level_min_present, 0.0, total)
    weights = np.where(present, np.maximum(np.nan_to_num(day), 0.0), 0.0)
    empty = weights.sum(axis=1) <= 0
    weights[empty] = present[empty]  # a day of zeros: evenly over its present slots
    sums = np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    result: FloatArray = total[:, np.newaxis] * weights / sums
    return result


def expected_rise(expected: FloatArray, histories: FloatArray, c: float) -> FloatArray:
    """How much higher (log units, >= 0) the level model expects the day's
    mean than the median level of its history days ``(n, K, 48)`` scaled:
    the ``allowance`` of :func:`core.scoring.history_terms.history_terms`.
    0 where either is unknown."""
    if histories.shape[1] == 0:  # no window of the batch has a history
        return np.zeros(len(expected))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        usual = nan_quantile(np.log(nan_mean(histories) + c), 0.5, axis=1)
    result: FloatArray = np.maximum(np.nan_to_num(expected - usual, nan=0.0), 0.0)
    return result
