"""Kafka and Redis in Docker via testcontainers (imported lazily: optional).

Used with ``ANOMSTREAM_TEST_DOCKER=1``: real Apache Kafka where the embedded
broker falls short (SASL/SCRAM, TLS, Kafka's own group semantics).
"""

from __future__ import annotations

import gc
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from anomstream.embedded import free_port
from anomstream.embedded.probes import kafka_metadata_brokers
from harness.errors import HarnessError

DEFAULT_KAFKA_IMAGE = "apache/kafka:3.9.1"
DEFAULT_REDIS_IMAGE = "redis:7.4-alpine"
_STARTUP_TIMEOUT_S = 120


def require_docker_engine() -> None:
    """Fail with a clear message unless a Docker engine answers."""
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        raise HarnessError(
            "ANOMSTREAM_TEST_DOCKER=1 but the docker package is missing: pip install -e '.[dev]'"
        ) from None
    problem = None
    with warnings.catch_warnings():
        # docker-py leaks its socket when no engine answers; let it be collected
        # here, quietly, rather than fail the session later as an unraisable warning.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env()
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:
            problem = str(exc)
        gc.collect()
    if problem is not None:
        raise HarnessError(
            f"ANOMSTREAM_TEST_DOCKER=1 but no Docker engine answers ({problem}). Start Docker, "
            "or unset ANOMSTREAM_TEST_DOCKER to use the embedded broker and Redis."
        )


@contextmanager
def kafka_container(image: str = DEFAULT_KAFKA_IMAGE) -> Iterator[str]:
    """A single-node KRaft Apache Kafka; yields ``host:port``."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    # The broker must advertise the address clients use, which with a random
    # mapped port is known only after start; mapping a free port 1:1 avoids that.
    port = free_port()
    container = DockerContainer(image).with_bind_ports(port, port)
    host = container.get_docker_client().host()
    container.with_envs(
        KAFKA_NODE_ID="1",
        KAFKA_PROCESS_ROLES="broker,controller",
        KAFKA_LISTENERS=f"PLAINTEXT://:{port},CONTROLLER://:9093",
        KAFKA_ADVERTISED_LISTENERS=f"PLAINTEXT://{host}:{port}",
        KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
        KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS="1000",  # tests use short sessions (harness.groups)
        KAFKA_NUM_PARTITIONS="4",
    )
    wait = LogMessageWaitStrategy(re.compile(r"Kafka Server started"))
    wait.with_startup_timeout(_STARTUP_TIMEOUT_S)
    container.waiting_for(wait)
    with container:
        if not kafka_metadata_brokers(host, port, timeout=10.0):
            raise HarnessError(f"Kafka container {image} started but {host}:{port} does not answer")
        yield f"{host}:{port}"


@contextmanager
def redis_container(image: str = DEFAULT_REDIS_IMAGE) -> Iterator[str]:
    """A Redis container; yields its ``redis://`` URL."""
    from testcontainers.community.redis import RedisContainer

    with RedisContainer(image) as container:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(container.port)
        yield f"redis://{host}:{port}/0"
