"""The worker's error policy: transient infrastructure errors are waited out with
capped exponential backoff, logged and counted; anything else propagates."""

from __future__ import annotations

import pytest
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from stream.metrics import WorkerMetrics
from stream.retry import retry_forever


class Flaky:
    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


async def test_transient_errors_are_retried_with_capped_backoff() -> None:
    metrics = WorkerMetrics()
    action = Flaky(7, RedisConnectionError("Connection refused"))
    with structlog.testing.capture_logs() as logs:
        result = await retry_forever(
            "meter batch", action, metrics=metrics, first_delay=0.01, max_delay=0.04
        )
    assert result == "done"
    assert action.calls == 8
    warnings = [e for e in logs if e["event"] == "infrastructure unavailable; retrying"]
    assert [e["attempt"] for e in warnings] == list(range(1, 8))
    assert [e["retry_in_s"] for e in warnings] == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04, 0.04]
    assert warnings[0]["what"] == "meter batch"
    assert "Connection refused" in warnings[0]["error"]
    assert [e for e in logs if e["event"] == "infrastructure available again"] == [
        {"event": "infrastructure available again", "what": "meter batch", "attempts": 8,
         "log_level": "info"}
    ]  # fmt: skip
    retries = metrics.registry.get_sample_value(
        "anomstream_redis_retries_total", {"stage": "meter batch"}
    )
    assert retries == 7


async def test_a_first_success_logs_nothing() -> None:
    with structlog.testing.capture_logs() as logs:
        assert await retry_forever("redis", Flaky(0, OSError())) == "done"
    assert logs == []


async def test_a_script_cache_lost_in_a_redis_restart_is_transient() -> None:
    # a pipeline resent on a new connection to the restarted Redis gets NOSCRIPT
    action = Flaky(1, NoScriptError("No matching script. Please use EVAL."))
    assert await retry_forever("meter batch", action, first_delay=0.01) == "done"
    assert action.calls == 2


async def test_other_errors_propagate() -> None:
    action = Flaky(1, ValueError("a bug, not an outage"))
    with pytest.raises(ValueError, match="a bug"):
        await retry_forever("meter batch", action)
    assert action.calls == 1
