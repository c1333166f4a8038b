"""Producing the worker's outputs: acks from all in-sync replicas, idempotent.

One producer per worker, shared by scores, alerts and dead letters. ``publish``
sends a whole batch and then waits for every acknowledgement, so the caller
can acknowledge its input offsets knowing every output is durable.

It fills one record batch per topic partition (aiokafka's ``create_batch`` /
``send_batch``) instead of calling ``send`` per message: ``send`` costs about
20 µs a message (a metadata wait, a size estimate, aiokafka's pure-Python
murmur2 of the key, a future), which made producing the largest part of a
dead letter's cost in a flood of bad input. Partitions are chosen as
``send`` chooses them (aiokafka's default partitioner), with the key's hash
remembered: keys (entity ids) repeat all day.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from infra.kafka import kafka_client_options
from schemas.settings import Settings

__all__ = ["KafkaPublisher"]

_HASHES_KEPT = 100_000  # distinct keys whose hash is remembered


class KafkaPublisher:
    """``producer``: tests pass a stand-in; by default one is made from ``settings``."""

    def __init__(
        self, settings: Settings, *, idempotent: bool = True, producer: Any = None
    ) -> None:
        self._producer = producer or AIOKafkaProducer(
            **kafka_client_options(settings),
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=0,  # publish sends a whole round before it awaits: a linger only adds latency
            max_batch_size=1 << 20,
            max_request_size=4 << 20,
        )
        self._hashes: dict[bytes, int] = {}

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        producer = self._producer
        partitions: dict[str, list[int]] = {}
        batches: dict[tuple[str, int], Any] = {}
        futures: list[asyncio.Future[Any]] = []
        for topic, key, value in messages:
            known = partitions.get(topic)
            if known is None:
                known = partitions[topic] = sorted(await producer.partitions_for(topic))
            tp = (topic, self._partition(key, known))
            batch = batches.get(tp)
            if batch is None:
                batch = batches[tp] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it
                futures.append(await producer.send_batch(batch, topic, partition=tp[1]))
                batch = batches[tp] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
        for (topic, partition), batch in batches.items():
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        if futures:
            await asyncio.gather(*futures)

    def _partition(self, key: bytes | None, partitions: list[int]) -> int:
        """aiokafka's ``DefaultPartitioner``: murmur2 of the key, random without one."""
        if key is None:
            return random.choice(partitions)  # noqa: S311 - spreading load, not secrecy
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= _HASHES_KEPT:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return partitions[hashed % len(partitions)]
