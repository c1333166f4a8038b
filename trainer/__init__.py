"""The trainer: fits the conditional autoencoder and publishes versions that win.

The service's one call is :func:`train_and_publish` (``trainer.pipeline``);
the training algorithm itself is :func:`fit` (``trainer.fit``).
"""

from trainer.exceptions import NotEnoughData, TrainerError
from trainer.fit import EpochStats, FitConfig, FitResult, TrainingSet, build_training_set, fit
from trainer.pipeline import TrainingPlan, TrainOutcome, split_by_day, train_and_publish

__all__ = [
    "EpochStats",
    "FitConfig",
    "FitResult",
    "NotEnoughData",
    "TrainOutcome",
    "TrainerError",
    "TrainingPlan",
    "TrainingSet",
    "build_training_set",
    "fit",
    "split_by_day",
    "train_and_publish",
]
