"""The alerts page's memory: the latest revision of the most recent alerts.

:class:`RecentAlerts` is a bounded ring keyed by ``alert_id`` that keeps each
alert's highest revision. :class:`AlertFeed` fills it by following the
``anomalies`` topic itself, rather than through a hook in the processor's
publish path, because then

* every worker's page shows the alerts of **all** workers (each worker only
  publishes the windows of its own partitions);
* a worker that (re)starts shows the recent past at once: it reads the last
  ``backfill`` messages of each partition, not only what it publishes later;
* the page shows exactly what alert consumers received — acknowledged bytes,
  in topic order, with revisions and retractions — never an alert whose
  produce failed and is still being retried;
* the hot path gains nothing, and a page that fails cannot slow scoring.

The price: an alert shows up one fetch (well under a second) after it was
published, and each worker holds one more Kafka connection.

Like the model-updates consumer (:mod:`stream.models`) it has **no group**:
every worker must read every partition (a group would split them), and there
is nothing to commit, since the ring is rebuilt from the topic at each start.
It never blocks the worker's readiness: it connects, and reconnects after a
Kafka error, in a task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from infra.kafka import kafka_client_options
from schemas import Alert
from schemas.settings import Settings

__all__ = ["AlertFeed", "RecentAlerts", "page_data"]

log = structlog.get_logger(__name__)

CAPACITY = 200
RECONNECT_SECONDS = 2.0


class RecentAlerts:
    """The latest revision of at most ``capacity`` alerts; the oldest are forgotten."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._alerts: dict[str, Alert] = {}

    def __len__(self) -> int:
        return len(self._alerts)

    def add(self, alert: Alert) -> bool:
        """Keep ``alert`` unless a higher revision of it is already here
        (a redelivery, or a backfill that reads partitions out of time order).
        Returns whether the ring changed."""
        held = self._alerts.get(alert.alert_id)
        if held is not None and held.revision > alert.revision:
            return False
        self._alerts[alert.alert_id] = alert
        if len(self._alerts) > self.capacity:
            oldest = min(self._alerts.values(), key=_newness)
            del self._alerts[oldest.alert_id]
        return True

    def add_raw(self, value: bytes | None) -> bool:
        """Add one ``anomalies`` message as bytes; a message that is not an alert
        is logged and skipped (the page only reads the topic, it rejects nothing)."""
        if value is None:
            return False
        try:
            alert = Alert.model_validate_json(value)
        except ValidationError as exc:
            log.warning("not an alert on the anomalies topic; not shown", errors=exc.error_count())
            return False
        return self.add(alert)

    def newest_first(self) -> list[Alert]:
        """By the time of each alert's latest revision, newest first."""
        return sorted(self._alerts.values(), key=_newness, reverse=True)


def _newness(alert: Alert) -> tuple[datetime, int]:
    return alert.detected_at, alert.revision


def page_data(
    recent: RecentAlerts, models: Mapping[str, str], *, following: bool
) -> dict[str, Any]:
    """The body of ``/alerts.json``: the alerts as on the topic, newest first,
    and the model version each kind is scored with now."""
    alerts = recent.newest_first()
    return {
        "models": dict(models),
        "following": following,
        "capacity": recent.capacity,
        "count": len(alerts),
        "alerts": [alert.model_dump(mode="json") for alert in alerts],
    }


class AlertFeed:
    """Follows the ``anomalies`` topic into a :class:`RecentAlerts`."""

    def __init__(
        self, settings: Settings, recent: RecentAlerts, *, backfill: int = CAPACITY
    ) -> None:
        self.settings = settings
        self.recent = recent
        self.backfill = backfill
        self.following = False  # connected and reading; shown on the page
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start following in the background; returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="anomstream.alert-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.following = False

    async def _run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                **kafka_client_options(self.settings),
                group_id=None,
                enable_auto_commit=False,
                client_id="anomstream-worker-alerts-page",
            )
            try:
                await consumer.start()
                await self._assign(consumer)
                self.following = True
                while True:
                    batch = await consumer.getmany(timeout_ms=1000)
                    for records in batch.values():
                        for record in records:
                            self.recent.add_raw(record.value)
            except (KafkaError, OSError) as exc:
                log.warning("alerts page: reading anomalies failed; retrying", error=repr(exc))
            finally:
                self.following = False
                with contextlib.suppress(KafkaError, OSError):
                    await consumer.stop()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        """All partitions of the topic, each from its end minus ``backfill``."""
        topic = self.settings.topic_anomalies
        await consumer.topics()  # refreshes the metadata
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise KafkaError(f"no topic {topic!r} yet")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        first = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, max(first[tp], end[tp] - self.backfill))
