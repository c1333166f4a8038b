"""A real worker process between a real broker and a real Redis.

Events in → the expected windows, scores, alerts and dead letters out: for
meters (duplicates, unkeyed producers, both DST changes of 2013 in
Europe/London, an incomplete day closed by the watermark, a late reading and
its revised alert) and for ticket sales.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from harness.days import LONDON, days, meter_day, sale, ticket_day
from harness.kafka_io import produce, read_topic
from harness.workers import WorkerProcess

from schemas.settings import Settings

pytestmark = pytest.mark.integration

NIGHT = dict.fromkeys(range(2, 10), 5.0)  # 01:00-05:00: a heater left on


def _worker_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"timezone": LONDON, "consumer_group": f"g-{uuid.uuid4().hex[:8]}"}
    )


def _by_window(messages: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(m["entity_id"], m["day"], m["revision"]): m for m in messages}


def _unkeyed_and_keyed(records: list[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    """Half the producers key by entity, half send no key: correctness must not care."""
    return [
        (None if n % 2 else str(r.get("meter_id", r.get("event_id"))).encode(), orjson.dumps(r))
        for n, r in enumerate(records)
    ]


async def test_meter_windows_scores_alerts_and_dead_letters(
    settings: Settings, tmp_path: Path
) -> None:
    settings = _worker_settings(settings)
    normal = [r for d in days(date(2013, 3, 20), 10) for r in meter_day("M1", d)]
    anomalous = meter_day("M1", date(2013, 3, 30), extra=NIGHT)
    spring = meter_day("M1", date(2013, 3, 31))  # 46 half hours
    march = normal + anomalous + spring
    autumn = meter_day("M2", date(2013, 10, 27))  # 50 half hours
    incomplete = meter_day("M2", date(2013, 10, 28), skip={0, 1, 2, 20, 21, 47})
    after = meter_day("M2", date(2013, 10, 29))[:8]  # moves the watermark past 28th + grace
    invalid = [
        (b"M9", b"{not json"),
        (b"M9", orjson.dumps({"meter_id": "M9", "ts": "2013-03-20T00:00:00Z", "kwh": -1})),
        (None, orjson.dumps({"meter_id": "M9", "ts": "2013-03-20T00:10:00Z", "kwh": 1})),
    ]
    bootstrap = settings.kafka_bootstrap
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.wait_until_serving()
        # every reading twice (a redelivery must count once), half of them unkeyed
        doubled = [r for r in march for r in (r, r)]
        await produce(bootstrap, settings.topic_readings, _unkeyed_and_keyed(doubled))
        await produce(bootstrap, settings.topic_readings, invalid)

        march_days = {("M1", d.isoformat()) for d in days(date(2013, 3, 20), 12)}
        scores = await read_topic(
            bootstrap,
            settings.topic_scores,
            until=lambda seen: {(m["entity_id"], m["day"]) for m in seen} >= march_days,
            settle=2.0,
        )
        by_window = _by_window(scores)
        assert {(e, d) for e, d, _ in by_window} == march_days, worker.tail()
        assert all(rev == 0 for _, _, rev in by_window)
        assert len(scores) == len(march_days)

        # DST in spring: the model sees 48 slots; the local day had 46 real half hours
        spring_score = by_window[("M1", "2013-03-31", 0)]
        assert len(spring_score["actual"]) == 48 and spring_score["missing_slots"] == []
        start = datetime.fromisoformat(spring_score["window_start"])
        end = datetime.fromisoformat(spring_score["window_end"])
        assert (start.utcoffset(), end.utcoffset()) == (timedelta(0), timedelta(hours=1))
        assert end - start == timedelta(hours=23)

        # the night-time load is the alert, explained by the night half hours
        alerts = await read_topic(
            bootstrap, settings.topic_anomalies, until=lambda seen: len(seen) >= 1
        )
        night_alert = next(a for a in alerts if a["day"] == "2013-03-30")
        assert night_alert["revision"] == 0 and night_alert["detector"] == "baseline"
        assert {s["index"] for s in night_alert["slots"]} <= set(NIGHT)
        assert night_alert["slots"][0]["start"].startswith("2013-03-30T0")
        assert not [a for a in alerts if a["day"] < "2013-03-30"]

        dead = await read_topic(bootstrap, settings.topic_dead_letters, until=lambda s: len(s) >= 3)
        assert sorted((d["error"]["type"], d["error"]["field"]) for d in dead) == [
            ("decode", None),
            ("validation", "kwh"),
            ("validation", "ts"),
        ]
        assert {d["source_topic"] for d in dead} == {settings.topic_readings}

        # a late, changed reading re-scores the day: a revised alert, same id
        late = dict(anomalous[4], kwh=9.0)
        await produce(bootstrap, settings.topic_readings, [(b"M1", orjson.dumps(late))])
        alerts = await read_topic(
            bootstrap,
            settings.topic_anomalies,
            until=lambda seen: any(a["revision"] == 1 for a in seen),
        )
        revised = [a for a in alerts if a["alert_id"] == night_alert["alert_id"]]
        assert [a["revision"] for a in revised] == [0, 1]
        assert revised[1]["actual"][4] == 9.0
        scores = await read_topic(
            bootstrap,
            settings.topic_scores,
            until=lambda seen: ("M1", "2013-03-30", 1) in _by_window(seen),
        )
        assert ("M1", "2013-03-30", 1) in _by_window(scores)

        # autumn: 50 half hours; then an incomplete day closed by the watermark
        await produce(
            bootstrap, settings.topic_readings, _unkeyed_and_keyed(autumn + incomplete + after)
        )
        october = {("M2", "2013-10-27"), ("M2", "2013-10-28")}
        scores = await read_topic(
            bootstrap,
            settings.topic_scores,
            until=lambda seen: {(m["entity_id"], m["day"]) for m in seen} >= october,
        )
        by_window = _by_window(scores)
        autumn_score = by_window[("M2", "2013-10-27", 0)]
        assert autumn_score["missing_slots"] == []
        # the repeated 01:00 hour is averaged into one wall-clock slot
        assert autumn_score["actual"][2] == pytest.approx(
            (autumn[2]["kwh"] + autumn[4]["kwh"]) / 2, abs=1e-6
        )
        assert by_window[("M2", "2013-10-28", 0)]["missing_slots"] == [0, 1, 2, 20, 21, 47]
        assert ("M2", "2013-10-29", 0) not in by_window  # still open

        # March is final now (past grace + lateness): a reading for it is refused
        await produce(bootstrap, settings.topic_readings, [(b"M1", orjson.dumps(normal[0]))])
        dead = await read_topic(bootstrap, settings.topic_dead_letters, until=lambda s: len(s) >= 4)
        # by type, not position: letters of several partitions come in any order
        assert [d["error"]["type"] for d in dead].count("too_late") == 1
        metrics = worker.metrics()
        assert 'anomstream_dead_letters_total{reason="validation"} 2.0' in metrics
        assert "anomstream_scoring_seconds_bucket" in metrics
        assert 'anomstream_windows_closed_total{how="incomplete",kind="meter"} 1.0' in metrics
        assert "anomstream_consumer_lag" in metrics
    finally:
        worker.stop()


async def test_ticket_sales_windows_sum_once_per_sale(settings: Settings, tmp_path: Path) -> None:
    settings = _worker_settings(settings)
    zone = ZoneInfo(LONDON)
    sales = [s for d in days(date(2024, 5, 1), 9) for s in ticket_day("EVT-1", d)]
    burst_day = date(2024, 5, 10)
    burst = [
        sale(f"bot-{n}", "EVT-1", datetime(2024, 5, 10, 3, n, tzinfo=zone), 120.0)
        for n in range(30)
    ]
    closing = [sale("next-day", "EVT-1", datetime(2024, 5, 11, 4, 0, tzinfo=zone), 50.0)]
    records = sales + burst + ticket_day("EVT-1", burst_day) + closing
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.wait_until_serving()
        await produce(settings.kafka_bootstrap, settings.topic_sales, _unkeyed_and_keyed(records))
        # a redelivered sale counts once
        await produce(settings.kafka_bootstrap, settings.topic_sales, _unkeyed_and_keyed(burst[:5]))
        expected = {d.isoformat() for d in days(date(2024, 5, 1), 10)}
        scores = await read_topic(
            settings.kafka_bootstrap,
            settings.topic_scores,
            until=lambda seen: {m["day"] for m in seen} >= expected,
            settle=2.0,
        )
        by_day = {m["day"]: m for m in scores}
        assert set(by_day) == expected, worker.tail()
        first = by_day["2024-05-01"]
        assert first["kind"] == "ticket" and first["missing_slots"] == []
        assert first["actual"][36] == 100.0 and first["actual"][38] == 100.0  # 18:00, 19:00
        assert sum(first["actual"]) == 250.0
        assert by_day["2024-05-10"]["actual"][6] == 30 * 120.0  # 03:00-03:30, once per sale
        alerts = await read_topic(
            settings.kafka_bootstrap, settings.topic_anomalies, until=lambda seen: len(seen) >= 1
        )
        assert [a["day"] for a in alerts] == ["2024-05-10"]
        assert alerts[0]["slots"][0]["index"] == 6
    finally:
        worker.stop()
