"""What is compared: the product's model and the baselines, behind two verbs.

Every :class:`Detector` is fitted on the same training windows and then
flags scenario windows. The model is the real thing: trained and calibrated
by :func:`trainer.pipeline.train_and_publish` into a throw-away registry,
loaded back by :class:`core.registry.ModelRegistry` and scored by its
:class:`~core.scoring.autoencoder.AutoencoderScorer`, exactly as the
worker loads and calls it. The baselines are the case study's methods and a
per-slot profile (:mod:`evaluation.baselines`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from core.registry import ModelRegistry
from core.scoring.autoencoder import AutoencoderScorer
from core.scoring.base import DayWindow
from trainer.pipeline import TrainingPlan, train_and_publish

__all__ = ["Detector", "ModelDetector"]

BoolArray = npt.NDArray[np.bool_]


class Detector(Protocol):
    @property
    def name(self) -> str: ...

    def fit(self, train: Sequence[DayWindow]) -> None:
        """Learn from normal days (the same for every detector)."""
        ...

    def flags(self, windows: Sequence[DayWindow]) -> BoolArray:
        """``True`` where a window is judged anomalous, in order."""
        ...


class ModelDetector:
    """The conditional autoencoder, trained, published and loaded as in production."""

    name = "model"

    def __init__(self, kind: str, plan: TrainingPlan, *, device: str, timezone: str) -> None:
        self.kind = kind
        self.plan = plan
        self.device = device
        self.timezone = timezone
        self._scorer: AutoencoderScorer | None = None
        self.version: str | None = None

    @property
    def scorer(self) -> AutoencoderScorer:
        if self._scorer is None:
            raise RuntimeError("fit the model detector first")
        return self._scorer

    def fit(self, train: Sequence[DayWindow]) -> None:
        with tempfile.TemporaryDirectory(prefix="anomstream-evaluate-") as tmp:
            registry = ModelRegistry(tmp, device=self.device)
            outcome = train_and_publish(
                train,
                kind=self.kind,
                registry=registry,
                plan=self.plan,
                device=self.device,
                timezone=self.timezone,
            )
            assert outcome.version is not None  # a first model is always published
            self.version = outcome.version
            self._scorer = registry.load(self.kind, outcome.version)

    def flags(self, windows: Sequence[DayWindow]) -> BoolArray:
        verdicts = self.scorer.score(windows)
        return np.array([v.is_anomaly for v in verdicts], dtype=bool)
