"""Child processes the suite measures: the anomstream worker and the baseline app.

Both run against the suite's embedded services with short group timings (a
group join on the embedded broker otherwise takes ~30 s) and report progress
that the suite polls: the worker on ``/metrics``, the baseline in Redis.
"""

from __future__ import annotations

import re
import socket
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anomstream.embedded.process import ManagedProcess
from anomstream.processes import WorkerProcess
from schemas.settings import Settings, explicit_settings

__all__ = ["Progress", "baseline_process", "bench_settings", "worker_process"]

FAST_GROUP: dict[str, Any] = {
    "kafka_session_timeout_seconds": 6.0,
    "kafka_heartbeat_interval_seconds": 1.0,
    "kafka_rebalance_timeout_seconds": 10.0,
    "kafka_idempotent_producer": False,  # the embedded broker has none
    "watermark_idle_seconds": 5.0,
    "log_level": "WARNING",
    "log_format": "json",
}


def bench_settings(bootstrap: str, redis_url: str, topic: str, model_dir: Path) -> Settings:
    """A fresh worker configuration: its own group, key prefix and output topics."""
    run = uuid.uuid4().hex[:8]
    return explicit_settings(
        kafka_bootstrap=bootstrap,
        redis_url=redis_url,
        topic_readings=topic,
        topic_sales=f"bench-sales-{run}",
        topic_scores=f"bench-scores-{run}",
        topic_anomalies=f"bench-anomalies-{run}",
        topic_dead_letters=f"bench-dead-{run}",
        consumer_group=f"bench-{run}",
        key_prefix=f"bench-{run}",
        model_dir=model_dir,
        **{k: v for k, v in FAST_GROUP.items() if not k.startswith("log_")},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_process(settings: Settings, log_path: Path) -> WorkerProcess:
    overrides = {k: v for k, v in FAST_GROUP.items() if k.startswith("log_")}
    worker = WorkerProcess(settings, log_path, free_port(), **overrides)
    worker.start()
    return worker


def baseline_process(env: dict[str, str], log_path: Path) -> ManagedProcess:
    argv = [sys.executable, "-m", "bench.baseline_app"]
    child = ManagedProcess("baseline", argv, log_path=log_path, env=env, stop_timeout=10.0)
    child.start()
    return child


def metric(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    pattern = rf"^{re.escape(name)}(?:\{{[^}}]*{re.escape(labels)}[^}}]*\}})? ([0-9.e+]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


class Progress:
    """Rate of a counter polled from outside: (last - first non-zero) / time between."""

    def __init__(self, read: Callable[[], float], interval: float = 0.05) -> None:
        self.read = read
        self.interval = interval

    def until(self, done: Callable[[float], bool], timeout: float) -> tuple[float, float]:
        """Poll until ``done(count)``; returns (events counted after the first
        observation, seconds between that observation and the last)."""
        first: tuple[float, float] | None = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count, now = self.read(), time.perf_counter()
            if first is None and count > 0:
                first = (count, now)
            if first is not None and done(count):
                return count - first[0], now - first[1]
            time.sleep(self.interval)
        raise TimeoutError(f"no completion within {timeout:.0f} s (last count {self.read()})")
