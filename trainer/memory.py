"""Batch size from the memory the device has free, not a constant.

CUDA: ``torch.cuda.mem_get_info`` (free bytes). CPU: ``MemAvailable`` from
``/proc/meminfo`` (what Linux could hand out without swapping), else
``os.sysconf`` free pages. The batch gets a fixed share of that, at a
generous estimate of what one window costs in a training step (inputs,
activations, gradients, autocast copies), and is then capped: at
``max_batch_size`` and so that an epoch still has ``min_steps_per_epoch``
optimiser steps. At this model's size (a few kB per window) the caps bind
long before memory does, except on a nearly full device, which is the case
this guards against.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

__all__ = ["available_memory", "choose_batch_size"]

_SHARE = 0.25  # of free memory, for one batch; the rest is for everyone else
_STEP_FACTOR = 16  # a step's memory per window, as a multiple of the window's input bytes
_MIN_BATCH = 32


def available_memory(device: torch.device) -> int:
    """Bytes free for this process on ``device``."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))


def choose_batch_size(
    n_windows: int,
    device: torch.device,
    window_bytes: int,
    max_batch_size: int = 1024,
    min_steps_per_epoch: int = 16,
) -> int:
    """A power of two between 1 and ``max_batch_size`` (see the module doc)."""
    by_memory = int(available_memory(device) * _SHARE) // (window_bytes * _STEP_FACTOR)
    by_steps = max(n_windows // max(min_steps_per_epoch, 1), _MIN_BATCH)
    size = max(1, min(by_memory, max_batch_size, by_steps))
    return 1 << (size.bit_length() - 1)
