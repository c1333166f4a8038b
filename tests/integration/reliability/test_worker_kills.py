"""Workers SIGKILLed at seeded random moments while 200,000 readings stream in.

Two workers share eight partitions; six times, while the stream is still being
produced, one of them (or both at once) is killed without warning and started
again. Whatever each kill interrupted — a batch half applied to Redis, claims
held, outboxes not yet acknowledged, offsets not committed — the outputs read
from the beginning must still hold every window once, with the values sent,
one content per (alert_id, revision), and one dead letter per invalid input.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from harness.fleet import Fleet
from harness.kafka_io import produce
from harness.verify import assert_delivered, read_outputs
from harness.workload import MeterWorkload

from schemas.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 20130201
KILLS = 6
# 300 households x 14 days x 48 half hours = 201,600 readings (+ 404 invalid)
HOUSEHOLDS, DAYS = 300, 14


async def test_killed_workers_lose_no_window_and_double_no_alert(
    fault_settings: Settings, fleet: Fleet
) -> None:
    workload = MeterWorkload(HOUSEHOLDS, DAYS, seed=SEED)
    assert workload.readings >= 200_000
    rng = random.Random(SEED)
    names = ("a", "b")
    for name in names:
        fleet.start(name).wait_until_serving(assigned=False)
    chunks = workload.chunks(KILLS + 2)
    kills = 0
    for n, chunk in enumerate(chunks):
        await produce(fault_settings.kafka_bootstrap, fault_settings.topic_readings, chunk)
        if n >= KILLS:
            continue
        # seeded kill times, not a correctness wait: the outcome must not depend on them
        await asyncio.sleep(rng.uniform(0.2, 3.0))
        victims = names if n == KILLS // 2 else (rng.choice(names),)
        for name in victims:
            assert fleet.workers[name].running, fleet.tails()
            fleet.kill(name)
            kills += 1
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        for name in victims:
            fleet.start(name)  # a supervisor restarting it
    assert kills >= 5

    out = await read_outputs(fault_settings, workload)
    assert_delivered(out, workload, context=fleet.tails())
    assert out.alerts, "the spikes raised no alert: the content check checked nothing"
