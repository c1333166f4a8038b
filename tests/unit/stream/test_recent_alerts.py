"""The alerts page's ring, its JSON body and its template, without a browser or a broker."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from schemas import Alert, SlotExplanation
from stream.recent_alerts import RecentAlerts, page_data
from stream.web import alerts_html

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
MODELS = {"meter": "baseline-mad-7d", "ticket": "ticket-20240501T0400-2"}


def alert(
    entity: str = "M1",
    *,
    revision: int = 0,
    minutes: int = 0,
    missing: tuple[int, ...] = (),
    retracted: bool = False,
) -> Alert:
    day = date(2013, 3, 30)
    start = datetime(2013, 3, 30, tzinfo=UTC)
    actual: list[float | None] = [None if i in missing else 0.2 for i in range(48)]
    actual[4] = 5.2
    return Alert(
        alert_id=f"id-{entity}",
        revision=revision,
        kind="meter",
        entity_id=entity,
        day=day,
        timezone="Europe/London",
        window_start=start,
        window_end=start + timedelta(days=1),
        score=3.2,
        threshold=1.1,
        severity="high",
        detector="baseline",
        model_version="baseline-mad-7d",
        actual=actual,
        expected=[0.2] * 48,
        slots=[
            SlotExplanation(
                index=4,
                start=start + timedelta(hours=2),
                actual=5.2,
                expected=0.2,
                contribution=0.9,
            )
        ],
        missing_slots=list(missing),
        detected_at=T0 + timedelta(minutes=minutes),
        retracted=retracted,
    )


def test_keeps_the_highest_revision_of_each_alert() -> None:
    recent = RecentAlerts()
    assert recent.add(alert(revision=1, minutes=5))
    assert not recent.add(alert(revision=0, minutes=0))  # late redelivery of revision 0
    assert recent.add(alert(revision=2, minutes=9, retracted=True))
    [held] = recent.newest_first()
    assert (held.revision, held.retracted) == (2, True)
    assert len(recent) == 1


def test_bounded_forgetting_the_oldest_newest_first() -> None:
    recent = RecentAlerts(capacity=3)
    # out of time order, as a backfill over several partitions reads them
    for entity, minutes in [("A", 3), ("B", 1), ("C", 4), ("D", 2), ("E", 0)]:
        recent.add(alert(entity, minutes=minutes))
    assert [a.entity_id for a in recent.newest_first()] == ["C", "A", "D"]
    with pytest.raises(ValueError, match="capacity"):
        RecentAlerts(capacity=0)


def test_a_message_that_is_not_an_alert_is_skipped() -> None:
    recent = RecentAlerts()
    assert not recent.add_raw(None)
    assert not recent.add_raw(b"{not json")
    assert not recent.add_raw(orjson.dumps({"alert_id": "x", "revision": 0}))
    assert recent.add_raw(alert().model_dump_json().encode())
    assert len(recent) == 1


def test_page_data_is_the_alerts_as_on_the_topic_and_the_models() -> None:
    recent = RecentAlerts()
    recent.add(alert("old", minutes=0))
    recent.add(alert("new", minutes=1, missing=(20, 21)))
    body = orjson.loads(orjson.dumps(page_data(recent, MODELS, following=True)))
    assert body["models"] == MODELS
    assert (body["following"], body["count"], body["capacity"]) == (True, 2, 200)
    newest = body["alerts"][0]
    assert [a["entity_id"] for a in body["alerts"]] == ["new", "old"]
    # exactly the contract's message: it validates as an Alert again
    assert Alert.model_validate(newest) == recent.newest_first()[0]
    assert newest["actual"][20] is None and newest["missing_slots"] == [20, 21]
    assert newest["slots"][0]["index"] == 4


def test_page_is_self_contained_and_polls_the_json_view() -> None:
    html = alerts_html()
    assert "/alerts.json" in html and "setInterval" in html
    assert "data-alert-id" in html and "slot-mark" in html and "missing-slot" in html
    # no CDN, fonts or remote scripts: the machine may have no internet
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)
    # message fields are set as text, never parsed as HTML
    assert "innerHTML" not in html
