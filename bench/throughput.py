"""Events per second of (b) the baseline Faust app and (c, d) the anomstream worker.

Each run gets a fresh consumer group (so it reads the topic from the start),
fresh Redis keys and, for the worker, fresh output topics. The rate is taken
between the first and the last observation of the progress counter, so the
child's start-up (imports, group join) is not counted.
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.children import (
    Progress,
    baseline_process,
    bench_settings,
    metric,
    worker_process,
)
from bench.kafka_io import count_messages
from bench.loop import run_async

__all__ = ["WorkerRun", "baseline_rate", "worker_run"]

_TIMEOUT_S = 600.0


def baseline_rate(
    bootstrap: str, redis_url: str, topic: str, limit: int, run_dir: Path, *, mode: str
) -> float:
    """(b) ``mode="validate"``; ``"noop"`` is Faust's per-event machinery alone.
    Measured over the first ``limit`` events of the topic (its rate is steady)."""
    prefix = f"bench-b-{uuid.uuid4().hex[:8]}"
    env = {
        "BENCH_BOOTSTRAP": bootstrap,
        "BENCH_REDIS": redis_url,
        "BENCH_TOPIC": topic,
        "BENCH_GROUP": prefix,
        "BENCH_PREFIX": prefix,
        "BENCH_MODE": mode,
        "BENCH_DATADIR": str(run_dir / prefix),
    }
    client = redis.Redis.from_url(redis_url)
    child = baseline_process(env, run_dir / f"{prefix}.log")
    try:
        progress = Progress(lambda: float(client.get(f"{prefix}:count") or 0))
        events, seconds = progress.until(lambda n: n >= limit, _TIMEOUT_S)
        return events / seconds
    finally:
        child.stop()
        client.close()


@dataclass(frozen=True, slots=True)
class WorkerRun:
    events_per_s: float  # readings per second
    round_trips_per_event: float
    scores: int
    alerts: int


def worker_run(
    bootstrap: str,
    redis_url: str,
    topic: str,
    model_dir: Path,
    run_dir: Path,
    *,
    messages: int,
    readings_per_message: int,
    windows: int,
) -> WorkerRun:
    """(c) or (d): the worker from the first record to the last window scored."""
    settings = bench_settings(bootstrap, redis_url, topic, model_dir)
    worker = worker_process(settings, run_dir / f"{settings.consumer_group}.log")
    try:
        worker.wait_until_serving(timeout=120.0)
        serving = time.perf_counter()

        def scrape() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics") as r:
                return r.read().decode()  # type: ignore[no-any-return]

        progress = Progress(lambda: metric(scrape(), "anomstream_events_in_total"))

        def scored() -> float:
            return metric(scrape(), "anomstream_windows_scored_total")

        # from the moment it owns its partitions (it reads at once) to the last window
        progress.until(lambda n: n >= messages and scored() >= windows, _TIMEOUT_S)
        records, seconds = messages, time.perf_counter() - serving
        text = scrape()
        trips = metric(text, "anomstream_redis_round_trips_total")
    finally:
        worker.stop()
    scores = run_async(count_messages(bootstrap, settings.topic_scores))
    alerts = run_async(count_messages(bootstrap, settings.topic_anomalies))
    readings = messages * readings_per_message
    return WorkerRun(
        events_per_s=records * readings_per_message / seconds,
        round_trips_per_event=trips / readings,
        scores=scores,
        alerts=alerts,
    )
