"""The trainer's exceptions.

::

    TrainerError
    └── NotEnoughData     too few windows to train or to hold out (``train --once`` exits non-zero)
"""

from __future__ import annotations

__all__ = ["NotEnoughData", "TrainerError"]


class TrainerError(Exception):
    """Root of every error the trainer raises on purpose."""


class NotEnoughData(TrainerError):
    """Too few windows to train on, or to hold out for validation."""
