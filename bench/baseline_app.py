"""(b) The baseline a user would write: a Faust agent that validates each event
and awaits one Redis write per event. Run as a child process by the suite:

    BENCH_BOOTSTRAP=... BENCH_REDIS=... BENCH_TOPIC=... BENCH_GROUP=... \\
    BENCH_PREFIX=... BENCH_MODE=validate|noop python -m bench.baseline_app

``noop`` iterates and counts only: what Faust's per-event machinery alone
costs. Progress goes to Redis (``<prefix>:count`` every 1000 events), one
write per 1000 events on top of the one per event.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import faust
from redis.asyncio import Redis

from schemas.decode import decode_reading

PROGRESS_EVERY = 1000


def build(env: dict[str, str]) -> faust.App:
    prefix, mode = env["BENCH_PREFIX"], env.get("BENCH_MODE", "validate")
    app = faust.App(
        env["BENCH_GROUP"],
        broker=f"kafka://{env['BENCH_BOOTSTRAP']}",
        store="memory://",
        web_enabled=False,
        autodiscover=False,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=10.0,
        datadir=env.get("BENCH_DATADIR", "/tmp/anomstream-bench-faust"),
    )
    topic = app.topic(env["BENCH_TOPIC"], key_serializer="raw", value_serializer="raw")
    redis = Redis.from_url(env["BENCH_REDIS"])
    counted = [0]

    @app.agent(topic, concurrency=1)
    async def readings(stream: Any) -> None:
        async for value in stream:
            if mode == "validate":
                reading = decode_reading(value)
                ts = reading.ts
                await redis.hset(
                    f"{prefix}:{reading.meter_id}:{ts.date().isoformat()}",
                    str(ts.hour * 2 + ts.minute // 30),
                    repr(reading.kwh),
                )
            counted[0] += 1
            if counted[0] % PROGRESS_EVERY == 0:
                await redis.set(f"{prefix}:count", counted[0])

    return app


def main() -> None:
    app = build(dict(os.environ))
    from faust.worker import Worker

    sys.argv = [sys.argv[0]]
    Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
