"""Shared fixtures: real services per session, unique topics and keys per test.

The logic lives in ``tests/harness`` (where the services come from is
explained in its ``__init__``); this file only wires it into pytest.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import markers, services
from harness.redis_servers import RedisServerFactory
from harness.settings import make_settings
from harness.topics import TopicNames, create_topics

from anomstream.embedded import RedisServer
from schemas.settings import Settings

_TESTS = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before -m selection sees the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    markers.mark_integration(items, _TESTS / "integration")
    markers.skip_gpu_without_cuda(items)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a Kafka-compatible broker shared by the session."""
    with services.kafka_service(os.environ, tmp_path_factory.mktemp("kafka")) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://`` URL of a Redis shared by the session (use ``key_prefix``)."""
    with services.redis_service(os.environ, tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
async def topics(kafka_bootstrap: str) -> TopicNames:
    """This test's own topics, created with 4 partitions each."""
    names = TopicNames.unique()
    await create_topics(kafka_bootstrap, names)
    return names


@pytest.fixture
def key_prefix() -> str:
    """This test's own Redis key prefix."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def settings(kafka_bootstrap: str, redis_url: str, topics: TopicNames, key_prefix: str) -> Settings:
    """Settings pointing at the session services and this test's topics and keys.

    Built from keyword arguments only: the shell's ``ANOMSTREAM_*`` do not leak in.
    """
    return make_settings(
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        key_prefix=key_prefix,
        **topics.settings_values(),
    )


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start private Redis servers (``appendonly=True`` for kill/restart tests)."""
    factory = RedisServerFactory(tmp_path / "redis-servers")
    yield factory
    factory.stop_all()
