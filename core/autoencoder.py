"""The conditional autoencoder of the case study.

::

    encoder:  [48 day values ‖ C conditions] → hidden → latent
    decoder:  [latent ‖ C conditions]        → hidden → 48 reconstructed values

with ``hidden = 8`` and ``latent = 2`` by default. The conditions go to both
halves: the encoder need not spend its two latent numbers on "it is a
Sunday", and the decoder can draw a Sunday from the same code. A day the
network cannot squeeze through two numbers, given its conditions, is
reconstructed badly: that error is the anomaly score (``core.scoring``).

The sizes live in a frozen :class:`AutoencoderConfig` that is saved with the
weights (nanoGPT-style: a checkpoint carries its model's arguments), so a
stored model is rebuilt from its file alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import torch
from torch import nn

from core.conditions import N_CONDITIONS
from core.days import MODEL_SLOTS

__all__ = [
    "Activation",
    "AutoencoderConfig",
    "ConditionalAutoencoder",
    "DeviceName",
    "resolve_device",
    "slot_errors",
]

Activation = Literal["relu", "tanh", "gelu", "silu"]
DeviceName = Literal["auto", "cpu", "cuda"]
_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


@dataclass(frozen=True, slots=True)
class AutoencoderConfig:
    """The model's arguments; stored with every checkpoint and model version."""

    n_slots: int = MODEL_SLOTS
    n_conditions: int = N_CONDITIONS
    hidden: int = 8
    latent: int = 2
    activation: Activation = "relu"

    def __post_init__(self) -> None:
        for name in ("n_slots", "hidden", "latent"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_conditions < 0:
            raise ValueError(f"n_conditions must be >= 0, got {self.n_conditions}")
        if self.activation not in get_args(Activation):
            raise ValueError(f"activation must be one of {get_args(Activation)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AutoencoderConfig:
        """Strict: unknown or missing keys are an error, not a silent default."""
        expected = set(cls.__dataclass_fields__)
        if set(data) != expected:
            raise ValueError(f"model config keys {sorted(data)} != {sorted(expected)}")
        ints = {name: int(data[name]) for name in ("n_slots", "n_conditions", "hidden", "latent")}
        return cls(**ints, activation=data["activation"])


class ConditionalAutoencoder(nn.Module):
    """``forward(values, conditions) -> reconstruction``, all float tensors."""

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        act = _ACTIVATIONS[config.activation]
        self.encoder = nn.Sequential(
            nn.Linear(config.n_slots + config.n_conditions, config.hidden),
            act(),
            nn.Linear(config.hidden, config.latent),
        )
        # Linear output: normalised values are unbounded above; the scorer clamps
        # reconstructions at 0 because readings and sales are never negative.
        self.decoder = nn.Sequential(
            nn.Linear(config.latent + config.n_conditions, config.hidden),
            act(),
            nn.Linear(config.hidden, config.n_slots),
        )

    def encode(self, values: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.encoder(torch.cat((values, conditions), dim=1))
        return result

    def decode(self, latent: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.decoder(torch.cat((latent, conditions), dim=1))
        return result

    def forward(self, values: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(values, conditions), conditions)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` is CUDA when available, else CPU; ``cuda`` without CUDA is an error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)


def slot_errors(
    reconstruction: torch.Tensor, values: torch.Tensor, present: torch.Tensor
) -> torch.Tensor:
    """Per-slot share of the score: squared error over present slots, divided by
    their count, so each row sums to that window's mean squared error over its
    present slots (missing slots contribute exactly 0; a row with none is all 0).

    The one definition of the error, used by training (its loss is the mean of
    the row sums) and by scoring (its score is the row sum).
    """
    squared = (values.float() - reconstruction.float()).square() * present
    count = present.sum(dim=1, keepdim=True).clamp(min=1.0)
    return squared / count
