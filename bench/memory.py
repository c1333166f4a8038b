"""Redis memory per open window: ``windows`` windows opened through the real
store (apply.lua), half a day of readings each (24 slots with a temperature),
measured as the growth of Redis' ``used_memory``."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from redis.asyncio import Redis

from bench.loop import run_async
from stream.windows.base import MeterSlot, WindowBatch, WindowKey
from stream.windows.redis_store import RedisWindowStore

__all__ = ["memory_run"]

_CHUNK = 2000  # windows per apply call (about a micro-batch's worth)
SLOTS_FILLED = 24


def memory_run(redis_url: str, windows: int) -> dict[str, Any]:
    return run_async(_run(redis_url, windows))


async def _run(redis_url: str, windows: int) -> dict[str, Any]:
    redis = Redis.from_url(redis_url)
    store = RedisWindowStore(redis, f"bench-mem-{uuid.uuid4().hex[:8]}")
    try:
        before = int((await redis.info("memory"))["used_memory"])
        day = date(2013, 3, 1)
        deadline = 1e12  # never closed by the watermark
        for first in range(0, windows, _CHUNK):
            batches = []
            for n in range(first, min(first + _CHUNK, windows)):
                key = WindowKey("meter", day + timedelta(days=n % 30), f"MAC{n:07d}")
                batch = WindowBatch(key, 48, deadline, deadline, offsets={0: n})
                batch.meter = [MeterSlot(s, 0.1 + s / 100, 7.5) for s in range(SLOTS_FILLED)]
                batches.append(batch)
            await store.apply(batches, lease_seconds=60.0)
        after = int((await redis.info("memory"))["used_memory"])
        open_now = await store.open_windows("meter")
        sample = store.layout.for_entity("meter", "MAC0000000").window(
            f"{day.isoformat()}:MAC0000000"
        )
        encoding = await redis.object("encoding", sample)
        return {
            "windows": windows,
            "open_windows": open_now,
            "slots_filled": SLOTS_FILLED,
            "bytes_per_window": (after - before) / windows,
            "redis_used_memory_bytes": after,
            "hash_encoding": encoding.decode() if isinstance(encoding, bytes) else encoding,
        }
    finally:
        await redis.aclose()
