"""Deterministic test days: readings and sales as producers would send them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from core.days import day_layout

LONDON = "Europe/London"


def profile(slot: int) -> float:
    """A household's ordinary half hour: low at night, peaks morning and evening."""
    hour = slot / 2
    return round(
        0.15 + 0.25 * math.exp(-((hour - 8) ** 2) / 3) + 0.45 * math.exp(-((hour - 19) ** 2) / 4), 4
    )


def meter_day(
    meter_id: str,
    day: date,
    *,
    timezone: str = LONDON,
    seed: int = 0,
    extra: dict[int, float] | None = None,
    skip: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Every real half hour of ``day`` (46, 48 or 50), kWh near :func:`profile`.

    ``extra`` adds kWh at model slots (wall-clock half hours); ``skip`` leaves
    real slots out (an incomplete day)."""
    layout = day_layout(day, timezone)
    rng = np.random.default_rng(seed + day.toordinal())
    readings = []
    for real in range(layout.n_slots):
        if skip and real in skip:
            continue
        start = layout.start + real * timedelta(minutes=30)
        wall = layout.model_index[real]
        kwh = profile(wall) * float(rng.uniform(0.95, 1.05)) + (extra or {}).get(wall, 0.0)
        readings.append(
            {"meter_id": meter_id, "ts": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "kwh": round(kwh, 4)}
        )
    return readings


def days(first: date, count: int) -> Iterator[date]:
    for n in range(count):
        yield first + timedelta(days=n)


def sale(sale_id: str, event_id: str, when: datetime, amount: float) -> dict[str, Any]:
    return {
        "sale_id": sale_id,
        "event_id": event_id,
        "ts": when.astimezone(UTC).isoformat(),
        "quantity": 1,
        "amount": amount,
        "currency": "GBP",
    }


def ticket_day(event_id: str, day: date, *, timezone: str = LONDON) -> list[dict[str, Any]]:
    """An ordinary day of sales: a handful in the evening, fixed amounts."""
    zone = ZoneInfo(timezone)
    out = []
    for n, hour in enumerate((18, 18, 19, 19, 20)):
        when = datetime(day.year, day.month, day.day, hour, 10 + n, tzinfo=zone)
        out.append(sale(f"{event_id}-{day.isoformat()}-{n}", event_id, when, 50.0))
    return out
