"""Fixtures of the core's tests: real London days and a model trained on them."""

from __future__ import annotations

import pytest
from london_model import Trained, load_windows, train_model

from core.scoring.base import DayWindow


@pytest.fixture(scope="session")
def london_windows() -> list[DayWindow]:
    return load_windows()


@pytest.fixture(scope="session")
def trained(london_windows: list[DayWindow]) -> Trained:
    return train_model(london_windows)
