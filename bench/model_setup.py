"""A current meter model for the worker under test, so that (c) and (d) score
with the conditional autoencoder as a deployment does (not the cold-start
baseline). Trained on normal days of the same households before the test days."""

from __future__ import annotations

from pathlib import Path

from bench.data import day_windows
from core.registry import ModelRegistry
from trainer.fit import FitConfig
from trainer.pipeline import TrainingPlan, train_and_publish

__all__ = ["publish_model"]


def publish_model(model_dir: Path, households: int, days: int = 14) -> str:
    outcome = train_and_publish(
        day_windows(households, days),
        kind="meter",
        registry=ModelRegistry(model_dir),
        plan=TrainingPlan(fit=FitConfig(max_epochs=15)),
        device="cpu",
    )
    assert outcome.version is not None, outcome.reason
    return outcome.version
