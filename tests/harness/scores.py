"""Scored days as workers publish them on ``window-scores``: the trainer's input.

Built from :func:`harness.days.meter_day`, judged by the baseline, so a test
can give the trainer hundreds of windows without running a worker first.
"""

from __future__ import annotations

from datetime import date, timedelta

from core.days import day_layout
from harness.days import LONDON, days, meter_day
from schemas import WindowScore

__all__ = ["window_scores"]


def window_scores(
    entities: int, first: date, n_days: int, *, timezone: str = LONDON
) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` of one baseline window-score per entity and day."""
    out = []
    for n in range(entities):
        entity = f"MAC{n:06d}"
        for day in days(first, n_days):
            layout = day_layout(day, timezone)
            actual = [r["kwh"] for r in meter_day(entity, day, timezone=timezone, seed=n)]
            score = WindowScore(
                alert_id=f"{entity}-{day}",
                revision=0,
                kind="meter",
                entity_id=entity,
                day=day,
                timezone=timezone,
                window_start=layout.start,
                window_end=layout.end,
                score=0.5,
                threshold=9.0,
                detector="baseline",
                model_version="baseline-mad-7d",
                actual=actual,
                expected=actual,
                slots=[],
                missing_slots=[],
                detected_at=layout.end + timedelta(hours=2),
                is_anomaly=False,
                conditions={"history_days": 7, "temperature_c": 5.0 + n % 7},
            )
            out.append((entity.encode(), score.model_dump_json().encode()))
    return out
