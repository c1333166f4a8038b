"""Child ``anomstream worker`` processes (the demo's, the tests'), configured
the way an operator configures one: ``ANOMSTREAM_*`` variables derived from a
:class:`Settings`. They are :class:`ManagedProcess` children, so they die with
their parent and are stopped with SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from anomstream.embedded.process import ManagedProcess
from schemas.settings import Settings

__all__ = ["WorkerProcess", "settings_env"]


def settings_env(settings: Settings, **overrides: Any) -> dict[str, str]:
    """The environment that reproduces ``settings`` (plus ``overrides``) in a child."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANOMSTREAM_")}
    for name, value in {**settings.model_dump(), **overrides}.items():
        if value is None:
            continue
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        env[f"ANOMSTREAM_{name.upper()}"] = str(getattr(text, "value", text))
    return env


class WorkerProcess(ManagedProcess):
    """One ``anomstream worker`` child with its health endpoint on ``port``."""

    def __init__(self, settings: Settings, log_path: Path, port: int, **overrides: Any) -> None:
        env = settings_env(settings, web_port=port, web_host="127.0.0.1", **overrides)
        argv = [sys.executable, "-m", "anomstream", "worker"]
        super().__init__("worker", argv, log_path=log_path, env=env, stop_timeout=20.0)
        self.port = port

    def get(self, path: str, timeout: float = 2.0) -> bytes:
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.read()  # type: ignore[no-any-return]

    def health(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.get("/health", timeout=1.0))  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def metrics(self) -> str:
        return self.get("/metrics").decode()

    def wait_until_serving(self, timeout: float = 60.0, *, assigned: bool = True) -> None:
        """Ready: connected to Redis and Kafka and, if ``assigned``, owning partitions."""

        def serving() -> bool:
            body = self.health()
            return bool(
                body and body.get("ready") and (body.get("assigned_partitions") or not assigned)
            )

        self.wait_ready(serving, timeout=timeout, what="serve")
