"""Where the session's Kafka and Redis come from: environment, Docker, or embedded."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import redis

from anomstream.embedded import KafkaBroker, RedisServer
from anomstream.embedded.probes import kafka_metadata_brokers
from harness import docker
from harness.errors import HarnessError

KAFKA_ENV = "ANOMSTREAM_TEST_KAFKA_BOOTSTRAP"
REDIS_ENV = "ANOMSTREAM_TEST_REDIS_URL"
DOCKER_ENV = "ANOMSTREAM_TEST_DOCKER"
KAFKA_IMAGE_ENV = "ANOMSTREAM_TEST_KAFKA_IMAGE"
REDIS_IMAGE_ENV = "ANOMSTREAM_TEST_REDIS_IMAGE"


def docker_requested(environ: Mapping[str, str]) -> bool:
    return environ.get(DOCKER_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@contextmanager
def kafka_service(environ: Mapping[str, str], run_dir: Path) -> Iterator[str]:
    """Yield a Kafka bootstrap address for the session; stop what we started after it."""
    given = environ.get(KAFKA_ENV, "").strip()
    if given:
        _require_kafka_answers(given)
        yield given
    elif docker_requested(environ):
        docker.require_docker_engine()
        with docker.kafka_container(environ.get(KAFKA_IMAGE_ENV, docker.DEFAULT_KAFKA_IMAGE)) as bs:
            yield bs
    else:
        with KafkaBroker(run_dir=run_dir) as broker:
            yield broker.bootstrap


@contextmanager
def redis_service(environ: Mapping[str, str], run_dir: Path) -> Iterator[str]:
    """Yield a Redis URL for the session; stop what we started after it."""
    given = environ.get(REDIS_ENV, "").strip()
    if given:
        _require_redis_answers(given)
        yield given
    elif docker_requested(environ):
        docker.require_docker_engine()
        with docker.redis_container(
            environ.get(REDIS_IMAGE_ENV, docker.DEFAULT_REDIS_IMAGE)
        ) as url:
            yield url
    else:
        with RedisServer(run_dir=run_dir, name="session-redis") as server:
            yield server.url


def _require_kafka_answers(bootstrap: str) -> None:
    first = bootstrap.split(",", maxsplit=1)[0].strip()
    host, _, port = first.rpartition(":")
    if not (host and port.isdigit() and kafka_metadata_brokers(host, int(port), timeout=5.0)):
        raise HarnessError(f"{KAFKA_ENV}={bootstrap} does not answer a Kafka metadata request")


def _require_redis_answers(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        # The URL may carry a password: name the variable, not its value.
        raise HarnessError(f"{REDIS_ENV} does not answer PING: {type(exc).__name__}") from exc
    finally:
        client.close()
