"""Two workers on four partitions, one killed mid-stream: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness.days import LONDON, days, meter_day
from harness.kafka_io import produce, read_topic
from harness.workers import WorkerProcess

from schemas.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENTITIES = [f"MAC{n:06d}" for n in range(24)]
FIRST_DAY = date(2013, 2, 1)
N_DAYS = 14
NIGHT = dict.fromkeys(range(2, 10), 5.0)  # a night-time load on one day, every meter


def _content_by_id(messages: list[dict[str, Any]]) -> dict[tuple[str, int], set[bytes]]:
    """Every distinct content seen per (alert_id, revision)."""
    contents: dict[tuple[str, int], set[bytes]] = defaultdict(set)
    for m in messages:
        contents[(m["alert_id"], m["revision"])].add(orjson.dumps(m, option=orjson.OPT_SORT_KEYS))
    return contents


async def test_killed_worker_loses_no_window_and_doubles_no_alert(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={"timezone": LONDON, "consumer_group": f"g-{uuid.uuid4().hex[:8]}"}
    )
    spike_day = FIRST_DAY.replace(day=12)
    readings = [
        r
        for d in days(FIRST_DAY, N_DAYS)
        for entity in ENTITIES
        for r in meter_day(
            entity, d, seed=hash(entity) % 97, extra=NIGHT if d == spike_day else None
        )
    ]
    messages = [
        (None if n % 3 == 0 else r["meter_id"].encode(), orjson.dumps(r))
        for n, r in enumerate(readings)
    ]
    half = len(messages) // 2
    bootstrap = settings.kafka_bootstrap
    a = WorkerProcess(settings, tmp_path / "a.log")
    b = WorkerProcess(settings, tmp_path / "b.log")
    try:
        a.wait_until_serving()
        b.wait_until_serving()
        await produce(bootstrap, settings.topic_readings, messages[:half])
        await read_topic(bootstrap, settings.topic_scores, until=lambda seen: len(seen) >= 20)
        a.kill()  # SIGKILL mid-stream: its batch, claims and outboxes are left behind
        await produce(bootstrap, settings.topic_readings, messages[half:])
        expected = {(e, d.isoformat()) for e in ENTITIES for d in days(FIRST_DAY, N_DAYS)}
        scores = await read_topic(
            bootstrap,
            settings.topic_scores,
            until=lambda seen: {(m["entity_id"], m["day"]) for m in seen} >= expected,
            timeout=120,
            settle=3.0,
        )
        seen = {(m["entity_id"], m["day"]) for m in scores}
        assert seen == expected, f"missing {sorted(expected - seen)[:5]}\n{b.tail()}"
        revised = [m for m in scores if m["revision"] > 0]
        first = {(m["entity_id"], m["day"]): m for m in scores if m["revision"] == 0}
        assert not revised, [  # no day was scored twice
            (
                m["entity_id"],
                m["day"],
                m["revision"],
                first[(m["entity_id"], m["day"])]["missing_slots"],
            )
            for m in revised[:5]
        ]
        # a re-published outbox is the same bytes; never another verdict under one id
        assert all(len(c) == 1 for c in _content_by_id(scores).values())
        # The baseline judges a day against the history stored when it is scored.
        # A killed worker delays some earlier days, so a spike day may be scored
        # while warming up; every other spike day must alert.
        spike_scores = {m["entity_id"]: m for m in scores if m["day"] == spike_day.isoformat()}
        judged = {e for e, m in spike_scores.items() if not m["conditions"]["warming_up"]}
        assert len(judged) >= len(ENTITIES) // 2
        alerts = await read_topic(
            bootstrap,
            settings.topic_anomalies,
            until=lambda seen: {a["entity_id"] for a in seen} >= judged,
            settle=2.0,
        )
        assert all(len(c) == 1 for c in _content_by_id(alerts).values())
        assert {a["day"] for a in alerts} == {spike_day.isoformat()}
        assert {a["entity_id"] for a in alerts} == judged
        await asyncio.sleep(0)
    finally:
        a.stop()
        b.stop()
