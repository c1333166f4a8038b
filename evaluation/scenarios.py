"""Scenarios: the test days of every entity, with one anomaly type injected at one magnitude.

An entity's days are a :class:`Series` (one row of 48 model slots per day,
in day order). A scenario copies the test period's series, injects
``anomaly`` at ``magnitude`` into a seeded choice of days, and builds the
windows a worker would score: each test day with the entity's 28 previous
days as history, *taken from the injected series* (a day after an anomaly
sees it in its history, as in the stream).

Where the anomalies go depends on (seed, type, entity) only, not on the
magnitude, so the three magnitudes of a type change the same days the same
way and recall can be compared across them. Chosen days are complete enough
(at least 40 of 48 slots present), have a week of history, and are kept
apart (the next anomaly starts at least a week after one ended).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from core.history import HISTORY_DAYS
from core.scoring.base import DayWindow
from evaluation.injection import AnomalyType

__all__ = ["Labelled", "Series", "injected", "plan_days", "to_series"]

FloatArray = npt.NDArray[np.float64]
_MIN_PRESENT = 40
_MIN_HISTORY = 7
_GAP_DAYS = 7


@dataclass(frozen=True, slots=True)
class Series:
    kind: str
    entity_id: str
    days: tuple[date, ...]
    values: FloatArray  # (n, 48), NaN = missing
    temperatures: tuple[float | None, ...]

    def windows(self, first: date, values: FloatArray | None = None) -> list[DayWindow]:
        """Days from ``first`` on, each with its history (views of ``values``)."""
        rows = self.values if values is None else values
        temps = np.array([np.nan if t is None else t for t in self.temperatures])
        out = []
        for i, day in enumerate(self.days):
            if day >= first:
                past = slice(max(0, i - HISTORY_DAYS), i)
                out.append(
                    DayWindow(
                        self.kind,
                        self.entity_id,
                        day,
                        rows[i],
                        self.temperatures[i],
                        rows[past],
                        self.days[past],
                        temps[past],
                    )
                )
        return out


@dataclass(frozen=True, slots=True)
class Labelled:
    """Windows to score and whether each was injected (same order)."""

    windows: list[DayWindow]
    labels: npt.NDArray[np.bool_]


def to_series(windows: Sequence[DayWindow]) -> list[Series]:
    """One series per (kind, entity), days in order, entities sorted."""
    groups: defaultdict[tuple[str, str], list[DayWindow]] = defaultdict(list)
    for window in windows:
        groups[(window.kind, window.entity_id)].append(window)
    out = []
    for (kind, entity), days in sorted(groups.items()):
        days.sort(key=lambda w: w.day)
        out.append(
            Series(
                kind,
                entity,
                tuple(w.day for w in days),
                np.stack([w.values for w in days]),
                tuple(w.temperature_c for w in days),
            )
        )
    return out


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def plan_days(
    series: Series, anomaly: AnomalyType, first: date, seed: int, rate: float
) -> list[int]:
    """Start indices (into ``series.days``) of the injections, seeded, kept apart."""
    span = anomaly.days
    eligible = []
    for i in range(_MIN_HISTORY, len(series.days) - span + 1):
        if series.days[i] < first:
            continue
        run = series.days[i : i + span]
        if run[-1] - run[0] != timedelta(days=span - 1):  # consecutive calendar days only
            continue
        present = np.isfinite(series.values[i : i + span]).sum(axis=1)
        if (present >= _MIN_PRESENT).all():
            eligible.append(i)
    n_test = sum(1 for d in series.days if d >= first)
    wanted = max(1, round(rate * n_test / span))
    rng = np.random.default_rng([seed, _stable(anomaly.name), _stable(series.entity_id)])
    chosen: list[int] = []
    for i in rng.permutation(eligible):
        start = series.days[int(i)]
        if all(abs((start - series.days[j]).days) >= span + _GAP_DAYS for j in chosen):
            chosen.append(int(i))
            if len(chosen) == wanted:
                break
    return sorted(chosen)


def injected(
    series: Sequence[Series],
    anomaly: AnomalyType | None,
    magnitude: float,
    *,
    first: date,
    seed: int,
    rate: float,
) -> Labelled:
    """The scenario's windows (test days from ``first``) and labels; ``None``: clean."""
    windows: list[DayWindow] = []
    labels: list[bool] = []
    for s in series:
        values, hit = s.values, np.zeros(len(s.days), dtype=bool)
        if anomaly is not None:
            values = s.values.copy()
            for i in plan_days(s, anomaly, first, seed, rate):
                span = slice(i, i + anomaly.days)
                history = values[max(0, i - HISTORY_DAYS) : i]
                level = float(np.nanmean(history)) if np.isfinite(history).any() else 0.1
                rng = np.random.default_rng(
                    [seed, _stable(anomaly.name), _stable(s.entity_id), s.days[i].toordinal()]
                )
                values[span] = anomaly.apply(values[span], rng, magnitude, level)
                hit[span] = True
        windows += s.windows(first, values)
        labels += [bool(h) for h, d in zip(hit, s.days, strict=True) if d >= first]
    return Labelled(windows, np.array(labels, dtype=bool))
