"""Per-entity envelopes: the most an entity used (or sold) at each time of day in training.

The excess term compares a day with the entity's last 28 days, which the
worker keeps. What an entity does less often than that is news to such a
history every time: a show puts a new block of performances on sale every
4-5 weeks, two hours at ten times its usual rate, and every on-sale looked
like a bot burst. The trainer therefore learns, per entity and half hour,
the largest scaled value of its training days, and the largest two-hour
mean (the excess term's second scale), and stores them with the model
version; with ``HistoryTermsConfig.envelope`` the excess is measured above
the larger of the history's and the envelope's peak.

An entity the model was not trained on has no envelope (NaN): its history
alone judges. Stored as JSON lists of 48 numbers, rounded to 4 significant
digits (a ``log`` comparison does not need more), per entity.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from core.normalization import EntityNormalizer
from core.scoring.base import DayWindow
from core.scoring.batch_stats import block_mean

__all__ = ["EntityEnvelopes"]

FloatArray = npt.NDArray[np.float64]
_Pair = tuple[tuple[float, ...], tuple[float, ...]]


def _rounded(values: FloatArray) -> tuple[float, ...]:
    return tuple(float(f"{v:.4g}") for v in np.nan_to_num(values, nan=0.0))


@dataclass(frozen=True, slots=True)
class EntityEnvelopes:
    """Entity -> (per-slot maximum, per-slot maximum of block means), scaled units."""

    block_slots: int = 4
    peaks: Mapping[str, _Pair] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        for entity, (slot, block) in self.peaks.items():
            if len(slot) != MODEL_SLOTS or len(block) != MODEL_SLOTS:
                raise ValueError(f"envelope of {entity!r} must have {MODEL_SLOTS} slots")
            if not all(math.isfinite(v) and v >= 0 for v in (*slot, *block)):
                raise ValueError(f"envelope of {entity!r} must be finite and >= 0")
        object.__setattr__(self, "peaks", MappingProxyType(dict(self.peaks)))

    @classmethod
    def fit(
        cls, windows: Sequence[DayWindow], normalizer: EntityNormalizer, block_slots: int
    ) -> EntityEnvelopes:
        """The envelopes of the entities of ``windows`` (their training days)."""
        by_entity: defaultdict[str, list[FloatArray]] = defaultdict(list)
        for window in windows:
            if np.isfinite(window.values).any():
                by_entity[window.entity_id].append(window.values)
        peaks: dict[str, _Pair] = {}
        for entity, rows in by_entity.items():
            scale = normalizer.scales.get(entity)
            if scale is None:
                continue
            days = np.stack(rows) / scale
            slot = np.fmax.reduce(days, axis=0)
            block = np.fmax.reduce(block_mean(days, block_slots), axis=0)
            peaks[entity] = (_rounded(slot), _rounded(block))
        return cls(block_slots, peaks)

    def arrays(self, windows: Sequence[DayWindow]) -> tuple[FloatArray, FloatArray]:
        """``(slot, block)`` envelopes ``(n, 48)`` of ``windows``; NaN rows for unknown entities."""
        slot = np.full((len(windows), MODEL_SLOTS), np.nan)
        block = np.full((len(windows), MODEL_SLOTS), np.nan)
        for row, window in enumerate(windows):
            pair = self.peaks.get(window.entity_id)
            if pair is not None:
                slot[row], block[row] = pair
        return slot, block

    def to_dict(self) -> dict[str, Any]:
        return {
            "block_slots": self.block_slots,
            "peaks": {e: [list(s), list(b)] for e, (s, b) in self.peaks.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityEnvelopes:
        peaks = data.get("peaks")
        if not isinstance(peaks, Mapping):
            raise ValueError("envelopes.peaks must be an object of entity -> [slot, block]")
        return cls(
            int(data["block_slots"]),
            {
                str(e): (tuple(float(v) for v in s), tuple(float(v) for v in b))
                for e, (s, b) in peaks.items()
            },
        )
