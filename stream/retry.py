"""The worker's error policy for infrastructure failures: wait and retry.

A batch is never dropped and the worker never crash-loops because Redis or
Kafka is away for a while: the same batch is retried with capped exponential
backoff and a clear log line each time, and its offsets stay unacknowledged
until it succeeds. Bad *input* is not an error here: it was already turned into
a dead letter by the processor.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from stream.metrics import WorkerMetrics

__all__ = ["TRANSIENT_ERRORS", "retry_forever"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    # A Redis that restarted has lost its script cache. redis-py loads missing
    # scripts before sending a pipeline, but not when it reconnects and resends
    # one: the retried batch's pipeline then loads them.
    NoScriptError,
    KafkaError,
    ConnectionError,
    TimeoutError,
    OSError,
)


async def retry_forever(
    what: str,
    action: Callable[[], Awaitable[T]],
    *,
    metrics: WorkerMetrics | None = None,
    first_delay: float = 0.2,
    max_delay: float = 10.0,
) -> T:
    delay = first_delay
    attempt = 0
    while True:
        try:
            result = await action()
        except TRANSIENT_ERRORS as exc:
            attempt += 1
            if metrics is not None:
                metrics.redis_retries.labels(stage=what).inc()
            log.warning(
                "infrastructure unavailable; retrying",
                what=what,
                attempt=attempt,
                retry_in_s=round(delay, 2),
                error=f"{type(exc).__name__}: {exc}",
            )
            await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))  # noqa: S311 - jitter
            delay = min(delay * 2, max_delay)
            continue
        if attempt:  # the other half of the story the warnings told
            log.info("infrastructure available again", what=what, attempts=attempt + 1)
        return result
