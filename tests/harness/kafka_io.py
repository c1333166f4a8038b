"""Producing test input and reading whole output topics back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def produce(
    bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]]
) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    n = 0
    try:
        futures = []
        for key, value in messages:
            futures.append(await producer.send(topic, value=value, key=key))
            n += 1
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return n


async def produce_recorded(
    bootstrap: str,
    topic: str,
    messages: Iterable[tuple[bytes | None, bytes | None]],
    *,
    max_request_size: int = 2 << 20,
) -> list[tuple[int, int]]:
    """Produce in order; the (partition, offset) each message got. Values may be
    None (a tombstone) and up to ``max_request_size`` bytes (oversized inputs)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=max_request_size
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k) for k, v in messages]
        sent = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(meta.partition, meta.offset) for meta in sent]


def as_json(records: Sequence[dict[str, Any]]) -> Iterable[tuple[bytes | None, bytes]]:
    for record in records:
        yield None, orjson.dumps(record)


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 60.0,
    settle: float = 0.0,
) -> list[dict[str, Any]]:
    """Every message of ``topic`` from the beginning, decoded, once ``until`` holds
    (then ``settle`` seconds more, to catch unwanted extras), or at the timeout."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    seen: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                seen += [orjson.loads(r.value) for r in records]
            now = time.monotonic()
            if settle_until is None and until(seen):
                settle_until = now + settle
            if settle_until is not None and now >= settle_until:
                break
    finally:
        await consumer.stop()
    return seen
