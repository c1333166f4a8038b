"""Collection-time marker rules: integration by location, gpu skipped without CUDA."""

from __future__ import annotations

from pathlib import Path

import pytest

GPU_SKIP_REASON = "CUDA not available (torch.cuda.is_available() is False)"


def mark_integration(items: list[pytest.Item], integration_root: Path) -> None:
    """Every test under ``tests/integration`` is ``integration``, without saying so in each file."""
    for item in items:
        if item.path.is_relative_to(integration_root):
            item.add_marker(pytest.mark.integration)


def skip_gpu_without_cuda(items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items or _cuda_available():
        return
    skip = pytest.mark.skip(reason=GPU_SKIP_REASON)
    for item in gpu_items:
        item.add_marker(skip)


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())
