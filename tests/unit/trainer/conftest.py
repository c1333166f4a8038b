"""Real London days for the trainer's tests (8 households, January–February 2013)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from harness.london import london_dir

from core.conditions import ConditionEncoder
from core.holidays import default_calendar
from core.normalization import EntityNormalizer
from core.scoring.base import DayWindow
from trainer.fit import TrainingSet, build_training_set
from trainer.london import load_london_windows

HOUSEHOLDS = tuple(f"MAC0000{n:02d}" for n in (3, 4, 5, 7, 8, 9, 10, 11))


@pytest.fixture(scope="session")
def london_data() -> Path:
    """The folder of the London files (the test is skipped without them)."""
    return london_dir()


@pytest.fixture(scope="session")
def trainer_windows(london_data: Path) -> list[DayWindow]:
    data = london_data
    return load_london_windows(
        data / "readings_2013.csv.gz",
        households=HOUSEHOLDS,
        start=date(2013, 1, 1),
        end=date(2013, 3, 1),
        weather_path=data / "weather_hourly_2013.csv",
    )


@pytest.fixture(scope="session")
def training_sets(trainer_windows: list[DayWindow]) -> tuple[TrainingSet, TrainingSet]:
    """January to train on, February to validate on."""
    train = [w for w in trainer_windows if w.day.month == 1]
    valid = [w for w in trainer_windows if w.day.month == 2]
    encoder = ConditionEncoder.fit(train, default_calendar())
    normalizer = EntityNormalizer.fit(train)
    return (
        build_training_set(train, encoder, normalizer),
        build_training_set(valid, encoder, normalizer),
    )
