"""Decoding window-scores into training windows: latest revision wins, null is NaN."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from schemas import WindowScore
from trainer.source import LatestWindows, window_from_score


def score(
    entity: str = "MAC000003",
    day: date = date(2013, 1, 7),
    *,
    revision: int = 0,
    actual: list[float | None] | None = None,
    conditions: dict[str, Any] | None = None,
    kind: str = "meter",
) -> WindowScore:
    values = actual if actual is not None else [0.1 * (i % 7) for i in range(48)]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return WindowScore(
        alert_id=f"{entity}-{day}",
        revision=revision,
        kind=kind,  # type: ignore[arg-type]
        entity_id=entity,
        day=day,
        timezone="UTC",
        window_start=start,
        window_end=start + timedelta(days=1),
        score=0.1,
        threshold=1.0,
        detector="baseline",
        model_version="baseline-mad-7d",
        actual=values,
        expected=[0.1] * 48,
        slots=[],
        missing_slots=[i for i, v in enumerate(values) if v is None],
        detected_at=start + timedelta(days=1, hours=2),
        is_anomaly=False,
        conditions=conditions if conditions is not None else {"history_days": 3},
    )


def raw(message: WindowScore) -> bytes:
    return message.model_dump_json().encode()


def test_null_slots_become_nan_and_the_rest_is_kept() -> None:
    values: list[float | None] = [0.25] * 48
    values[3] = values[40] = None
    window = window_from_score(score(actual=values))
    assert window.values.dtype == np.float64
    assert window.values.shape == (48,)
    assert np.flatnonzero(np.isnan(window.values)).tolist() == [3, 40]
    assert window.values[0] == 0.25
    assert (window.kind, window.entity_id, window.day) == ("meter", "MAC000003", date(2013, 1, 7))
    assert window.history.shape == (0, 48)


def test_temperature_comes_from_the_conditions_when_finite() -> None:
    assert window_from_score(score(conditions={"temperature_c": 7.5})).temperature_c == 7.5
    assert window_from_score(score(conditions={"temperature_c": 4})).temperature_c == 4.0
    assert window_from_score(score(conditions={"temperature_c": None})).temperature_c is None
    assert window_from_score(score(conditions={"temperature_c": True})).temperature_c is None
    assert window_from_score(score(conditions={"temperature_c": "cold"})).temperature_c is None
    assert window_from_score(score(conditions={})).temperature_c is None


def test_the_latest_revision_wins_in_any_order() -> None:
    first = score(revision=0, actual=[1.0] * 48)
    revised = score(revision=2, actual=[2.0] * 48)
    windows = LatestWindows()
    assert windows.add(raw(first))
    assert windows.add(raw(revised))
    assert not windows.add(raw(first))  # an older revision read later is ignored
    [window] = windows.windows("meter")
    assert window.values[0] == 2.0
    assert windows.count("meter") == 1
    assert windows.changes["meter"] == 2


def test_an_equal_revision_read_later_replaces() -> None:
    windows = LatestWindows()
    windows.add(raw(score(revision=1, actual=[1.0] * 48)))
    windows.add(raw(score(revision=1, actual=[3.0] * 48)))
    assert windows.windows("meter")[0].values[0] == 3.0


def test_kinds_are_kept_apart_and_ordered_by_entity_then_day() -> None:
    windows = LatestWindows()
    for entity, day in [("B", 2), ("A", 3), ("B", 1), ("A", 1)]:
        windows.add(raw(score(entity, date(2013, 1, day))))
    windows.add(raw(score("EVT-1", date(2013, 1, 1), kind="ticket")))
    assert windows.kinds() == ["meter", "ticket"]
    assert [(w.entity_id, w.day.day) for w in windows.windows("meter")] == [
        ("A", 1),
        ("A", 3),
        ("B", 1),
        ("B", 2),
    ]
    assert [w.kind for w in windows.windows("ticket")] == ["ticket"]
    assert len(windows) == 5


def test_messages_that_are_not_window_scores_are_counted_not_fatal() -> None:
    windows = LatestWindows()
    assert not windows.add(b"{not json")
    assert not windows.add(None)
    assert not windows.add(b'{"kind": "meter", "entity_id": "M1"}')
    broken = raw(score()).replace(b'"revision":0', b'"revision":-1')
    assert not windows.add(broken)
    assert windows.rejected == 4
    assert len(windows) == 0


def test_a_day_with_every_slot_missing_still_decodes() -> None:
    window = window_from_score(score(actual=[None] * 48))
    assert all(math.isnan(v) for v in window.values)
