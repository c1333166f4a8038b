"""A worker under load switches to a newly trained model without a restart,
and no window is scored twice or missed across the switch."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
from harness.days import LONDON, days, meter_day
from harness.kafka_io import produce, read_topic
from harness.workers import WorkerProcess

from schemas.settings import Settings
from trainer.service import TrainerService

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENTITIES = [f"MAC{n:06d}" for n in range(20)]
FIRST_DAY = date(2013, 1, 7)
TRAIN_DAYS, MORE_DAYS = 12, 24


def _readings(first: date, count: int) -> list[tuple[bytes | None, bytes]]:
    return [
        (entity.encode(), orjson.dumps(r))
        for d in days(first, count)
        for n, entity in enumerate(ENTITIES)
        for r in meter_day(entity, d, seed=n)
    ]


async def _until_serving_with(worker: WorkerProcess, version: str, limit_s: float = 30) -> None:
    for _ in range(int(limit_s * 10)):
        health = worker.health() or {}
        if health.get("models", {}).get("meter") == version:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"worker still on {worker.health()}")


async def test_a_worker_under_load_swaps_models_without_losing_or_doubling_a_window(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={
            "timezone": LONDON,
            "consumer_group": f"g-{uuid.uuid4().hex[:8]}",
            "model_dir": tmp_path / "models",
            "train_min_windows": 100,
            "kafka_idempotent_producer": False,
        }
    )
    bootstrap = settings.kafka_bootstrap
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.wait_until_serving()
        # 1. twelve days judged by the baseline: the trainer's data
        await produce(bootstrap, settings.topic_readings, _readings(FIRST_DAY, TRAIN_DAYS))
        first = len(ENTITIES) * TRAIN_DAYS
        await read_topic(bootstrap, settings.topic_scores, until=lambda s: len(s) >= first)

        # 2. a backlog of twelve more days; once the worker is busy with it, the
        #    first model is trained, published and announced
        second = FIRST_DAY + timedelta(days=TRAIN_DAYS)
        await produce(bootstrap, settings.topic_readings, _readings(second, MORE_DAYS // 2))
        await read_topic(bootstrap, settings.topic_scores, until=lambda s: len(s) > first)
        decisions = await TrainerService(settings).run_once(["meter"])
        version = decisions[0].version
        assert decisions[0].action == "published"
        assert version is not None
        await _until_serving_with(worker, version)
        # 3. twelve more days, all after the switch
        third = second + timedelta(days=MORE_DAYS // 2)
        await produce(bootstrap, settings.topic_readings, _readings(third, MORE_DAYS // 2))

        expected = {
            (e, d.isoformat()) for e in ENTITIES for d in days(FIRST_DAY, TRAIN_DAYS + MORE_DAYS)
        }
        scores = await read_topic(
            bootstrap,
            settings.topic_scores,
            until=lambda seen: {(m["entity_id"], m["day"]) for m in seen} >= expected,
            timeout=120,
            settle=3.0,
        )
        per_window = Counter((m["entity_id"], m["day"]) for m in scores)
        assert set(per_window) == expected, worker.log_tail()
        assert max(per_window.values()) == 1  # none scored twice, by either model
        by_model = Counter(m["model_version"] for m in scores)
        after_switch = {(e, d.isoformat()) for e in ENTITIES for d in days(third, MORE_DAYS // 2)}
        assert {
            m["model_version"] for m in scores if (m["entity_id"], m["day"]) in after_switch
        } == {version}
        assert by_model["baseline-mad-7d"] > first  # part of the backlog before the switch
        assert {m["detector"] for m in scores if m["model_version"] == version} == {"autoencoder"}
        health = worker.health()
        assert health is not None
        assert health["models"]["meter"] == version
        await asyncio.sleep(0)
    finally:
        worker.stop()
