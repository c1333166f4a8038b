"""The worker's side of model versions: load at start, switch on updates, refuse bad ones.

Three ways a worker learns which version of a kind is current, all ending
in :meth:`ScorerSwitch.install <stream.scorers.ScorerSwitch.install>`, which
takes effect between two scoring rounds (a window is scored by exactly one
model; none is lost or scored twice):

* :meth:`ModelWatcher.load_current` at start: the registry's ``CURRENT-<kind>``
  pointer, or the baseline while there is no model yet (cold start);
* :meth:`ModelWatcher.on_update`: a :class:`~schemas.ModelUpdate` from
  ``model-updates`` (the trainer published, or an operator rolled back);
* :meth:`ModelWatcher.poll`: the pointer changed on disk, which also covers
  an update missed while the consumer was down and a model directory that
  is synced after the message arrives.

A version that does not load (corrupt, truncated, wrong shapes, a sha256 that
is not the announced one, unknown) is **refused**: the current scorer stays,
an error is logged with the reason and ``anomstream_model_refused{kind}``
counts it. A worker never falls back to a half-loaded model.

:meth:`ModelWatcher.start` follows ``model-updates`` with a plain consumer
**without a group**: every worker must see every update (a group would give
each message to one worker), nothing needs committing (what was current
before the start is read from the pointers), so it starts at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from core.exceptions import CoreError
from core.holidays import load_calendar
from core.registry import ModelRegistry
from core.scoring.autoencoder import AutoencoderScorer
from infra.kafka import kafka_client_options
from schemas.model_updates import ModelUpdate
from schemas.settings import Settings
from stream.metrics import WorkerMetrics
from stream.scorers import ScorerSwitch

__all__ = ["KINDS", "ModelWatcher"]

log = structlog.get_logger(__name__)

KINDS: tuple[str, ...] = ("meter", "ticket")


class _Refused(Exception):
    """A version this worker will not use; ``reason`` says why."""


class ModelWatcher:
    """Keeps each kind's scorer at the registry's current version."""

    def __init__(
        self,
        settings: Settings,
        switch: ScorerSwitch,
        metrics: WorkerMetrics,
        registry: ModelRegistry | None = None,
        *,
        kinds: Sequence[str] = KINDS,
    ) -> None:
        self.settings = settings
        self.switch = switch
        self.metrics = metrics
        self.registry = registry or ModelRegistry(
            settings.model_dir,
            device=settings.device,
            calendar=load_calendar(settings.holidays_path),
        )
        self.kinds = tuple(kinds)
        self._pointers: dict[str, str | None] = {}  # last CURRENT seen by load_current/poll
        self._refused: set[tuple[str, str]] = set()  # not retried by poll
        # (kind, version, reason) of the latest refusal, for health pages and tests
        self.last_refusal: tuple[str, str | None, str] | None = None
        self._lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    # --- which version is in use -------------------------------------------------
    def version(self, kind: str) -> str:
        return self.switch.scorer(kind).version

    def load_current(self) -> dict[str, str]:
        """Install each kind's current version, if any; returns kind -> version in use."""
        for kind in self.kinds:
            pointer = self._read_pointer(kind)
            self._pointers[kind] = pointer
            if pointer is None:
                self._show(kind, None, self.version(kind))
                log.info(
                    "no model yet: scoring with the baseline", kind=kind, scorer=self.version(kind)
                )
                continue
            try:
                scorer = self._load(kind, pointer)
            except _Refused as exc:
                self._refuse(kind, pointer, str(exc), source="startup")
                self._show(kind, None, self.version(kind))
                continue
            self._install(kind, scorer, source="startup")
        return {kind: self.version(kind) for kind in self.kinds}

    async def on_update(self, raw: bytes) -> bool:
        """Handle one ``model-updates`` message; ``True`` if a new version is in use.

        Never raises for a bad message or model: the current scorer stays.
        """
        try:
            update = ModelUpdate.model_validate_json(raw)
        except ValidationError as exc:
            kind = _kind_of(raw)
            reason = f"not a valid model update: {exc.error_count()} error(s): {_first_error(exc)}"
            self._refuse(kind, None, reason, source="model-updates")
            return False
        kind, version = update.kind, update.version
        if kind not in self.kinds:
            log.info("model update for a kind this worker does not score", kind=kind)
            return False
        async with self._lock:
            if version == self.version(kind):
                log.debug("model update for the version in use", kind=kind, version=version)
                return False
            try:
                scorer = await asyncio.to_thread(self._load, kind, version, update)
            except _Refused as exc:
                self._refuse(kind, version, str(exc), source="model-updates")
                return False
            self._install(kind, scorer, source=f"model-updates ({update.action})")
            return True

    async def poll(self) -> list[str]:
        """Check the ``CURRENT`` pointers (cheap: two small files); switch the kinds
        whose pointer moved to a version not in use. Returns the kinds switched."""
        switched = []
        for kind in self.kinds:
            pointer = self._read_pointer(kind)
            if pointer == self._pointers.get(kind):
                continue
            self._pointers[kind] = pointer
            if pointer is None or (kind, pointer) in self._refused:
                continue
            async with self._lock:
                if pointer == self.version(kind):
                    continue
                try:
                    scorer = await asyncio.to_thread(self._load, kind, pointer)
                except _Refused as exc:
                    self._refuse(kind, pointer, str(exc), source="pointer")
                    continue
                self._install(kind, scorer, source="pointer")
                switched.append(kind)
        return switched

    # --- following model-updates ----------------------------------------------------
    async def start(self) -> None:
        """Subscribe to ``model-updates`` at its end, then :meth:`load_current`.

        In this order, an update published during the start is either already
        in ``CURRENT`` or read by the consumer; none falls in between. Safe to
        retry (``retry_forever``): a failed start leaves nothing open.
        """
        topic = self.settings.topic_model_updates
        consumer = AIOKafkaConsumer(
            **kafka_client_options(self.settings),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            client_id="anomstream-worker-models",
        )
        self._consumer = consumer
        try:
            await consumer.start()
            partitions = (
                consumer.partitions_for_topic(topic) if topic in await consumer.topics() else None
            )
            if partitions:
                tps = [TopicPartition(topic, p) for p in sorted(partitions)]
                consumer.assign(tps)
                await consumer.seek_to_end(*tps)
                for tp in tps:
                    await consumer.position(tp)  # pin "the end" to now, before load_current
            else:
                log.warning("no model-updates topic yet; following it once it exists", topic=topic)
                consumer.subscribe([topic])
            await asyncio.to_thread(self.load_current)
        except BaseException:
            await self.stop()
            raise
        self._task = asyncio.create_task(self._follow(consumer), name="anomstream.model-updates")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=1000)
            except KafkaError as exc:
                log.warning("reading model-updates failed; retrying", error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            for records in batch.values():
                for record in records:
                    if record.value is not None:
                        await self.on_update(record.value)

    # --- helpers ------------------------------------------------------------------------
    def _read_pointer(self, kind: str) -> str | None:
        try:
            return self.registry.current(kind)
        except (OSError, UnicodeDecodeError, CoreError) as exc:
            log.warning("cannot read the current-model pointer", kind=kind, error=str(exc))
            return self._pointers.get(kind)

    def _load(
        self, kind: str, version: str, update: ModelUpdate | None = None
    ) -> AutoencoderScorer:
        """Load ``version``; with an ``update``, also check the file is the one announced."""
        try:
            if update is not None:
                record = self.registry.describe(kind, version)
                if record.weights_file != update.path or record.sha256 != update.sha256:
                    raise _Refused(
                        f"the registry's {record.weights_file} (sha256 {record.sha256[:12]}…) "
                        f"is not the announced {update.path} (sha256 {update.sha256[:12]}…)"
                    )
            return self.registry.load(kind, version)
        except CoreError as exc:
            raise _Refused(str(exc)) from exc

    def _install(self, kind: str, scorer: AutoencoderScorer, *, source: str) -> None:
        before = self.version(kind)
        self.switch.install(kind, scorer)
        self._show(kind, before, scorer.version)
        self._refused.discard((kind, scorer.version))
        log.info(
            "model switched",
            kind=kind,
            version=scorer.version,
            previous=before,
            threshold=scorer.threshold,
            source=source,
        )

    def _show(self, kind: str, before: str | None, now: str) -> None:
        gauge = self.metrics.model_version
        if before is not None and before != now:
            with contextlib.suppress(KeyError):  # not shown yet
                gauge.remove(kind, before)
        gauge.labels(kind=kind, version=now).set(1)

    def _refuse(self, kind: str, version: str | None, reason: str, *, source: str) -> None:
        if version is not None:
            self._refused.add((kind, version))
        self.last_refusal = (kind, version, reason)
        self.metrics.model_refused.labels(kind=kind).inc()
        log.error(
            "model refused; keeping the current scorer",
            kind=kind,
            version=version,
            reason=reason,
            in_use=self.version(kind) if kind in self.kinds else None,
            source=source,
        )


def _kind_of(raw: bytes) -> str:
    """The kind named by an invalid update, for the metric label; ``unknown`` if none."""
    try:
        kind = orjson.loads(raw).get("kind")
    except (orjson.JSONDecodeError, AttributeError):
        return "unknown"
    return kind if kind in KINDS else "unknown"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "message"
    return f"{where}: {error['msg']}"
