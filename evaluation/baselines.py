"""The baselines, run on the same windows as the model, fitted on the same training days.

* ``daily_total_z`` (case study): the day's total against the mean and
  standard deviation of the entity's training-day totals, ``|z| > 3``; an
  entity without training days uses its history instead.
* ``isolation_forest`` (case study): scikit-learn's IsolationForest
  (contamination 0.01, seeded) on the 48-value day vectors, each divided by
  its entity's scale (:class:`core.normalization.EntityNormalizer`, so
  households are comparable; missing slots interpolated).
* ``case_study_ae`` (case study): the plain conditional autoencoder
  (48 + C → 8 → 2) on linearly scaled days, trained by
  :func:`trainer.fit.fit`; a day's score is the mean of its slot errors,
  the threshold mean + 2.5 σ of the training days' scores.
* ``profile_mad``: :class:`core.scoring.baseline.BaselineScorer`, the
  product's cold-start detector (per-slot median/MAD of the last 28 days),
  with its threshold calibrated on the training days to the model's
  false-alarm target, so the two spend the same false-alarm budget.

A day's total for a day with missing slots is its present mean × 48.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch

from core.autoencoder import slot_errors
from core.calibration import calibrate
from core.conditions import ConditionEncoder
from core.holidays import default_calendar
from core.normalization import EntityNormalizer
from core.scoring.base import DayWindow
from core.scoring.baseline import BaselineConfig, BaselineScorer
from trainer.fit import FitConfig, build_training_set, fit
from trainer.pipeline import split_by_day

__all__ = ["CaseStudyAutoencoder", "DailyTotalZ", "IsolationForestDays", "ProfileMad"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def _total(values: FloatArray) -> FloatArray:
    """Daily totals of rows of 48 (present mean × 48); NaN for an empty day."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result: FloatArray = np.nanmean(values, axis=-1) * values.shape[-1]
    return result


class DailyTotalZ:
    name = "daily_total_z"

    def __init__(self, limit: float = 3.0) -> None:
        self.limit = limit
        self._stats: dict[str, tuple[float, float]] = {}

    def fit(self, train: Sequence[DayWindow]) -> None:
        totals: defaultdict[str, list[float]] = defaultdict(list)
        for window in train:
            total = float(_total(window.values))
            if np.isfinite(total):
                totals[window.entity_id].append(total)
        self._stats = {e: (float(np.mean(t)), float(np.std(t))) for e, t in totals.items()}

    def flags(self, windows: Sequence[DayWindow]) -> BoolArray:
        out = np.zeros(len(windows), dtype=bool)
        for i, window in enumerate(windows):
            stats = self._stats.get(window.entity_id)
            if stats is None:
                history = _total(window.history)
                history = history[np.isfinite(history)]
                if history.size < 2:
                    continue
                stats = (float(history.mean()), float(history.std()))
            total = float(_total(window.values))
            mean, std = stats
            out[i] = bool(np.isfinite(total) and abs(total - mean) > self.limit * max(std, 1e-9))
        return out


class IsolationForestDays:
    name = "isolation_forest"

    def __init__(self, seed: int, contamination: float = 0.01) -> None:
        from sklearn.ensemble import IsolationForest

        self._forest = IsolationForest(contamination=contamination, random_state=seed)
        self._normalizer = EntityNormalizer()

    def fit(self, train: Sequence[DayWindow]) -> None:
        self._normalizer = EntityNormalizer.fit(train)
        self._forest.fit(self._normalizer.normalise(train).values)

    def flags(self, windows: Sequence[DayWindow]) -> BoolArray:
        if not windows:
            return np.zeros(0, dtype=bool)
        predicted = self._forest.predict(self._normalizer.normalise(windows).values)
        return np.asarray(predicted == -1, dtype=bool)


class CaseStudyAutoencoder:
    name = "case_study_ae"

    def __init__(self, config: FitConfig, *, device: str, k: float = 2.5) -> None:
        self.config = config
        self.device = device
        self.k = k
        self._threshold = float("inf")

    def fit(self, train: Sequence[DayWindow]) -> None:
        fit_days, valid_days = split_by_day(train, 0.2)
        self._encoder = ConditionEncoder.fit(fit_days, default_calendar())
        self._normalizer = EntityNormalizer.fit(fit_days)
        result = fit(
            build_training_set(fit_days, self._encoder, self._normalizer),
            build_training_set(valid_days, self._encoder, self._normalizer),
            self.config,
            device=self.device,
        )
        self._model = result.model.cpu().eval()
        scores = self.scores([*fit_days, *valid_days])
        self._threshold = float(scores.mean() + self.k * scores.std())

    def scores(self, windows: Sequence[DayWindow]) -> FloatArray:
        if not windows:
            return np.zeros(0)
        inputs = build_training_set(windows, self._encoder, self._normalizer)
        values, present, conditions = (
            torch.from_numpy(a) for a in (inputs.values, inputs.present, inputs.conditions)
        )
        with torch.inference_mode():
            reconstruction = self._model(values, conditions).clamp(min=0.0)
            errors = slot_errors(reconstruction, values, present).sum(dim=1)
        return errors.double().numpy()

    def flags(self, windows: Sequence[DayWindow]) -> BoolArray:
        return np.asarray(self.scores(windows) >= self._threshold, dtype=bool)


class ProfileMad:
    name = "profile_mad"

    def __init__(
        self, target_rate: float, holdout_fraction: float = 0.2, confidence: float | None = None
    ) -> None:
        self.target_rate = target_rate
        self.confidence = confidence
        self.holdout_fraction = holdout_fraction
        self._scorer = BaselineScorer()

    def fit(self, train: Sequence[DayWindow]) -> None:
        from core.history import with_history

        _, holdout = split_by_day(with_history(train), self.holdout_fraction)
        scores = np.array([v.score for v in self._scorer.score(holdout)])
        judged = scores[scores > 0]  # warming-up days score 0 and never alert
        threshold = calibrate(
            judged, target_rate=self.target_rate, confidence=self.confidence
        ).value
        self._scorer = BaselineScorer(BaselineConfig(threshold=threshold))

    def flags(self, windows: Sequence[DayWindow]) -> BoolArray:
        return np.array([v.is_anomaly for v in self._scorer.score(windows)], dtype=bool)
