"""The harness end to end: its Kafka keeps group offsets, its Redis keeps keys."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from harness.groups import with_fast_groups
from harness.topics import PARTITIONS, TopicNames

from infra import kafka_client_options, kafka_group_options, redis_client
from schemas.settings import Settings

MESSAGES = 40
FIRST_BATCH = 15


async def _consume(consumer: AIOKafkaConsumer, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    """Exactly ``count`` records (``max_records`` keeps us from fetching past them)."""
    records: list[ConsumerRecord[bytes, bytes]] = []
    async with asyncio.timeout(30):
        while len(records) < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=count - len(records))
            for partition_records in batch.values():
                records.extend(partition_records)
    return records


def _group_consumer(settings: Settings, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        **kafka_client_options(settings),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kafka_group_options(with_fast_groups(settings)),
    )


async def test_a_group_resumes_after_its_committed_offsets(
    settings: Settings, topics: TopicNames
) -> None:
    producer = AIOKafkaProducer(**kafka_client_options(settings), acks="all")
    await producer.start()
    try:
        assert await producer.partitions_for(topics.readings) == set(range(PARTITIONS))
        for i in range(MESSAGES):
            await producer.send(topics.readings, f"value-{i}".encode(), key=f"meter-{i}".encode())
        await producer.flush()
    finally:
        await producer.stop()

    group = f"test-group-{uuid.uuid4().hex}"
    first = _group_consumer(settings, topics.readings, group)
    await first.start()
    try:
        first_batch = await _consume(first, FIRST_BATCH)
        offsets: dict[TopicPartition, int] = {}
        for record in first_batch:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        await first.commit(offsets)
    finally:
        await first.stop()

    second = _group_consumer(settings, topics.readings, group)
    await second.start()
    try:
        second_batch = await _consume(second, MESSAGES - FIRST_BATCH)
        for tp, offset in offsets.items():
            assert await second.committed(tp) == offset
    finally:
        await second.stop()

    seen = [record.value for record in first_batch + second_batch]
    assert sorted(seen) == sorted(f"value-{i}".encode() for i in range(MESSAGES))


async def test_redis_round_trip_under_the_key_prefix(settings: Settings, key_prefix: str) -> None:
    client = redis_client(settings)
    try:
        key = f"{key_prefix}:greeting"
        await client.set(key, b"\x00binary-safe\xff", ex=60)
        assert await client.get(key) == b"\x00binary-safe\xff"
        assert [k async for k in client.scan_iter(match=f"{key_prefix}:*")] == [key.encode()]
    finally:
        await client.aclose()
