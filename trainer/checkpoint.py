"""Training checkpoints as safetensors: tensors plus a JSON state, no pickle at all.

A checkpoint holds everything a killed training needs to carry on exactly
where it stopped: the model's current and best weights, Adam's moment
tensors, the permutation generator's state (so the next epoch draws the
same batches it would have), and as JSON the model config, the epoch, the
learning-rate scheduler, the gradient scaler and the loss history.

``torch.save`` would pickle; instead the optimiser's state dict is split
into its tensors (``optim.<param>.<name>``) and its plain numbers
(param groups, JSON), and put back together on load. Files are written
atomically (temporary name, then ``os.replace``), so a kill mid-write
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch

from core.registry import safetensors_metadata, write_atomic

__all__ = [
    "Checkpoint",
    "TrainingParts",
    "pack_optimizer",
    "read_checkpoint",
    "restore_training",
    "save_training",
    "unpack_optimizer",
    "write_checkpoint",
]

log = logging.getLogger(__name__)
FORMAT = "anomstream-checkpoint"
Checkpoint = tuple[dict[str, torch.Tensor], dict[str, Any]]


def pack_optimizer(state: Mapping[str, Any]) -> Checkpoint:
    """Split ``optimizer.state_dict()`` into tensors and JSON-able values."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unpack_optimizer(
    tensors: Mapping[str, torch.Tensor], packed: Mapping[str, Any]
) -> dict[str, Any]:
    """The inverse of :func:`pack_optimizer`."""
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = tensor
    for index, values in packed["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": packed["param_groups"]}


def write_checkpoint(
    path: Path, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]
) -> None:
    payload = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    # json.dumps writes inf as Infinity, which json.loads reads back (scheduler "best").
    metadata = {"format": FORMAT, "state": json.dumps(state)}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, safetensors.torch.save(payload, metadata=metadata))


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint at ``path``; ``None`` if there is none or it cannot be used."""
    if not path.exists():
        return None
    try:
        blob = path.read_bytes()
        tensors = safetensors.torch.load(blob)
        metadata = safetensors_metadata(blob)
        if metadata.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} file")
        state = json.loads(metadata["state"])
    except (OSError, ValueError, KeyError, safetensors.SafetensorError) as exc:
        # A training must not be stuck on a bad checkpoint: it starts over.
        log.warning("ignoring unreadable checkpoint %s: %s", path, exc)
        return None
    return tensors, state


@dataclass(frozen=True, slots=True)
class TrainingParts:
    """The live objects whose state a checkpoint carries."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau
    scaler: torch.amp.GradScaler
    generator: torch.Generator


def save_training(
    path: Path,
    parts: TrainingParts,
    best: Mapping[str, torch.Tensor],
    progress: Mapping[str, Any],
) -> None:
    """Checkpoint ``parts``, the best weights so far and the JSON ``progress``."""
    opt_tensors, opt_state = pack_optimizer(parts.optimizer.state_dict())
    tensors = {
        **{f"model.{k}": v for k, v in parts.model.state_dict().items()},
        **{f"best.{k}": v for k, v in best.items()},
        **opt_tensors,
        "rng.generator": parts.generator.get_state(),
    }
    state = {
        **progress,
        "optimizer": opt_state,
        "scheduler": parts.scheduler.state_dict(),
        "scaler": parts.scaler.state_dict(),
    }
    write_checkpoint(path, tensors, state)


def restore_training(
    path: Path, parts: TrainingParts, run: Mapping[str, Any]
) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """Load the checkpoint at ``path`` into ``parts`` if it is from the same
    ``run`` (model, data, seed, precision, batch size); returns the best
    weights and the progress, or ``None`` to start afresh."""
    saved = read_checkpoint(path)
    if saved is None:
        return None
    tensors, state = saved
    if state.get("run") != run:
        log.info("checkpoint %s is from another run; starting afresh", path)
        return None
    device = next(parts.model.parameters()).device
    parts.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    parts.optimizer.load_state_dict(unpack_optimizer(tensors, state["optimizer"]))
    parts.scheduler.load_state_dict(state["scheduler"])
    parts.scaler.load_state_dict(state["scaler"])
    parts.generator.set_state(tensors["rng.generator"])
    best = {k[5:]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
    return best, state
