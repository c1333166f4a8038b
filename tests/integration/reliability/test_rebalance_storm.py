"""A rebalance storm: workers join and leave every few seconds across eight partitions.

While the stream is produced, a seeded schedule adds or removes a worker
every two to five seconds, between one and four running, so partitions keep
moving between processes mid-batch. Each move redelivers what the previous
owner had not committed; the outputs must still pass the same checks as
after a crash.

A removal is a crash (SIGKILL, at once) or a graceful stop (SIGTERM: Faust
commits and leaves the group), seeded. A graceful stop waits for the group
to settle first: on tansu a member leaving mid-rebalance can leave the group
without a leader for good (every member a follower, the generation stuck;
see docs/RELIABILITY.md), which Apache Kafka does not do.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from harness.fleet import Fleet
from harness.kafka_io import produce
from harness.verify import assert_delivered, read_outputs
from harness.workload import MeterWorkload

from schemas.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 8
CHANGES = 10
POOL = tuple(f"w{n}" for n in range(5))
MIN_RUNNING, MAX_RUNNING = 1, 4
PARTITIONS = 8  # as the fault_settings fixture creates them


def _settled(fleet: Fleet, topic: str) -> bool:
    """Every running worker serves a share of ``topic`` and the shares cover it once."""
    shares = []
    for name in fleet.running():
        health = fleet.workers[name].health()
        if not health or not health["ready"]:
            return False
        shares.append({p for p in health["assigned_partitions"] if p.startswith(f"{topic}:")})
    union = set().union(*shares)
    return all(shares) and len(union) == PARTITIONS == sum(len(s) for s in shares)


async def _change(fleet: Fleet, rng: random.Random) -> str:
    """Add a worker or remove one, within the bounds; says which and how."""
    running = fleet.running()
    idle = [name for name in POOL if name not in running]
    add = len(running) <= MIN_RUNNING or (len(running) < MAX_RUNNING and rng.random() < 0.5)
    if add:
        name = rng.choice(idle)
        fleet.start(name)
        return f"+{name}"
    name = rng.choice(running)
    if rng.random() < 0.5:
        fleet.kill(name)
        return f"x{name}"
    await _until_settled(fleet)
    await asyncio.to_thread(fleet.stop, name)  # Faust commits what it can and leaves
    return f"-{name}"


async def _until_settled(fleet: Fleet, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not _settled(fleet, fleet.settings.topic_readings):
        assert time.monotonic() < deadline, f"the group did not settle\n{fleet.tails()}"
        await asyncio.sleep(0.2)


async def test_a_rebalance_storm_loses_no_window_and_doubles_no_alert(
    fault_settings: Settings, fleet: Fleet
) -> None:
    workload = MeterWorkload(households=150, n_days=10, seed=SEED)
    rng = random.Random(SEED)
    for name in POOL[:2]:
        fleet.start(name).wait_until_serving(assigned=False)
    changes = []
    for chunk in workload.chunks(CHANGES):
        await produce(fault_settings.kafka_bootstrap, fault_settings.topic_readings, chunk)
        await asyncio.sleep(rng.uniform(2.0, 5.0))  # seeded storm timing, not a result wait
        changes.append(await _change(fleet, rng))
    assert len(changes) == CHANGES
    assert any(c.startswith("-") for c in changes), changes  # some left gracefully
    assert fleet.running(), changes

    out = await read_outputs(fault_settings, workload)
    assert_delivered(out, workload, context=f"changes: {changes}\n{fleet.tails()}")
    assert out.alerts
