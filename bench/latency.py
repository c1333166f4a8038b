"""Latency from a window's last reading to its score and alert on the topics,
at a steady input rate, with the worker caught up (as in live operation).

A paced producer sends the readings of ``households`` meters, half hour by
half hour, at ``rate`` readings per second; for every window it notes when
the window's last reading was handed to the producer. A consumer of the
window-scores and anomalies topics notes when each window's message arrives.
Both clocks are this process's. Redis round trips per event are also taken
here, at the steady rate, where batches are small. With ``bad_per_reading``,
that many invalid messages (:data:`bench.bad_messages.BAD`) follow every
reading on the same topic: a flood arriving live beside the valid stream.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.bad_messages import BAD
from bench.children import bench_settings, metric, worker_process
from bench.data import SLOTS, Dataset
from bench.kafka_io import PARTITIONS, create_topics
from bench.loop import run_async

__all__ = ["latency_run"]

HOUSEHOLDS = 100  # a day of 100 meters is 4,800 readings: about one day a second
_TICK_S = 0.01


def latency_run(
    bootstrap: str,
    redis_url: str,
    model_dir: Path,
    run_dir: Path,
    *,
    rate: int,
    seconds: float,
    bad_per_reading: int = 0,
) -> dict[str, Any]:
    days = max(2, round(rate * seconds / (HOUSEHOLDS * SLOTS)))
    data = Dataset(HOUSEHOLDS, days, seed=5)
    topic = f"bench-latency-{uuid.uuid4().hex[:8]}"
    run_async(create_topics(bootstrap, [topic]))
    settings = bench_settings(bootstrap, redis_url, topic, model_dir)
    worker = worker_process(settings, run_dir / f"{settings.consumer_group}.log")
    try:
        worker.wait_until_serving(timeout=120.0)

        def trips() -> float:
            with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics") as r:
                return metric(r.read().decode(), "anomstream_redis_round_trips_total")

        before = trips()
        sent, seen = run_async(
            _measure(
                bootstrap,
                topic,
                [settings.topic_scores, settings.topic_anomalies],
                data,
                rate,
                bad_per_reading=bad_per_reading,
            )
        )
        round_trips = (trips() - before) / data.readings
    finally:
        worker.stop()
    result: dict[str, Any] = {
        "rate": rate,
        "readings": data.readings,
        "bad_messages": data.readings * bad_per_reading,
        "round_trips_per_event": round_trips,
    }
    for name, arrivals in zip(("score", "alert"), seen, strict=True):
        waits = [arrivals[w] - sent[w] for w in arrivals if w in sent]
        result[name] = _summary(waits)
    result["windows"] = data.windows
    return result


def _summary(waits: list[float]) -> dict[str, float | int | None]:
    if not waits:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    ms = np.asarray(waits) * 1000
    return {
        "n": len(waits),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


async def _measure(
    bootstrap: str,
    topic: str,
    outputs: list[str],
    data: Dataset,
    rate: int,
    *,
    bad_per_reading: int,
) -> tuple[dict[tuple[str, str], float], list[dict[tuple[str, str], float]]]:
    seen: list[dict[tuple[str, str], float]] = [{} for _ in outputs]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=5
    )
    await consumer.start()
    parts = [TopicPartition(t, p) for t in outputs for p in range(PARTITIONS)]
    consumer.assign(parts)
    await consumer.seek_to_beginning(*parts)
    reader = asyncio.create_task(_read(consumer, outputs, seen))
    try:
        sent = await _produce(bootstrap, topic, data, rate, bad_per_reading)
        deadline = time.monotonic() + 60
        while len(seen[0]) < data.windows and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # stragglers of the alerts topic
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await consumer.stop()
    return sent, seen


async def _read(
    consumer: AIOKafkaConsumer, outputs: list[str], seen: list[dict[tuple[str, str], float]]
) -> None:
    while True:
        batch = await consumer.getmany(timeout_ms=50)
        now = time.perf_counter()
        for tp, records in batch.items():
            arrivals = seen[outputs.index(tp.topic)]
            for record in records:
                message = orjson.loads(record.value)
                arrivals.setdefault((message["entity_id"], message["day"]), now)


async def _produce(
    bootstrap: str, topic: str, data: Dataset, rate: int, bad_per_reading: int
) -> dict[tuple[str, str], float]:
    """Send at ``rate``/s in 10 ms ticks; when each window's last reading went out."""
    bad = 0
    # 1 MB batches: with aiokafka's 16 kB default each 10 kB bad message is a
    # batch of its own, and the embedded broker spends ~1.5 ms of CPU on each
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_batch_size=1 << 20
    )
    await producer.start()
    sent: dict[tuple[str, str], float] = {}
    per_tick = max(1, round(rate * _TICK_S))
    messages = list(data.single())
    started = time.perf_counter()
    try:
        for first in range(0, len(messages), per_tick):
            due = started + (first / per_tick) * _TICK_S
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            for key, value in messages[first : first + per_tick]:
                await producer.send(topic, value, key=key)
                if b"T23:30:00Z" in value:  # a window's last half hour (UTC days)
                    day = orjson.loads(value)["ts"][:10]
                    sent[(key.decode(), day)] = time.perf_counter()
                for _ in range(bad_per_reading):
                    await producer.send(topic, BAD[bad % len(BAD)], key=b"BAD")
                    bad += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent
