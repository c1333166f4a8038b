"""From what the store holds (real slots) to what a scorer reads (model slots).

Days that close in the same micro-batch are scored in one batched call, so a
day cannot find its predecessor in the stored history yet (that is written by
the same commit). Each day therefore also sees the earlier days of its entity
from the same round (replacing a stored copy of the same day, when a re-score
is among them): replaying a month at once gives the same history as streaming
it day by day. Every history day comes with its date and mean temperature
(NaN where it had none), for the level model's judgement of earlier days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from core.days import DayLayout, day_layout
from core.scoring.base import DayWindow
from stream.windows.base import WindowContents

__all__ = ["to_day_windows"]


def to_day_windows(
    contents: Sequence[WindowContents], timezone: str, history_days: int
) -> list[tuple[DayWindow, DayLayout]]:
    """One (window, layout) per item of ``contents``, in the same order."""
    mapped: list[tuple[np.ndarray, DayLayout, float | None]] = []
    for c in contents:
        layout = day_layout(c.claim.key.day, timezone)
        values, _missing = layout.to_model(c.values)
        temps = c.temperatures[~np.isnan(c.temperatures)]
        mapped.append((values, layout, float(temps.mean()) if temps.size else None))
    same_round: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, c in enumerate(contents):
        same_round[(c.claim.key.kind, c.claim.key.entity_id)].append(i)
    out: list[tuple[DayWindow, DayLayout] | None] = [None] * len(contents)
    for indexes in same_round.values():
        indexes.sort(key=lambda i: contents[i].claim.key.day)
        for n, i in enumerate(indexes):
            c = contents[i]
            history, days, temps = c.history, c.history_days, c.history_temperatures
            if len(temps) != len(history):  # a store that keeps no temperatures
                temps = np.full(len(history), np.nan)
            earlier = {contents[j].claim.key.day: (mapped[j][0], mapped[j][2]) for j in indexes[:n]}
            if earlier and len(days) == len(history):
                # by day: a day re-scored in this round replaces its stored copy
                stored = zip(days, history, temps, strict=True)
                rows = {**{d: (v, t) for d, v, t in stored}, **earlier}
                days = tuple(sorted(rows))[-history_days:]
                history = np.stack([rows[d][0] for d in days])
                temps = np.array([_celsius(rows[d][1]) for d in days])
            elif earlier:  # the stored days are not named: their order only
                history = np.stack([*history, *(v for v, _ in earlier.values())][-history_days:])
                days, temps = (), np.empty(0)
            values, layout, temperature = mapped[i]
            window = DayWindow(
                kind=c.claim.key.kind,
                entity_id=c.claim.key.entity_id,
                day=c.claim.key.day,
                values=values,
                temperature_c=temperature,
                history=history,
                history_days=days if len(days) == len(history) else (),
                history_temperatures=temps if len(days) == len(history) else np.empty(0),
            )
            out[i] = (window, layout)
    return [item for item in out if item is not None]


def _celsius(value: float | None) -> float:
    return np.nan if value is None else value
