"""Loading the benchmark's messages into a topic, and (a) the ceiling: reading
them back with a raw aiokafka consumer and decoding each with orjson."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

__all__ = ["ceiling_rate", "count_messages", "create_topics", "load"]

PARTITIONS = 4
_FETCH = {"max_partition_fetch_bytes": 8 << 20, "fetch_max_bytes": 64 << 20}


async def create_topics(bootstrap: str, names: Iterable[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    finally:
        await admin.close()


async def load(bootstrap: str, topic: str, messages: Iterable[tuple[bytes, bytes]]) -> int:
    """Produce every (key, value), keyed (so one meter stays in one partition)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=1 << 20,
        max_request_size=8 << 20,
    )
    await producer.start()
    n, pending = 0, []
    try:
        for key, value in messages:
            pending.append(await producer.send(topic, value, key=key))
            n += 1
            if len(pending) >= 20_000:  # bound the futures held
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return n


async def count_messages(bootstrap: str, topic: str, *, quiet_s: float = 1.0) -> int:
    """Messages in ``topic``, read from the start until none arrives for ``quiet_s``
    (the embedded broker's end offsets lag behind what it holds, so read them)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **_FETCH)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        seen, last = 0, time.monotonic()
        while time.monotonic() - last < quiet_s:
            batch = await consumer.getmany(timeout_ms=200, max_records=50_000)
            got = sum(len(records) for records in batch.values())
            if got:
                seen, last = seen + got, time.monotonic()
        return seen
    finally:
        await consumer.stop()


async def ceiling_rate(bootstrap: str, topic: str, count: int) -> float:
    """(a): messages/s of ``getmany`` + ``orjson.loads`` over the whole topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **_FETCH)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        started, seen = time.perf_counter(), 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=50_000)
            for records in batch.values():
                for record in records:
                    orjson.loads(record.value)
                seen += len(records)
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()
