"""Private Redis servers a test may kill and restart (fault injection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anomstream.embedded import RedisServer


class RedisServerFactory:
    """Starts private ``RedisServer`` instances; :meth:`stop_all` at teardown.

    Each server gets its own data directory under ``root``, so with
    ``appendonly=True`` a :meth:`RedisServer.kill` + :meth:`RedisServer.restart`
    keeps every acknowledged write.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._servers: list[RedisServer] = []

    def __call__(self, *, appendonly: bool = False, **options: Any) -> RedisServer:
        server = RedisServer(
            run_dir=self._root, name=f"redis-{len(self._servers)}", appendonly=appendonly, **options
        )
        server.start()
        self._servers.append(server)
        return server

    def stop_all(self) -> None:
        for server in self._servers:
            server.stop()
