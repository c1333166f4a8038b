"""Entity-day detection metrics: precision, recall, F1, false alarms per 1,000 clean days.

A positive is an injected entity-day, a flag is a detector's "anomalous".
Undefined ratios (no flag at all: precision; no positive: recall) are 0,
never NaN, so a detector that says nothing scores F1 = 0 rather than
disappearing from a table. Real days carry their own unlabelled oddities:
a flag on one counts as a false alarm, so false-alarm rates are upper bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Counts", "count"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Counts:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        positives = self.tp + self.fn
        return self.tp / positives if positives else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def false_alarms_per_1000(self) -> float:
        """Flags per 1,000 clean (not injected) entity-days."""
        clean = self.fp + self.tn
        return 1000.0 * self.fp / clean if clean else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "false_alarms_per_1000": round(self.false_alarms_per_1000, 2),
        }


def count(labels: BoolArray, flags: BoolArray) -> Counts:
    """The confusion counts of ``flags`` against ``labels`` (same shape)."""
    labels, flags = np.asarray(labels, dtype=bool), np.asarray(flags, dtype=bool)
    if labels.shape != flags.shape:
        raise ValueError(f"labels {labels.shape} and flags {flags.shape} differ")
    return Counts(
        tp=int((labels & flags).sum()),
        fp=int((~labels & flags).sum()),
        fn=int((labels & ~flags).sum()),
        tn=int((~labels & ~flags).sum()),
    )
