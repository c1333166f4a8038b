"""The broker and Redis together, as one context manager."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from anomstream.embedded.exceptions import PortInUseError
from anomstream.embedded.kafka import KafkaBroker
from anomstream.embedded.ports import port_is_free
from anomstream.embedded.redis import RedisServer

__all__ = ["EmbeddedServices"]


class EmbeddedServices:
    """An embedded Kafka-compatible broker and Redis, started and stopped together.

    >>> with EmbeddedServices() as services:            # doctest: +SKIP
    ...     settings = Settings(kafka_bootstrap=services.kafka_bootstrap,
    ...                         redis_url=services.redis_url)

    Ports 0 (the default) mean free ports. Logs and Redis data go to
    ``run_dir``; without one, a temporary directory that :meth:`stop` removes.
    Start from the main thread or any long-lived one (see
    :mod:`anomstream.embedded.process`); the children die with this process.
    """

    def __init__(
        self,
        *,
        kafka_port: int = 0,
        redis_port: int = 0,
        host: str = "127.0.0.1",
        run_dir: Path | None = None,
        redis_appendonly: bool = False,
        redis_password: str | None = None,
        redis_extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if run_dir is None:
            self._tmp = tempfile.TemporaryDirectory(
                prefix="anomstream-services-", ignore_cleanup_errors=True
            )
            run_dir = Path(self._tmp.name)
        self.run_dir = run_dir
        self._host, self._kafka_port, self._redis_port = host, kafka_port, redis_port
        self.kafka = KafkaBroker(
            kafka_port, run_dir=run_dir, host=host, startup_timeout=startup_timeout
        )
        self.redis = RedisServer(
            redis_port,
            run_dir=run_dir,
            host=host,
            appendonly=redis_appendonly,
            password=redis_password,
            extra_args=redis_extra_args,
            startup_timeout=startup_timeout,
        )

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def env(self) -> dict[str, str]:
        """The ``ANOMSTREAM_*`` variables that point a process at these services."""
        return {
            "ANOMSTREAM_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "ANOMSTREAM_REDIS_URL": self.redis_url,
        }

    def start(self) -> Self:
        # Check both fixed ports first: no broker started just to be stopped again.
        for name, port in (("kafka broker", self._kafka_port), ("redis", self._redis_port)):
            if port and not port_is_free(self._host, port):
                raise PortInUseError(name, self._host, port)
        try:
            self.kafka.start()
            try:
                self.redis.start()
            except BaseException:
                self.kafka.stop()
                raise
        except BaseException:
            if self._tmp is not None:
                self._tmp.cleanup()
            raise
        return self

    def stop(self) -> None:
        """Stop both (Redis first: it may flush its AOF); remove a temporary run dir."""
        try:
            self.redis.stop()
        finally:
            self.kafka.stop()
            if self._tmp is not None:
                self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
