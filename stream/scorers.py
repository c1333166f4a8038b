"""Which scorer judges a kind right now: the current model, else the baseline.

The worker asks for a scorer at the start of every scoring round, so a model
switch takes effect between rounds: a window is always scored by exactly one
model, and no window waits for a restart.
"""

from __future__ import annotations

from core.scoring.base import Scorer
from core.scoring.baseline import BaselineScorer

__all__ = ["ScorerSwitch"]


class ScorerSwitch:
    """Holds one scorer per kind; :meth:`install` swaps one in atomically."""

    def __init__(self, fallback: Scorer | None = None) -> None:
        self._fallback = fallback or BaselineScorer()
        self._current: dict[str, Scorer] = {}

    def scorer(self, kind: str) -> Scorer:
        return self._current.get(kind, self._fallback)

    def install(self, kind: str, scorer: Scorer) -> None:
        self._current[kind] = scorer

    def versions(self) -> dict[str, str]:
        return {kind: self.scorer(kind).version for kind in ("meter", "ticket")}
