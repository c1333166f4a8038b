"""The scorer interface every detector implements (river-style: learn, score).

A scorer receives finished day windows in a micro-batch and returns one
:class:`Verdict` per window, in order. It never does I/O: the stream worker
loads what a window needs (its recent history) and publishes what comes back.

Severity mapping (documented in docs/DESIGN.md), from ``ratio = score / threshold``
of an anomalous window:

=========  ===================
severity   ratio
=========  ===================
low        1 <= ratio < 1.5
medium     1.5 <= ratio < 3
high       3 <= ratio < 6
critical   ratio >= 6
=========  ===================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS

__all__ = ["ConditionValue", "DayWindow", "Scorer", "Severity", "Verdict", "severity_for"]

ConditionValue = float | int | bool | str | None
FloatArray = npt.NDArray[np.float64]


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_SEVERITY_STEPS: tuple[tuple[float, Severity], ...] = (
    (6.0, Severity.CRITICAL),
    (3.0, Severity.HIGH),
    (1.5, Severity.MEDIUM),
)


def severity_for(score: float, threshold: float) -> Severity | None:
    """The documented mapping; ``None`` when the window is not anomalous."""
    if threshold <= 0 or score < threshold:
        return None
    ratio = score / threshold
    for bound, severity in _SEVERITY_STEPS:
        if ratio >= bound:
            return severity
    return Severity.LOW


@dataclass(frozen=True, slots=True)
class DayWindow:
    """One entity's local day, mapped to the 48 model slots.

    ``values`` holds NaN where a slot is missing. ``history`` holds the
    entity's recent finished days (oldest first, shape ``(k, 48)``, NaN
    allowed, ``k`` may be 0): the baseline's profile and the autoencoder's
    per-entity scale for entities it was not trained on. ``history_days``
    and ``history_temperatures`` (``(k,)``, NaN = no temperature) say which
    day each row is and its mean temperature, so the trained level model can
    judge the days before this one; empty when unknown (an older store).
    """

    kind: str
    entity_id: str
    day: date
    values: FloatArray
    temperature_c: float | None = None
    history: FloatArray = field(default_factory=lambda: np.empty((0, MODEL_SLOTS)))
    history_days: tuple[date, ...] = ()
    history_temperatures: FloatArray = field(default_factory=lambda: np.empty(0))

    @property
    def missing(self) -> npt.NDArray[np.bool_]:
        return np.isnan(self.values)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A scored window. ``contributions`` sum to ``score``; ``expected`` is in
    the entity's units (kWh, or currency for sales)."""

    score: float
    threshold: float
    expected: FloatArray
    contributions: FloatArray
    detector: str
    model_version: str
    conditions: Mapping[str, ConditionValue]

    @property
    def is_anomaly(self) -> bool:
        return self.score >= self.threshold

    @property
    def severity(self) -> Severity | None:
        return severity_for(self.score, self.threshold)

    def top_slots(
        self, limit: int = 12, share: float = 0.9, eligible: npt.NDArray[np.bool_] | None = None
    ) -> list[int]:
        """Model slots that explain the score, largest contribution first:
        at most ``limit``, stopping once ``share`` of the score is covered.
        Twelve half hours name a whole unusual block (a night-time load of four
        hours is eight) without listing a day that is off everywhere.
        Slots not ``eligible`` (a half hour skipped by DST) are never named."""
        contributions = self.contributions
        if eligible is not None:
            contributions = np.where(eligible, contributions, 0.0)
        order = np.argsort(-contributions, kind="stable")
        total = float(contributions.sum())
        chosen: list[int] = []
        covered = 0.0
        for slot in order[:limit]:
            if contributions[slot] <= 0:
                break
            chosen.append(int(slot))
            covered += float(self.contributions[slot])
            if total > 0 and covered >= share * total:
                break
        return chosen


class Scorer(Protocol):
    """What the stream worker and the evaluation harness call."""

    @property
    def detector(self) -> str:
        """``"autoencoder"`` or ``"baseline"``: goes into every output message."""
        ...

    @property
    def version(self) -> str:
        """The model version that scored: goes into every output message."""
        ...

    def score(self, windows: Sequence[DayWindow]) -> list[Verdict]:
        """One verdict per window, same order; batched, no per-window model call."""
        ...
