"""Redis (a private redis-server with an append-only file) crashes mid-stream.

Twice it is SIGKILLed and restarted at once, then it stays down for 30 s
while readings keep arriving. Each acknowledged write survives in the AOF;
what the workers were doing when it died is redone from unacknowledged
input. While Redis is away the workers neither crash nor spin: they retry
with backoff, say so in one clear log line per attempt (and in
``anomstream_redis_retries_total``), and catch up
once it is back.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.fleet import Fleet
from harness.kafka_io import produce, read_topic
from harness.verify import assert_delivered, read_outputs
from harness.workload import MeterWorkload
from pydantic import SecretStr

from anomstream.embedded import RedisServer
from schemas.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 6379
OUTAGE_S = 30.0
RETRYING = "infrastructure unavailable; retrying"


def _retries(log: str) -> list[dict[str, object]]:
    lines = (line for line in log.splitlines() if RETRYING in line)
    return [json.loads(line[line.index("{") :]) for line in lines]


async def test_workers_wait_for_redis_and_lose_nothing(
    fault_settings: Settings,
    redis_server_factory: Callable[..., RedisServer],
    tmp_path: Path,
) -> None:
    server = redis_server_factory(appendonly=True)
    settings = fault_settings.model_copy(update={"redis_url": SecretStr(server.url)})
    workload = MeterWorkload(households=150, n_days=10, seed=SEED)
    chunks = workload.chunks(4)
    rng = random.Random(SEED)
    fleet = Fleet(settings, tmp_path / "workers")
    bootstrap, topic = settings.kafka_bootstrap, settings.topic_readings
    try:
        workers = [fleet.start(name) for name in ("a", "b")]
        for worker in workers:
            worker.wait_until_serving(assigned=False)
        pids = [w.pid for w in workers]
        # two crashes with an immediate restart, at seeded moments of the stream
        for chunk in chunks[:2]:
            await produce(bootstrap, topic, chunk)
            await asyncio.sleep(rng.uniform(0.5, 2.5))
            server.kill()
            server.restart()
        # then an outage: down for 30 s while the workers have work to do
        await produce(bootstrap, topic, chunks[2])
        await read_topic(bootstrap, settings.topic_scores, until=lambda s: len(s) >= 700)
        server.kill()
        # readings keep coming while Redis is down: a meter batch is then surely
        # in flight through the outage (the workers may have caught up before it)
        await produce(bootstrap, topic, chunks[3])
        await asyncio.sleep(OUTAGE_S)  # the fault's duration, not a wait for a result
        during = {name: len(_retries(w.log_path.read_text())) for name, w in fleet.workers.items()}
        assert all(w.running for w in workers), fleet.tails()
        server.restart()

        out = await read_outputs(settings, workload)
        assert_delivered(out, workload, context=fleet.tails())
        assert [w.pid for w in workers] == pids, "a worker crashed and was restarted"
        logs = fleet.logs()
        retries = _retries(logs)
        assert retries, "no worker said it was waiting for Redis"
        assert {r["what"] for r in retries} & {"meter batch", "housekeeping"}
        delays = [float(str(r["retry_in_s"])) for r in retries if r["what"] == "meter batch"]
        assert max(delays) >= 4 * min(delays), delays  # backed off exponentially
        assert all(n < 60 for n in during.values()), during  # waits, does not spin
        assert "infrastructure available again" in logs
        for worker in workers:
            assert "anomstream_redis_retries_total{" in worker.metrics()
    finally:
        fleet.stop_all()
