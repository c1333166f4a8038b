"""The evaluation's data sets and their train/test split.

London (``../shared/data/london_smart_meters``): local days in
Europe/London, loaded by :func:`trainer.london.load_london_windows` exactly
as the tests and the offline trainer load them, with the day's mean
temperature. The split is in time: the model and every baseline learn from
the days before ``split_day``; the days from it on are the test days. With
``by_household`` the households are also split (seeded, half and half):
the test households are ones no detector was trained on, judged from
their own history (what happens when a new meter joins).

Days on which every reading is 0 are *natural dead-meter days*: the data
holds 317 (MAC000037 reads 0 all year, MAC000041 for 17 days). They are no
normal day to learn from, and flagging one is no false alarm, so they are
left out of training, of the test days and of every history (as if the
meter had sent nothing), and counted in the report's data section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from core.scoring.base import DayWindow
from evaluation.scenarios import Series, to_series
from trainer.london import load_london_windows

__all__ = ["Split", "default_london_dir", "is_dead", "london_windows", "split"]

_REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Split:
    train: list[DayWindow]  # the training days of the training entities
    test: list[Series]  # whole series of the test entities; scored from `first`
    first: date  # the first test day
    by_entity: bool
    dead_days: int  # natural dead-meter days left out

    @property
    def n_test_days(self) -> int:
        return sum(1 for s in self.test for d in s.days if d >= self.first)


def default_london_dir() -> Path:
    return _REPO.parent / "shared" / "data" / "london_smart_meters"


def london_windows(data_dir: Path, households: int | None = None) -> list[DayWindow]:
    """All 2013 days of the first ``households`` households (all when ``None``)."""
    readings = data_dir / "readings_2013.csv.gz"
    chosen: list[str] | None = None
    if households is not None:
        import pandas as pd

        ids = pd.read_csv(data_dir / "households.csv", usecols=["LCLid"])["LCLid"]
        chosen = sorted(str(i) for i in ids)[:households]
    return load_london_windows(
        readings, households=chosen, weather_path=data_dir / "weather_hourly_2013.csv"
    )


def is_dead(window: DayWindow) -> bool:
    """Every present reading 0 (or none present): a natural dead-meter day."""
    present = window.values[np.isfinite(window.values)]
    return bool(present.size == 0 or not present.any())


def split(windows: Sequence[DayWindow], split_day: date, *, by_entity: bool, seed: int) -> Split:
    """Train on days before ``split_day``, test on the rest (see the module doc)."""
    alive = [w for w in windows if not is_dead(w)]
    dead_days = len(windows) - len(alive)
    windows = alive
    entities = sorted({w.entity_id for w in windows})
    test_entities = set(entities)
    train_entities = set(entities)
    if by_entity:
        order = np.random.default_rng(seed).permutation(len(entities))
        half = len(entities) // 2
        train_entities = {entities[i] for i in order[:half]}
        test_entities = {entities[i] for i in order[half:]}
    train = [w for w in windows if w.day < split_day and w.entity_id in train_entities]
    test = [
        s
        for s in to_series([w for w in windows if w.entity_id in test_entities])
        if any(d >= split_day for d in s.days)
    ]
    return Split(train, test, split_day, by_entity, dead_days)
