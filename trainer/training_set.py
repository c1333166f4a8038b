"""Training data as three float32 matrices, built from day windows.

The same preparation as scoring (:func:`core.scoring.autoencoder.model_inputs`):
values divided by the entity's scale with missing slots filled, the
present-slot mask, and the condition features. A model can only be as
consistent as its training and serving inputs are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import torch

from core.conditions import ConditionEncoder
from core.normalization import EntityNormalizer
from core.scoring.autoencoder import model_inputs
from core.scoring.base import DayWindow

__all__ = ["TrainingSet", "build_training_set"]

Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class TrainingSet:
    values: Float32Array  # (n, 48) normalised, missing filled
    present: Float32Array  # (n, 48) 1 = reading present: the loss mask
    conditions: Float32Array  # (n, C)
    first_day: date | None
    last_day: date | None

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def window_bytes(self) -> int:
        """Bytes one window occupies once on the device."""
        return 4 * int(self.values.shape[1] + self.present.shape[1] + self.conditions.shape[1])

    def to_device(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(values, present, conditions)`` as tensors on ``device``, copied once."""
        return (
            torch.from_numpy(self.values).to(device),
            torch.from_numpy(self.present).to(device),
            torch.from_numpy(self.conditions).to(device),
        )

    def fingerprint(self) -> str:
        """sha256 of the data: a checkpoint resumes only the run it came from."""
        digest = hashlib.sha256()
        for array in (self.values, self.present, self.conditions):
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def build_training_set(
    windows: Sequence[DayWindow], encoder: ConditionEncoder, normalizer: EntityNormalizer
) -> TrainingSet:
    """Model inputs for ``windows``; windows with no reading at all are left out
    (every slot is masked, so they would teach nothing)."""
    kept = [w for w in windows if not np.isnan(w.values).all()]
    inputs = model_inputs(kept, encoder, normalizer)
    days = [w.day for w in kept]
    return TrainingSet(
        inputs.values,
        inputs.present,
        inputs.conditions,
        min(days, default=None),
        max(days, default=None),
    )
