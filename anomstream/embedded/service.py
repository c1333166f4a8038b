"""What the embedded broker and Redis share: a server run as one child process
on a given or free port, started until it answers, stopped, killed, restarted."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from anomstream.embedded.exceptions import PortInUseError, ServiceStartError
from anomstream.embedded.ports import free_port, port_is_free
from anomstream.embedded.process import ManagedProcess

__all__ = ["ChildService"]

# A port we picked may be taken by someone else before the server binds it.
_AUTO_PORT_ATTEMPTS = 3


class ChildService(ABC):
    """A server child. The port chosen at the first start is kept by
    :meth:`restart`, so clients reconnect to the same address."""

    label: str  # for messages: "kafka broker", "redis"

    def __init__(
        self, port: int, *, host: str, startup_timeout: float, stop_timeout: float
    ) -> None:
        self.host = host
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._port: int | None = port or None
        self._process: ManagedProcess | None = None

    # --- what each server says for itself --------------------------------------
    @abstractmethod
    def _binary(self) -> str:
        """The server executable."""

    @abstractmethod
    def _process_for(self, binary: str, port: int) -> ManagedProcess:
        """The (not yet started) child serving on ``port``."""

    @abstractmethod
    def _answers(self, port: int) -> bool:
        """Whether the server on ``port`` serves requests yet."""

    @abstractmethod
    def _readiness(self, port: int) -> str:
        """What answering means, for the error when it does not: "answer PING on ..."."""

    # --- state ----------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"the {self.label} has not been started; its port is not chosen yet")
        return self._port

    @property
    def process(self) -> ManagedProcess | None:
        return self._process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"the {self.label} is already running on {self.host}:{self.port}")
        binary = self._binary()
        if self._port is not None:
            self._launch(binary, self._port)
            return
        for attempt in range(1, _AUTO_PORT_ATTEMPTS + 1):
            try:
                self._launch(binary, free_port(self.host))
            except ServiceStartError:
                if attempt == _AUTO_PORT_ATTEMPTS:
                    raise
            else:
                return

    def _launch(self, binary: str, port: int) -> None:
        if not port_is_free(self.host, port):
            raise PortInUseError(self.label, self.host, port)
        process = self._process_for(binary, port)
        process.start()
        try:
            process.wait_ready(
                lambda: self._answers(port),
                timeout=self.startup_timeout,
                what=self._readiness(port),
            )
        except BaseException:
            process.stop()
            raise
        self._process, self._port = process, port

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def kill(self) -> None:
        """SIGKILL (a crash, for fault tests); :meth:`restart` brings it back."""
        if self._process is not None:
            self._process.kill()

    def restart(self) -> None:
        """Stop (if running) and start again on the same port."""
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
