"""Thresholds calibrated on held-out windows, for a stated false-alarm rate.

A window is anomalous when ``score >= threshold``. Two ways to set it from
the scores of held-out *normal* windows (windows the model was not fitted on):

* ``quantile`` (default): the ``1 - target_rate`` quantile, taking an actual
  held-out score (``method="higher"``), so about ``target_rate`` of normal
  days raise an alert: the false-alarm rate is what is chosen, directly.
  With fewer than ``1 / target_rate`` windows that quantile lies beyond the
  largest score. From 50 windows on it is then extrapolated: an exponential
  tail (peaks over a threshold) fitted to the largest 10 scores (at most the
  top quarter), ``u + mean excess × ln(share / target_rate)``, never below
  the largest score. The demo's first model has 90 held-out windows: their
  largest score made a threshold that let about 5 % of the following
  weeks' real days alarm. Below 50 windows, the largest score. Either
  way the rate achieved on the windows (``observed_rate``) is reported.
* ``mean_std``: mean + k·σ (k = 2.5 in the case study). Simple, but scores
  are skewed (squared errors), so the false-alarm rate it gives is whatever
  the tail makes it; ``observed_rate`` records it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Threshold", "ThresholdMethod", "calibrate", "score_summary", "sure_exceedances"]

# A zero threshold would make severity_for() call nothing anomalous.
_MIN_THRESHOLD = 1e-9
_TAIL_MIN_WINDOWS = 50  # fewer: no tail to fit, the largest score
_TAIL_POINTS = 10


class ThresholdMethod(StrEnum):
    QUANTILE = "quantile"
    MEAN_STD = "mean_std"


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    method: ThresholdMethod
    target_rate: float | None  # quantile method
    k: float | None  # mean_std method
    n: int  # held-out windows it was calibrated on
    observed_rate: float  # share of those windows at or above it
    confidence: float | None = None  # quantile method read conservatively (optional field)

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "method": self.method.value,
            "target_rate": self.target_rate,
            "k": self.k,
            "n": self.n,
            "observed_rate": self.observed_rate,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Threshold:
        value = float(data["value"])
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"threshold must be a positive number, got {value}")
        rate, k, confidence = data.get("target_rate"), data.get("k"), data.get("confidence")
        return cls(
            value,
            ThresholdMethod(data["method"]),
            None if rate is None else float(rate),
            None if k is None else float(k),
            int(data["n"]),
            float(data["observed_rate"]),
            None if confidence is None else float(confidence),
        )


def _finite(scores: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(scores, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError("no scores to calibrate on")
    if not np.isfinite(array).all():
        raise ValueError("scores must be finite")
    return array


def _tail_quantile(array: npt.NDArray[np.float64], target_rate: float) -> float:
    """The ``1 - target_rate`` quantile from an exponential tail over the top scores."""
    share = min(max(_TAIL_POINTS / array.size, 0.1), 0.25)
    start = float(np.quantile(array, 1.0 - share))
    excess = array[array > start] - start
    if excess.size == 0:
        return start
    return start + float(excess.mean()) * math.log(share / target_rate)


def sure_exceedances(n: int, target_rate: float, confidence: float) -> int:
    """The largest ``k`` with ``P(Binomial(n, target_rate) >= k) >= confidence`` (0 if none):
    the ``k``-th largest of ``n`` scores then lies above the true ``1 - target_rate``
    quantile with at least that probability."""
    p = target_rate
    pmf = (1.0 - p) ** n  # P(X = 0), then the recurrence P(X = j + 1) from P(X = j)
    below = 0.0  # P(X < k)
    for k in range(n + 1):
        if 1.0 - below < confidence:
            return k - 1 if k > 0 else 0
        below += pmf
        pmf *= (n - k) / (k + 1) * p / (1.0 - p)
    return n


def calibrate(
    scores: npt.ArrayLike,
    method: ThresholdMethod | str = ThresholdMethod.QUANTILE,
    *,
    target_rate: float = 0.01,
    k: float = 2.5,
    confidence: float | None = None,
) -> Threshold:
    """The threshold for held-out normal ``scores`` (see the module doc)."""
    array = _finite(scores)
    method = ThresholdMethod(method)
    if method is ThresholdMethod.QUANTILE:
        if not 0 < target_rate < 1:
            raise ValueError(f"target_rate must be in (0, 1), got {target_rate}")
        if confidence is not None and not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        value = float(np.quantile(array, 1.0 - target_rate, method="higher"))
        short = array.size * target_rate < 1
        if confidence is not None:
            allowed = sure_exceedances(array.size, target_rate, confidence)
            short = allowed < 1
            if not short:
                value = float(np.sort(array)[-allowed])
        if short and array.size >= _TAIL_MIN_WINDOWS:
            value = max(value, _tail_quantile(array, target_rate))
        rate, k_used = target_rate, None
    else:
        value = float(array.mean() + k * array.std())
        rate, k_used = None, k
    value = max(value, _MIN_THRESHOLD)
    observed = float((array >= value).mean())
    sure = confidence if method is ThresholdMethod.QUANTILE else None
    return Threshold(value, method, rate, k_used, int(array.size), observed, sure)


def score_summary(scores: npt.ArrayLike) -> dict[str, float]:
    """The score distribution of a set of windows, for model metadata and comparisons."""
    array = _finite(scores)
    p50, p90, p99 = np.quantile(array, [0.5, 0.9, 0.99])
    return {
        "n": float(array.size),
        "mean": float(array.mean()),
        "std": float(array.std()),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(array.max()),
    }
