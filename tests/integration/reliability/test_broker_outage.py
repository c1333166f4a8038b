"""The broker unreachable for 30 s mid-stream: workers wait, reconnect, lose nothing.

tansu keeps its data in memory only, so "stopping the broker" would erase the
topics; the outage is made on the network path instead (a proxy the test
cuts: open connections reset, new ones refused), which is what every client
sees of a stopped broker. The workers must neither crash nor need a restart.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.days import LONDON
from harness.fleet import Fleet
from harness.kafka_io import produce, read_topic
from harness.proxied_broker import ProxiedBroker
from harness.settings import make_settings
from harness.topics import TopicNames, create_topics
from harness.verify import assert_delivered, read_outputs
from harness.workload import MeterWorkload

from schemas.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_S = 30.0
PARTITIONS = 8


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ProxiedBroker]:
    with ProxiedBroker(tmp_path / "broker") as broker:
        yield broker


async def test_workers_ride_out_a_broker_outage(
    broker: ProxiedBroker, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    names = TopicNames.unique()
    await create_topics(broker.bootstrap, names, partitions=PARTITIONS)
    settings: Settings = make_settings(
        kafka_bootstrap=broker.bootstrap,
        redis_url=redis_url,
        key_prefix=key_prefix,
        topic_partitions=PARTITIONS,
        timezone=LONDON,
        consumer_group=f"g-{uuid.uuid4().hex[:8]}",
        **names.settings_values(),
    )
    workload = MeterWorkload(households=100, n_days=10, seed=4)
    first, second = workload.chunks(2)
    fleet = Fleet(settings, tmp_path / "workers")
    try:
        workers = [fleet.start(name) for name in ("a", "b")]
        for worker in workers:
            worker.wait_until_serving(assigned=False)
        pids = [w.pid for w in workers]
        await produce(broker.bootstrap, settings.topic_readings, first)
        # cut while the workers are busy with the first half
        await read_topic(broker.bootstrap, settings.topic_scores, until=lambda s: len(s) >= 50)
        broker.proxy.cut()
        before = broker.proxy.connections
        await asyncio.sleep(OUTAGE_S)  # the fault's duration, not a wait for a result
        assert all(w.running for w in workers), fleet.tails()
        broker.proxy.restore()
        await produce(broker.bootstrap, settings.topic_readings, second)

        out = await read_outputs(settings, workload)
        assert_delivered(out, workload, context=fleet.tails())
        assert [w.pid for w in workers] == pids, "a worker was restarted"
        assert all(w.running for w in workers)
        assert broker.proxy.connections > before  # the same processes connected again
    finally:
        fleet.stop_all()
