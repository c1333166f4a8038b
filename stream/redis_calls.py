"""Counting the worker's Redis round trips (``anomstream_redis_round_trips``).

A round trip is one write to the socket followed by waiting for its replies:
a single command, or a whole pipeline. redis-py sends both through
``send_packed_command``, so counting its calls on the client's connections
counts round trips, whatever the command mix. The hot path promises few per
event; the benchmark reads this counter to check it.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from redis.asyncio import Redis

__all__ = ["count_round_trips"]


def count_round_trips(redis: Redis, counter: Counter) -> None:
    """Count every round trip of ``redis`` in ``counter``; call before first use."""
    pool = redis.connection_pool
    base: type[Any] = pool.connection_class

    class Counted(base):
        async def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
            counter.inc()
            await super().send_packed_command(*args, **kwargs)

    Counted.__name__ = f"Counted{base.__name__}"
    pool.connection_class = Counted
