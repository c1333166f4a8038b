"""Real worker processes for integration tests, with short group timings.

With the default timings a group join on the embedded broker takes ~30 s;
tests shorten them, and the embedded broker has no idempotent producer.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from anomstream.processes import WorkerProcess as _WorkerProcess
from schemas.settings import Settings

FAST_GROUP = {
    "kafka_session_timeout_seconds": 6.0,
    "kafka_heartbeat_interval_seconds": 1.0,
    "kafka_rebalance_timeout_seconds": 10.0,
    "watermark_idle_seconds": 5.0,
    "claim_lease_seconds": 5.0,
    "kafka_idempotent_producer": False,
    "log_format": "json",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WorkerProcess(_WorkerProcess):
    """A started worker for a test: ``wait_until_serving()`` blocks until it serves."""

    def __init__(self, settings: Settings, log_path: Path, **overrides: Any) -> None:
        super().__init__(settings, log_path, free_port(), **{**FAST_GROUP, **overrides})
        self.start()

    def tail(self, lines: int = 40) -> str:
        return self.log_tail(lines)
