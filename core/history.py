"""An entity's recent days, attached to each of its windows as the worker does.

The stream worker gives every window the entity's last ``days`` finished
days before it (``DayWindow.history``, oldest first, gaps skipped), with
each day's date and mean temperature. Offline code (the trainer's
calibration days, London files, the evaluation) builds the same thing from
a list of windows with :func:`with_history`, so a score computed offline is
the score the worker would compute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.days import MODEL_SLOTS
from core.scoring.base import DayWindow

__all__ = ["HISTORY_DAYS", "with_history"]

HISTORY_DAYS = 28  # what the worker loads (stream.processor's default)


def with_history(windows: Sequence[DayWindow], days: int = HISTORY_DAYS) -> list[DayWindow]:
    """``windows`` in the same order, each with the ``days`` windows of its
    (kind, entity) that come before it in time among ``windows``."""
    by_entity: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for index, window in enumerate(windows):
        by_entity[(window.kind, window.entity_id)].append(index)
    out: list[DayWindow] = list(windows)
    for indexes in by_entity.values():
        indexes.sort(key=lambda i: windows[i].day)
        stacked = np.stack([windows[i].values for i in indexes])
        dates = tuple(windows[i].day for i in indexes)
        temps = np.array([_temperature(windows[i]) for i in indexes])
        for position, index in enumerate(indexes):
            # Views, not copies: a year of days costs no more memory than the days.
            rows = slice(max(0, position - days), position) if days > 0 else slice(0, 0)
            out[index] = replace(
                windows[index],
                history=stacked[rows].reshape(-1, MODEL_SLOTS),
                history_days=dates[rows],
                history_temperatures=temps[rows],
            )
    return out


def _temperature(window: DayWindow) -> float:
    return np.nan if window.temperature_c is None else window.temperature_c
