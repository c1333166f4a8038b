"""One training run, from day windows to a published (or withheld) model version.

The trainer service's one call, :func:`train_and_publish`:

1. give every window its entity's previous 28 days as history, as the
   worker does (the score compares a day with them: without it the held-out
   scores, and so the threshold, would not be the worker's); split the
   windows by day: the latest ``holdout_fraction`` of days are held out
   (deployment scores days the model has not seen, and a champion trained
   earlier has not seen them either, so the comparison is fair);
2. learn the per-entity scales and the temperature standardisation from the
   training days, build the training sets, :func:`trainer.fit.fit`;
3. score the held-out windows with the new model (the *challenger*) and
   calibrate its threshold on them for the target false-alarm rate;
4. score the same windows with the current model (the *champion*), if any;
5. publish, and make current, only if the challenger is at least as good
   (:func:`core.registry.challenger_wins`); a champion that no longer loads
   is no contest.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.calibration import ThresholdMethod, calibrate, score_summary
from core.conditions import ConditionEncoder
from core.days import day_layout
from core.envelopes import EntityEnvelopes
from core.exceptions import ModelRefused
from core.history import HISTORY_DAYS, with_history
from core.level_model import LevelModel
from core.metadata import ModelMetadata
from core.normalization import EntityNormalizer
from core.registry import ModelRegistry, challenger_wins
from core.scoring.autoencoder import AutoencoderScorer
from core.scoring.base import DayWindow
from core.scoring.history_terms import terms_for
from trainer.exceptions import NotEnoughData
from trainer.fit import FitConfig, FitResult, build_training_set, fit

__all__ = ["TrainOutcome", "TrainingPlan", "holdout_metrics", "split_by_day", "train_and_publish"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    fit: FitConfig = field(default_factory=FitConfig)
    holdout_fraction: float = 0.2  # of distinct days, the latest ones
    min_train_windows: int = 200
    min_holdout_windows: int = 50
    threshold_method: ThresholdMethod = ThresholdMethod.QUANTILE
    # the false-alarm budget per normal window (quantile method), met with this
    # confidence on the held-out days (core.calibration: the plain quantile
    # overshoots its target about half the time)
    target_rate: float = 0.005
    confidence: float | None = 0.9
    k: float = 2.5  # mean + k·σ (mean_std method)
    tolerance: float = 0.0  # relative slack for the challenger


@dataclass(frozen=True, slots=True)
class TrainOutcome:
    published: bool
    version: str | None  # the new version when published
    champion: str | None  # the version it was compared with
    challenger_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    fit: FitResult
    reason: str


def split_by_day(
    windows: Sequence[DayWindow], holdout_fraction: float
) -> tuple[list[DayWindow], list[DayWindow]]:
    """``(train, holdout)``: the latest ``holdout_fraction`` of days are held out."""
    days = sorted({w.day for w in windows})
    if len(days) < 2:
        raise NotEnoughData(f"{len(days)} distinct day(s); at least 2 are needed to hold one out")
    n_holdout = min(max(1, math.ceil(len(days) * holdout_fraction)), len(days) - 1)
    first_holdout = days[-n_holdout]
    usable = [w for w in windows if not np.isnan(w.values).all()]  # nothing to learn or judge
    train = [w for w in usable if w.day < first_holdout]
    holdout = [w for w in usable if w.day >= first_holdout]
    return train, holdout


def holdout_metrics(scores: npt.NDArray[np.float64]) -> dict[str, float]:
    """Metrics of a model on held-out windows (compared by ``challenger_wins``)."""
    summary = score_summary(scores)
    scores_by_name = {f"holdout_{k}_score": v for k, v in summary.items() if k != "n"}
    return {"holdout_windows": summary["n"], **scores_by_name}


def train_and_publish(
    windows: Sequence[DayWindow],
    *,
    kind: str,
    registry: ModelRegistry,
    plan: TrainingPlan | None = None,
    device: str = "auto",
    timezone: str = "UTC",
    checkpoint_path: Path | None = None,
) -> TrainOutcome:
    """Train on ``windows`` (one kind, any entities) and publish if the model wins."""
    plan = plan or TrainingPlan()
    ours = with_history([w for w in windows if w.kind == kind], HISTORY_DAYS)
    train, holdout = split_by_day(ours, plan.holdout_fraction)
    if len(train) < plan.min_train_windows or len(holdout) < plan.min_holdout_windows:
        raise NotEnoughData(
            f"{len(train)} training and {len(holdout)} held-out {kind} windows; "
            f"need {plan.min_train_windows} and {plan.min_holdout_windows}"
        )
    encoder = ConditionEncoder.fit(train, registry.calendar)
    normalizer = EntityNormalizer.fit(train)
    result = fit(
        build_training_set(train, encoder, normalizer),
        build_training_set(holdout, encoder, normalizer),
        plan.fit,
        device=device,
        checkpoint_path=checkpoint_path,
    )

    terms = terms_for(kind)
    envelopes = None
    if terms.envelope:  # the training days' peaks: what the 28-day history may not hold
        envelopes = EntityEnvelopes.fit(train, normalizer, terms.block_slots)
    level_model = None
    if terms.trained_level_weight > 0:  # the expected level under the day's conditions
        level_model = LevelModel.fit(train, normalizer, registry.calendar)
    challenger = AutoencoderScorer(
        result.model,
        kind=kind,
        version="challenger",
        threshold=1.0,
        encoder=encoder,
        normalizer=normalizer,
        device=device,
        terms=terms,
        envelopes=envelopes,
        level_model=level_model,
    )
    scores = challenger.raw_scores(holdout)
    threshold = calibrate(
        scores,
        plan.threshold_method,
        target_rate=plan.target_rate,
        k=plan.k,
        confidence=plan.confidence,
    )
    metrics = {**holdout_metrics(scores), "valid_loss": result.best_valid_loss}

    champion_version = registry.current(kind)
    champion_metrics: dict[str, float] | None = None
    if champion_version is not None:
        try:
            champion = registry.load(kind, champion_version)
        except ModelRefused as exc:
            log.warning("current %s model is refused, so no contest: %s", kind, exc)
        else:
            champion_metrics = holdout_metrics(champion.raw_scores(holdout))
            if not challenger_wins(metrics, champion_metrics, tolerance=plan.tolerance):
                return TrainOutcome(
                    False,
                    None,
                    champion_version,
                    metrics,
                    champion_metrics,
                    result,
                    f"champion {champion_version} is better on the same held-out windows",
                )

    all_days = [w.day for w in (*train, *holdout)]
    metadata = ModelMetadata(
        kind=kind,
        data_first_day=min(all_days),
        data_last_day=max(all_days),
        data_end=day_layout(max(all_days), timezone).end,
        n_train=len(train),
        n_valid=len(holdout),
        threshold=threshold,
        normalizer=normalizer,
        encoder=encoder,
        metrics=metrics,
        training={**result.summary(), "holdout_fraction": plan.holdout_fraction},
        terms=terms,
        envelopes=envelopes,
        level_model=level_model,
    )
    version = registry.publish(kind, result.model, metadata)
    log.info("published %s (threshold %.4g, %s)", version, threshold.value, threshold.method)
    return TrainOutcome(
        True,
        version,
        champion_version,
        metrics,
        champion_metrics,
        result,
        "no current model" if champion_metrics is None else "challenger at least as good",
    )
