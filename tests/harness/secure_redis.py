"""Redis as production runs it: ``deploy/redis/start.sh``'s ACL users, TLS only.

The shipped start script writes the ACL (``default`` may only PING,
``anomstream`` is limited to the key prefix and the commands the worker
sends, ``admin`` may do everything) and starts ``redis-server`` with the
given configuration; here the configuration serves TLS alone (no plaintext
port) with throwaway certificates.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
import redis

from anomstream.embedded import ManagedProcess, free_port, resolve_redis_server_bin
from harness.tls import Certificates

__all__ = ["SecureRedis"]

START_SH = Path(__file__).resolve().parents[2] / "deploy" / "redis" / "start.sh"


class SecureRedis:
    """``rediss://127.0.0.1:<port>/0``; ``client(user, password)`` connects over TLS."""

    def __init__(
        self, run_dir: Path, certs: Certificates, *, prefix: str, password: str, admin: str
    ) -> None:
        if shutil.which("sh") is None:
            pytest.skip("no sh to run deploy/redis/start.sh")
        self.certs, self.port, self.admin_password = certs, free_port(), admin
        run_dir.mkdir(parents=True, exist_ok=True)
        config = run_dir / "redis.conf"
        config.write_text(
            f'port 0\nbind 127.0.0.1\ntls-port {self.port}\ndir "{run_dir}"\nsave ""\n'
            f'tls-cert-file "{certs.cert}"\ntls-key-file "{certs.key}"\n'
            f'tls-ca-cert-file "{certs.ca}"\ntls-auth-clients no\nappendonly no\n'
        )
        binary = Path(resolve_redis_server_bin())
        env = {
            "PATH": f"{binary.parent}:/usr/bin:/bin",  # start.sh runs `redis-server`
            "REDIS_PASSWORD": password,
            "REDIS_ADMIN_PASSWORD": admin,
            "ANOMSTREAM_KEY_PREFIX": prefix,
            "REDIS_ACL_FILE": str(run_dir / "users.acl"),
            "REDIS_CONFIG": str(config),
        }
        self.process = ManagedProcess(
            "redis (start.sh)", ["sh", str(START_SH)], log_path=run_dir / "redis.log", env=env
        )

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0"

    def client(self, username: str, password: str) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            username=username,
            password=password,
            ssl=True,
            ssl_ca_certs=str(self.certs.ca),
            socket_timeout=5,
        )

    def admin(self) -> redis.Redis:
        return self.client("admin", self.admin_password)

    def _answers(self) -> bool:
        try:
            return bool(self.admin().ping())
        except redis.RedisError:
            return False

    def __enter__(self) -> Self:
        self.process.start()
        self.process.wait_ready(self._answers, timeout=20, what="answer PING over TLS")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.process.stop()
