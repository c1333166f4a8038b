"""One evaluation of one kind: fit every detector, then score the clean and injected scenarios.

All detectors see the same training windows and the same scenario windows
(:mod:`evaluation.scenarios`); the clean scenario (nothing injected) gives
each detector's false alarms per 1,000 clean entity-days, every injected
scenario (type × magnitude) its precision, recall and F1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evaluation.data import Split
from evaluation.detectors import Detector
from evaluation.injection import AnomalyType
from evaluation.metrics import Counts, count
from evaluation.scenarios import injected

__all__ = ["KindResult", "Scenario", "evaluate_kind"]

LEVELS = ("low", "moderate", "high")


@dataclass(frozen=True, slots=True)
class Scenario:
    anomaly: str
    magnitude: float
    level: str  # low, moderate, high
    positives: int
    results: dict[str, Counts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "anomaly": self.anomaly,
            "magnitude": self.magnitude,
            "level": self.level,
            "positives": self.positives,
            "results": {name: c.to_dict() for name, c in self.results.items()},
        }


@dataclass(slots=True)
class KindResult:
    kind: str
    detectors: list[str]
    data: dict[str, Any]
    anomalies: dict[str, str]  # name -> change, unit
    clean: dict[str, Counts] = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)
    fit_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "detectors": self.detectors,
            "data": self.data,
            "anomalies": self.anomalies,
            "fit_seconds": {k: round(v, 2) for k, v in self.fit_seconds.items()},
            "clean": {name: c.to_dict() for name, c in self.clean.items()},
            "scenarios": [s.to_dict() for s in self.scenarios],
        }


def evaluate_kind(
    kind: str,
    split: Split,
    anomalies: Sequence[AnomalyType],
    detectors: Sequence[Detector],
    *,
    seed: int,
    rate: float,
    data: dict[str, Any],
    say: Callable[[str], None] = lambda _: None,
) -> KindResult:
    """Fit ``detectors`` on ``split.train``; score the clean and injected test days."""
    result = KindResult(
        kind,
        [d.name for d in detectors],
        {**data, "train_windows": len(split.train), "test_windows": split.n_test_days},
        {a.name: f"{a.change} (magnitude: {a.unit})" for a in anomalies},
    )
    for detector in detectors:
        started = time.perf_counter()
        detector.fit(split.train)
        result.fit_seconds[detector.name] = time.perf_counter() - started
        say(f"{kind}: fitted {detector.name} in {result.fit_seconds[detector.name]:.1f} s")

    clean = injected(split.test, None, 0.0, first=split.first, seed=seed, rate=rate)
    result.clean = {d.name: count(clean.labels, d.flags(clean.windows)) for d in detectors}
    say(f"{kind}: clean days scored ({len(clean.windows)})")
    for anomaly in anomalies:
        for level, magnitude in zip(LEVELS, anomaly.magnitudes, strict=True):
            scenario = injected(
                split.test, anomaly, magnitude, first=split.first, seed=seed, rate=rate
            )
            results = {d.name: count(scenario.labels, d.flags(scenario.windows)) for d in detectors}
            result.scenarios.append(
                Scenario(anomaly.name, magnitude, level, int(scenario.labels.sum()), results)
            )
        say(f"{kind}: {anomaly.name} scored at {len(anomaly.magnitudes)} magnitudes")
    return result
