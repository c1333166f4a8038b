"""Damaged model versions, the ways a model directory goes wrong in practice.

Each function damages one published version in place. Except for
:func:`flip_a_byte`, the version's record is rewritten to match the new bytes
(sha256 and size), so only what is inside the file can make a loader refuse it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import safetensors.torch
import torch

from core.registry import safetensors_metadata

__all__ = ["flip_a_byte", "rewrite_weights", "truncate", "weights_path", "wrong_shape"]


def weights_path(root: Path, version: str) -> Path:
    return root / f"{version}.safetensors"


def rewrite_weights(root: Path, version: str, blob: bytes) -> None:
    """Store ``blob`` as the version's weights, with a record that matches it."""
    weights_path(root, version).write_bytes(blob)
    path = root / f"{version}.json"
    doc = json.loads(path.read_text())
    doc["weights"]["sha256"] = hashlib.sha256(blob).hexdigest()
    doc["weights"]["bytes"] = len(blob)
    path.write_text(json.dumps(doc))


def flip_a_byte(root: Path, version: str) -> None:
    """Bit rot: one byte changed, the record left as it was (its sha256 no longer holds)."""
    blob = bytearray(weights_path(root, version).read_bytes())
    blob[-5] ^= 0xFF
    weights_path(root, version).write_bytes(bytes(blob))


def truncate(root: Path, version: str) -> None:
    """A copy cut short, recorded as if whole: the file no longer parses."""
    blob = weights_path(root, version).read_bytes()
    rewrite_weights(root, version, blob[: len(blob) // 2])


def wrong_shape(root: Path, version: str) -> None:
    """A valid safetensors file whose first tensor has one row too many."""
    blob = weights_path(root, version).read_bytes()
    tensors = safetensors.torch.load(blob)
    name = sorted(tensors)[0]
    tensors[name] = torch.zeros(tensors[name].shape[0] + 1, *tensors[name].shape[1:])
    rewrite_weights(
        root, version, safetensors.torch.save(tensors, metadata=safetensors_metadata(blob))
    )
