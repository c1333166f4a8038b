"""The Faust worker: consumer group, batch handlers, timers and web, around the processor.

Faust does what it is good at — group membership, partition assignment and
rebalancing, offset commits, timers, the web server. Its consumer
(:mod:`stream.fetch`) hands each input topic's fetched records over whole, one
batch at a time, to :class:`~stream.processor.WindowProcessor`, and offsets
become committable only after the batch is fully processed, so a crash or
rebalance redelivers rather than loses. Faust's per-event stream path (the
agents' ``take``/``noack_take``) costs ~100 µs per event and is bypassed for
these topics; see docs/BENCHMARKS.md for the profile.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import faust
import structlog
from redis.asyncio import Redis

from infra.kafka import ensure_topics, kafka_ssl_context
from infra.redis import redis_client
from schemas.settings import Settings
from stream.dead_letters import DeadLetters
from stream.fetch import BatchHandler, BatchTransport
from stream.grouping import Grouped, group_records
from stream.metrics import WorkerMetrics
from stream.models import ModelWatcher
from stream.partitions import InputProgress
from stream.processor import KIND_METER, KIND_TICKET, Staged, WindowProcessor
from stream.publisher import KafkaPublisher
from stream.recent_alerts import AlertFeed, RecentAlerts
from stream.records import Record
from stream.redis_calls import count_round_trips
from stream.retry import retry_forever
from stream.scorers import ScorerSwitch
from stream.web import register_views
from stream.windows.redis_store import RedisWindowStore

__all__ = ["WorkerApp", "create_app"]

log = structlog.get_logger(__name__)


class Runtime:
    """The worker's connections and processor; started before agents consume."""

    def __init__(self, settings: Settings, scorers: ScorerSwitch, metrics: WorkerMetrics) -> None:
        self.settings = settings
        self.scorers = scorers
        self.metrics = metrics
        self.redis: Redis = redis_client(settings)
        count_round_trips(self.redis, metrics.redis_round_trips)
        self.store = RedisWindowStore(self.redis, settings.key_prefix, settings.redis_shards)
        self.models = ModelWatcher(settings, scorers, metrics)
        self.recent_alerts = RecentAlerts()  # for the /alerts page
        self.alert_feed = AlertFeed(settings, self.recent_alerts)
        self.ready = asyncio.Event()

    async def start(self) -> None:
        # aiokafka clients must be created inside the running loop
        self.publisher = KafkaPublisher(
            self.settings, idempotent=self.settings.kafka_idempotent_producer
        )
        self.processor = WindowProcessor(
            self.settings, self.store, self.scorers, self.publisher, self.metrics
        )
        # window-scores is the audit trail and the trainer's data: kept forever
        keep = {self.settings.topic_scores: {"retention.ms": "-1"}}
        counts = await retry_forever(
            "kafka topics",
            lambda: ensure_topics(self.settings, _topics(self.settings), topic_configs=keep),
        )
        # the watermark waits for every input partition: use the broker's count
        self.processor.partitions = {
            KIND_METER: counts[self.settings.topic_readings],
            KIND_TICKET: counts[self.settings.topic_sales],
        }
        await retry_forever("kafka producer", self.publisher.start)
        await retry_forever("redis", self.redis.ping)
        # every worker reads every model update (no group), then installs what is current
        await retry_forever("model updates", self.models.start)
        self.alert_feed.start()  # in the background: the page never holds readiness
        # The ~250,000 objects alive now (torch, Faust, pydantic, the model) live
        # as long as the worker. Unfrozen, every full collection walks them all
        # (~150 ms), and a batch's objects trigger one every few batches: 3.4 s
        # of GC in one (c) run, 0.2 s frozen (docs/BENCHMARKS.md).
        gc.freeze()
        self.ready.set()
        log.info("worker runtime started", settings=self.settings.safe_dump())

    async def stop(self) -> None:
        await self.alert_feed.stop()
        await self.models.stop()
        if self.ready.is_set():
            await self.processor.drain()
            await self.publisher.stop()
        await self.redis.aclose()


def faust_credentials(settings: Settings) -> faust.auth.Credentials | None:
    """Faust's view of the Kafka security settings (secrets unwrapped only here)."""
    protocol = settings.kafka_security_protocol
    context = kafka_ssl_context(settings)
    if protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            ssl_context=context,
            mechanism=settings.kafka_sasl_mechanism.value,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def _faust_datadir(settings: Settings) -> Path:
    path = Path(tempfile.gettempdir()) / "anomstream-faust" / settings.consumer_group
    path.mkdir(parents=True, exist_ok=True)
    return path


def _topics(settings: Settings) -> dict[str, int]:
    partitions = settings.topic_partitions
    return {
        settings.topic_readings: partitions,
        settings.topic_sales: partitions,
        settings.topic_scores: partitions,
        settings.topic_anomalies: partitions,
        settings.topic_dead_letters: partitions,
        settings.topic_model_updates: 1,
    }


class _InputHandler:
    """One input topic's batches: decoded ahead (prepare), then processed (handle)."""

    def __init__(self, app: WorkerApp, kind: str, progress: InputProgress) -> None:
        self.app, self.kind, self.progress = app, kind, progress
        self.settings = app.runtime.settings

    def prepare(self, records: list[Record]) -> Grouped:
        s = self.settings
        grouped = group_records(
            self.kind, records, s.timezone, s.window_grace_seconds, s.window_lateness_seconds
        )
        grouped.rejected = DeadLetters.of(grouped, s.topic_dead_letters, time.time())
        return grouped

    async def stage(self, records: list[Record], prepared: Grouped) -> Staged:
        runtime = self.app.runtime
        await runtime.ready.wait()
        status = self.progress.after_batch(self.app.consumer, records)
        stage = runtime.processor.stage
        return await retry_forever(
            f"{self.kind} batch",
            partial(stage, self.kind, records, status, grouped=prepared),
            metrics=runtime.metrics,
        )

    async def finish(self, staged: Staged) -> None:
        runtime = self.app.runtime
        await retry_forever(
            f"{self.kind} batch", partial(runtime.processor.finish, staged), metrics=runtime.metrics
        )


class WorkerApp(faust.App):
    """Faust app whose consumer hands the input topics over in whole batches."""

    runtime: Runtime
    batch_handlers: dict[str, BatchHandler]
    batch_max: int
    batch_wait_s: float

    def _new_transport(self) -> Any:
        return BatchTransport(self.conf.broker_consumer, self, loop=self.loop)

    async def on_start(self) -> None:
        await super().on_start()
        await self.runtime.start()

    async def on_stop(self) -> None:
        await self.runtime.stop()
        await super().on_stop()


def create_app(
    settings: Settings,
    *,
    scorers: ScorerSwitch | None = None,
    metrics: WorkerMetrics | None = None,
    **faust_options: Any,
) -> WorkerApp:
    """A worker app for ``settings``. ``faust_options`` override Faust settings
    (tests shorten the group timeouts, which tansu otherwise makes ~30 s)."""
    scorers = scorers or ScorerSwitch()
    metrics = metrics or WorkerMetrics()
    options: dict[str, Any] = {
        "broker": [f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        "broker_credentials": faust_credentials(settings),
        "store": "memory://",
        # Faust wants a data dir even without tables; keep it out of the cwd
        "datadir": str(_faust_datadir(settings)),
        "topic_partitions": settings.topic_partitions,
        "topic_allow_declare": False,  # topics are created by ensure_topics
        "consumer_auto_offset_reset": "earliest",
        "web_enabled": True,
        "web_port": settings.web_port,
        "web_bind": settings.web_host,
        "autodiscover": False,
        "producer_acks": -1,
        "broker_commit_every": 10_000,
        "broker_commit_interval": 1.0,
        "stream_buffer_maxsize": max(4096, settings.batch_max * 2),
        "broker_max_poll_records": settings.batch_max,
        # Faust's 1 MB per partition and fetch made a backlog of large records
        # (a flood of 10 kB bad ones) a fetch round trip per ~1 MB: 3.7 -> 2.8 s
        # for bench.bad_flood's flooded run at 4 MB
        "consumer_max_fetch_size": 4 << 20,
        "broker_session_timeout": settings.kafka_session_timeout_seconds,
        "broker_heartbeat_interval": settings.kafka_heartbeat_interval_seconds,
        "broker_rebalance_timeout": settings.kafka_rebalance_timeout_seconds,
    }
    options.update(faust_options)
    app = WorkerApp(settings.consumer_group, **options)
    app.runtime = Runtime(settings, scorers, metrics)

    progress = InputProgress()
    inputs = {KIND_METER: settings.topic_readings, KIND_TICKET: settings.topic_sales}

    app.batch_handlers = {}
    app.batch_max, app.batch_wait_s = settings.batch_max, settings.batch_wait_seconds

    def handler_for(kind: str, topic_name: str) -> None:
        # subscribed through Faust's conductor; the records come whole (stream.fetch)
        app.topics.add(app.topic(topic_name, key_serializer="raw", value_serializer="raw"))
        app.batch_handlers[topic_name] = _InputHandler(app, kind, progress)

    handler_for(KIND_METER, settings.topic_readings)
    handler_for(KIND_TICKET, settings.topic_sales)

    @app.timer(interval=1.0, name="anomstream.housekeeping")
    async def housekeeping() -> None:
        runtime = app.runtime
        if not runtime.ready.is_set():
            return
        progress.forget_revoked(app.consumer.assignment())
        status = {
            kind: await progress.status(app.consumer, topic) for kind, topic in inputs.items()
        }
        await retry_forever(
            "housekeeping",
            partial(runtime.processor.tick, status=status),
            metrics=runtime.metrics,
        )
        _observe_lag(app, runtime.metrics)

    @app.timer(interval=5.0, name="anomstream.models")
    async def model_pointers() -> None:
        # a rollback made with `anomstream models --rollback` on a shared model dir
        if app.runtime.ready.is_set():
            await app.runtime.models.poll()

    register_views(app)
    return app


def _observe_lag(app: faust.App, metrics: WorkerMetrics) -> None:
    consumer = app.consumer
    metrics.consumer_lag.clear()  # partitions lost in a rebalance are another worker's now
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        # faust keeps no public accessor for the committed offset
        committed = consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
        if highwater is not None:
            lag = max(0, highwater - (committed or 0))
            metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
