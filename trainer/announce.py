"""Telling the workers: a :class:`~schemas.ModelUpdate` on ``model-updates``.

The registry directory is the truth (``CURRENT-<kind>``); the message is the
prompt that makes every worker switch at once instead of at its next pointer
poll. It is built from the version's stored record, so the ``sha256`` and
``path`` a worker checks are those of the file on disk, not of what the
trainer believes it wrote.

Each announcement opens a producer, sends with ``acks=all`` and closes it:
announcements are rare (one per published model or rollback), and the
trainer holds no connection open while it trains. The key is the kind, so
the updates of one kind stay in order on a topic with several partitions.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Literal

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from core.registry import ModelRegistry
from infra.exceptions import InfraError
from infra.kafka import ensure_topics, kafka_client_options
from schemas.model_updates import ModelUpdate
from schemas.settings import Settings
from trainer.exceptions import TrainerError

__all__ = ["AnnounceFailed", "Announcer", "model_update"]

Action = Literal["publish", "rollback"]


class AnnounceFailed(TrainerError):
    """The update could not be produced; the version is current on disk regardless."""


def model_update(
    registry: ModelRegistry,
    kind: str,
    version: str,
    action: Action,
    *,
    at: datetime | None = None,
) -> ModelUpdate:
    """The message for ``version`` from its stored record.

    ``created_at`` is when the version was published, or ``at`` (now) for a
    rollback: the instant the decision the message reports was taken.
    """
    record = registry.describe(kind, version)
    meta = record.metadata
    metrics = {name: float(value) for name, value in meta.metrics.items()}
    return ModelUpdate(
        kind=kind,
        version=version,
        action=action,
        created_at=record.created if action == "publish" else (at or datetime.now(UTC)),
        sha256=record.sha256,
        path=record.weights_file,
        threshold=float(meta.threshold.value),
        metrics={k: v for k, v in metrics.items() if math.isfinite(v)} or None,
    )


class Announcer:
    """Produces model updates for one deployment's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._topic_ready = False

    async def announce(self, update: ModelUpdate) -> None:
        """Produce ``update`` and wait for all in-sync replicas to have it."""
        settings = self.settings
        topic = settings.topic_model_updates
        try:
            if not self._topic_ready:
                # One partition, as the worker creates it (the first creator wins).
                await ensure_topics(settings, {topic: 1})
                self._topic_ready = True
            producer = AIOKafkaProducer(
                **kafka_client_options(settings),
                acks="all",
                enable_idempotence=settings.kafka_idempotent_producer,
                client_id="anomstream-trainer",
            )
            await producer.start()
            try:
                await producer.send_and_wait(
                    topic, value=update.model_dump_json().encode(), key=update.kind.encode()
                )
            finally:
                await producer.stop()
        except (KafkaError, InfraError) as exc:
            raise AnnounceFailed(
                f"could not announce {update.version} on {topic}: {exc!r}"
            ) from exc
