"""Where a training run stands: per-epoch statistics, the best weights so far,
and the JSON part of its checkpoint (``trainer.checkpoint`` holds the tensors)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import torch

__all__ = ["EpochStats", "Progress"]


@dataclass(frozen=True, slots=True)
class EpochStats:
    epoch: int
    train_loss: float
    valid_loss: float
    learning_rate: float
    seconds: float


@dataclass(slots=True)
class Progress:
    """Where a run stands: the best weights so far and the checkpoint's JSON part."""

    initial_loss: float
    best_loss: float
    best: dict[str, torch.Tensor]
    best_epoch: int = 0
    since_best: int = 0
    epoch: int = 0
    history: list[EpochStats] = field(default_factory=list)

    _KEYS: ClassVar[tuple[str, ...]] = (
        "initial_loss",
        "best_loss",
        "best_epoch",
        "since_best",
        "epoch",
    )

    def record(self, stats: EpochStats, model: torch.nn.Module, min_improvement: float) -> None:
        """Count an epoch; keep the model's weights if it is the best so far."""
        self.epoch = stats.epoch
        self.history.append(stats)
        if stats.valid_loss < self.best_loss * (1.0 - min_improvement):
            self.best_loss, self.best_epoch, self.since_best = stats.valid_loss, stats.epoch, 0
            self.best = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.since_best += 1

    def to_json(self, run: Mapping[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {k: getattr(self, k) for k in self._KEYS}
        return {**state, "history": [asdict(row) for row in self.history], "run": dict(run)}

    @classmethod
    def from_json(cls, state: Mapping[str, Any], best: dict[str, torch.Tensor]) -> Progress:
        progress = cls(state["initial_loss"], state["best_loss"], best)
        for key in cls._KEYS[2:]:
            setattr(progress, key, state[key])
        progress.history = [EpochStats(**row) for row in state["history"]]
        return progress
