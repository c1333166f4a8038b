"""A fleet of worker processes for fault tests: start, SIGKILL, restart, stop all.

Fault tests use 3 s group sessions (a killed member is noticed in 3 s, and a
join on tansu takes one to two sessions, see :mod:`harness.groups`) and 5 s
claim leases, so that several crashes fit in a test of a minute or two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.workers import WorkerProcess
from schemas.settings import Settings

__all__ = ["FAULT_TIMINGS", "Fleet"]

FAULT_TIMINGS: dict[str, Any] = {
    "kafka_session_timeout_seconds": 3.0,
    "kafka_heartbeat_interval_seconds": 0.3,
    "kafka_rebalance_timeout_seconds": 3.0,
}


class Fleet:
    """Named workers sharing one consumer group; logs in ``log_dir/<name>.log``."""

    def __init__(self, settings: Settings, log_dir: Path, **overrides: Any) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.overrides = {**FAULT_TIMINGS, **overrides}
        self.workers: dict[str, WorkerProcess] = {}

    def start(self, name: str) -> WorkerProcess:
        worker = self.workers.get(name)
        if worker is None:
            worker = WorkerProcess(self.settings, self.log_dir / f"{name}.log", **self.overrides)
            self.workers[name] = worker
        elif not worker.running:
            worker.start()
        return worker

    def kill(self, name: str) -> None:
        self.workers[name].kill()

    def stop(self, name: str) -> None:
        self.workers[name].stop()

    def running(self) -> list[str]:
        return [name for name, w in self.workers.items() if w.running]

    def stop_all(self) -> None:
        for worker in self.workers.values():
            worker.stop()

    def tails(self, lines: int = 15) -> str:
        return "\n".join(f"--- {n}\n{w.tail(lines)}" for n, w in self.workers.items())

    def logs(self) -> str:
        """Everything every worker wrote (for scans of the whole run)."""
        return "\n".join(
            w.log_path.read_text(errors="replace")
            for w in self.workers.values()
            if w.log_path.exists()
        )
