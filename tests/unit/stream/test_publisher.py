"""The publisher fills one record batch per partition, partitioned as ``send`` would."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from harness.settings import make_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.publisher import KafkaPublisher

PARTITIONS = {"scores": {0, 1, 2, 3}, "dead": {0, 1, 2}}


class _Batch:
    def __init__(self, room: int) -> None:
        self.room = room
        self.records: list[tuple[bytes | None, bytes]] = []

    def append(self, *, key: bytes | None, value: bytes, timestamp: None) -> object | None:
        if self.records and len(self.records) >= self.room:
            return None  # full (the first record always fits, as in aiokafka)
        self.records.append((key, value))
        return object()


class _Producer:
    """What the publisher uses of AIOKafkaProducer; ``room`` records per batch."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.sent: list[tuple[str, int, list[tuple[bytes | None, bytes]]]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return PARTITIONS[topic]

    def create_batch(self) -> _Batch:
        return _Batch(self.room)

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> Any:
        self.sent.append((topic, partition, batch.records))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _publish(messages: list[tuple[str, bytes | None, bytes]], room: int) -> _Producer:
    producer = _Producer(room)
    publisher = KafkaPublisher(make_settings(), producer=producer)
    asyncio.run(publisher.publish(messages))
    return producer


@settings(max_examples=50, deadline=None)
@given(
    keys=st.lists(st.binary(min_size=1, max_size=20), min_size=1, max_size=40),
    room=st.integers(1, 8),
)
def test_every_message_goes_to_the_partition_send_picks_in_order(
    keys: list[bytes], room: int
) -> None:
    messages = [
        (topic, key, f"{topic}-{n}".encode())
        for n, key in enumerate(keys)
        for topic in ("scores", "dead")
    ]
    producer = _publish(messages, room)
    expected: dict[tuple[str, int], list[tuple[bytes | None, bytes]]] = {}
    for topic, key, value in messages:
        partitions = sorted(PARTITIONS[topic])
        partition = DefaultPartitioner()(key, partitions, partitions)
        expected.setdefault((topic, partition), []).append((key, value))
    got: dict[tuple[str, int], list[tuple[bytes | None, bytes]]] = {}
    for topic, partition, records in producer.sent:
        assert 1 <= len(records) <= room
        got.setdefault((topic, partition), []).extend(records)
    assert got == expected


def test_a_message_without_a_key_goes_somewhere() -> None:
    producer = _publish([("dead", None, b"x")], room=4)
    assert [(t, records) for t, _, records in producer.sent] == [("dead", [(None, b"x")])]
