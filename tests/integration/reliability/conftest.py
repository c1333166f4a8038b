"""Fixtures of the fault tests: eight-partition topics, a fleet of workers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.days import LONDON
from harness.fleet import Fleet
from harness.topics import TopicNames, create_topics

from schemas.settings import Settings

PARTITIONS = 8


@pytest.fixture
async def fault_settings(settings: Settings) -> Settings:
    """The test's settings on its own eight-partition topics and consumer group."""
    names = TopicNames.unique()
    await create_topics(settings.kafka_bootstrap, names, partitions=PARTITIONS)
    return settings.model_copy(
        update={
            **names.settings_values(),
            "topic_partitions": PARTITIONS,
            "timezone": LONDON,
            "consumer_group": f"g-{uuid.uuid4().hex[:8]}",
        }
    )


@pytest.fixture
def fleet(fault_settings: Settings, tmp_path: Path) -> Iterator[Fleet]:
    fleet = Fleet(fault_settings, tmp_path / "workers")
    yield fleet
    fleet.stop_all()
