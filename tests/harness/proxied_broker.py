"""A private tansu broker that clients reach only through a :class:`TcpProxy`.

Kafka clients connect to the address a broker *advertises*, not to the one
they bootstrapped from, so a proxy in front of a broker is in the path only
if the broker advertises the proxy. Cutting the proxy is then a broker
outage for every client, with the broker's memory-only data kept.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from anomstream.embedded import KafkaBroker, free_port
from anomstream.embedded.probes import kafka_metadata_brokers
from harness.proxy import TcpProxy

__all__ = ["ProxiedBroker"]


class _AdvertisingBroker(KafkaBroker):
    """Listens on its own port, advertises ``advertised_port`` (the proxy's)."""

    def __init__(self, *, run_dir: Path, advertised_port: int) -> None:
        super().__init__(free_port(), run_dir=run_dir)
        self.advertised_port = advertised_port

    def _argv(self, binary: str, port: int) -> list[str]:
        argv = super()._argv(binary, port)
        argv[argv.index("--advertised-listener-url") + 1] = (
            f"tcp://{self.host}:{self.advertised_port}"
        )
        return argv

    def _answers(self, port: int) -> bool:
        brokers = kafka_metadata_brokers(self.host, port)
        return any(b.port == self.advertised_port for b in brokers or ())


class ProxiedBroker:
    """``bootstrap`` is the proxy's address; :attr:`proxy` cuts and restores it."""

    def __init__(self, run_dir: Path) -> None:
        self.proxy = TcpProxy("127.0.0.1", 0)
        self.broker = _AdvertisingBroker(run_dir=run_dir, advertised_port=self.proxy.port)
        self.proxy.target = ("127.0.0.1", self.broker.port)

    @property
    def bootstrap(self) -> str:
        return self.proxy.address

    def __enter__(self) -> Self:
        self.broker.start()
        try:
            self.proxy.start()
        except BaseException:
            self.broker.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.proxy.stop()
        self.broker.stop()
