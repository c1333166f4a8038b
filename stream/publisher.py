"""Producing the worker's outputs: acks from all in-sync replicas, idempotent.

One producer per worker, shared by scores, alerts and dead letters. ``publish``
sends a whole batch and then waits for every acknowledgement, so the caller
can acknowledge its input offsets knowing every output is durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from infra.kafka import kafka_client_options
from schemas.settings import Settings

__all__ = ["KafkaPublisher"]


class KafkaPublisher:
    def __init__(self, settings: Settings, *, idempotent: bool = True) -> None:
        options: dict[str, Any] = kafka_client_options(settings)
        self._producer = AIOKafkaProducer(
            **options,
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=0,  # publish sends a whole round before it awaits: a linger only adds latency
            max_batch_size=1 << 20,
            max_request_size=4 << 20,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        futures = [
            await self._producer.send(topic, value=value, key=key) for topic, key, value in messages
        ]
        if futures:
            await asyncio.gather(*futures)
