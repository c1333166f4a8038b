"""Whole fetched batches for the input topics, inside Faust's consumer.

Why: a py-spy profile of a Faust agent that does nothing (docs/BENCHMARKS.md)
spends its time in Faust's per-event path — ``Consumer._drain_messages``
awaits ``wait_first(callback(message), ...)`` for every record (two tasks and
an ``asyncio.wait`` each), then the conductor, the topic channel, an
``Event``, a queue, the stream and the ack bookkeeping — about 100 µs per
event against 2-3 µs for aiokafka's ``getmany``. ``take()`` and
``noack_take()`` batch only after that path, so they cannot help.

What stays Faust's: the group membership, assignment and rebalancing (the
aiokafka consumer in Faust's consumer thread), seeking to the committed
offsets on assignment, the commit timer and the commit on revocation, the
timers and the web server. What changes, for the topics that have a batch
handler: :class:`BatchConsumer` replaces the drain loop. Each ``getmany``
result (topped up for up to ``batch_wait_s``, as ``take`` did) goes to the
handler as one list of records (:class:`~stream.records.Record`), in offset order,
one batch at a time (the equivalent of agent concurrency 1, see
faust-streaming #606). Only once the handler has returned — Redis updated,
outputs acknowledged — is the batch's end recorded as committable; Faust's
own commit path commits it (``_new_offset``), and drops it for a partition
that is no longer assigned.

Rebalance: Faust stops the flow and calls :meth:`BatchConsumer.wait_empty`
before it commits and gives partitions up; that waits for the batch in
flight, so the old owner commits exactly what it processed. Records fetched
across a rebalance and not yet handed over are dropped, and each partition
still assigned is sought back to its first dropped record — not to the
committed offset, which a group whose commits never reached the broker does
not have (aiokafka then leaves the position past the dropped records). A
partition that moved reads from its committed offset at its new owner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

import structlog
from aiokafka.errors import IllegalStateError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from stream.records import Record, highest_offsets

__all__ = ["BatchConsumer", "BatchHandler", "BatchTransport"]

log = structlog.get_logger(__name__)


class BatchHandler(Protocol):
    """What the consumer hands a topic's batches to, in three steps.

    ``prepare`` runs while the batch before is in flight; ``stage`` calls
    follow one another in offset order; a batch's ``stage`` and ``finish`` may
    run while the batch before it finishes (``finish`` orders what must stay
    in order itself: the processor's scoring rounds). A batch's offsets become
    committable once its ``finish`` and those of every batch before it returned.
    """

    def prepare(self, records: list[Record]) -> Any:
        """Pure work on a batch (decoding): overlaps the batches in flight."""
        ...

    async def stage(self, records: list[Record], prepared: Any) -> Any:
        """The batch's state changes (the window updates); returns what ``finish`` needs."""
        ...

    async def finish(self, staged: Any) -> None:
        """Everything else (scoring, outputs); after it the batch's effects are durable."""
        ...


_BYTES_PER_READING = 128  # a single reading's message is about 100 bytes


class BatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, delivering whole batches to ``batch_handlers``."""

    revoke_wait_s: float = 30.0  # longest a rebalance waits for the batch in flight

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the app declares them (stream.app); a plain Faust app has none
        self.batch_handlers: dict[str, BatchHandler] = getattr(self.app, "batch_handlers", {})
        self.batch_max: int = getattr(self.app, "batch_max", 5000)
        self.batch_wait_s: float = getattr(self.app, "batch_wait_s", 0.05)
        # bulk messages carry many readings: a batch is also cut by size
        self.batch_bytes: int = self.batch_max * _BYTES_PER_READING
        self._processed: dict[TP, int] = {}  # next offset to commit, once processed
        # the latest batch started (it waits for the one before: the last to end)
        self._in_flight: asyncio.Future[None] | None = None
        self._staged: asyncio.Future[None] | None = None  # the latest batch's stage done
        self._before_latest: asyncio.Future[None] | None = None  # the batch started before it
        self._idle = asyncio.Event()
        self._idle.set()

    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    # --- the drain loop -------------------------------------------------------

    async def _drain_messages(self, fetcher: Any) -> None:
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        while not (consumer_stopped() or fetcher_stopped()):
            records, generation = await self._fetch()  # the batch in flight runs meanwhile
            if not records or self.should_stop:
                continue
            dropped = await self._deliver(records, generation)
            if dropped:
                await self._settle()
                await self._rewind(dropped)

    async def _fetch(self) -> tuple[dict[TP, list[Any]], int]:
        """One ``getmany``, topped up until ``batch_max`` records or ``batch_wait_s``,
        and the consumer generation they were fetched in."""
        # read before the wait: records that arrive across a rebalance count as
        # the old generation's, so they are dropped and rewound, never trusted
        generation = self.app.consumer_generation_id
        records, active = await self._wait_next_records(1.0)
        merged: dict[TP, list[Any]] = {}
        if not records:
            return merged, generation
        _merge(merged, records, active)
        deadline = time.monotonic() + self.batch_wait_s
        while self.flow_active and sum(map(len, merged.values())) < self.batch_max:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more, active = await self._wait_next_records(remaining)
            if more:  # kept even across a rebalance: what is dropped must be rewound
                _merge(merged, more, active)
            if self.app.consumer_generation_id != generation:
                break  # a rebalance: _deliver drops the batch and the drain rewinds
        return merged, generation

    async def _deliver(self, records: Mapping[TP, list[Any]], generation: int) -> dict[TP, int]:
        """Hand the records over, topic by topic. If the flow stopped or a rebalance
        began, the rest is dropped: returns, per partition, the first offset of
        what was not handed over (empty when everything was)."""
        batches: dict[str, list[Any]] = {}  # aiokafka's records, as fetched
        for tp, fetched in records.items():
            floor = self._read_offset[tp]  # after a seek: what was read already is skipped
            todo = fetched if floor is None else [r for r in fetched if r.offset >= floor]
            if not todo:
                continue
            if tp.topic not in self.batch_handlers:
                await self._deliver_each(tp, todo)
                continue
            batches.setdefault(tp.topic, []).extend(todo)
        chunks = [
            (self.batch_handlers[topic], chunk)
            for topic, batch in batches.items()
            for chunk in _chunks(batch, self.batch_bytes)
        ]
        for n, (handler, chunk) in enumerate(chunks):
            prepared = handler.prepare(chunk)  # overlaps the batches in flight
            await self._staging_done()  # stages one at a time, in offset order
            if not self.flow_active or self.app.consumer_generation_id != generation:
                return _first_offsets(c for _, rest in chunks[n:] for c in rest)
            self._start(handler, chunk, prepared)
        return {}

    async def _rewind(self, dropped: Mapping[TP, int]) -> None:
        """Move each partition that is still ours back to the first record dropped.

        Not to the committed offset: a group whose commits have not reached the
        broker yet has none, and aiokafka then leaves the position where it is,
        past the dropped records, which would be lost. Everything before the
        first dropped record was processed (batches run in offset order).
        """
        assigned = self.assignment()
        for tp, offset in dropped.items():
            if tp not in assigned:
                continue  # its new owner reads it from the committed offset
            try:
                await self.seek(tp, offset)
            except IllegalStateError:
                log.info("partition revoked before its rewind", tp=str(tp), offset=offset)

    def _start(self, handler: BatchHandler, chunk: list[Record], prepared: Any) -> None:
        """Run the batch: its stage now (the one before has staged), then its
        finish; it ends once the batch before has ended. Two batches are in
        flight at most (:meth:`_staging_done`): one finishing, the next staging
        (Redis updates) and then finishing (its round waits for the other's)."""
        self._idle.clear()
        staged = self._staged = asyncio.get_running_loop().create_future()
        self._before_latest = self._in_flight
        task = asyncio.ensure_future(self._run(handler, chunk, prepared, self._in_flight, staged))

        def done(task: asyncio.Future[None]) -> None:
            if task is self._in_flight:  # the last batch started has ended: all have
                self._idle.set()
            if not task.cancelled() and task.exception() is None:
                self._processed_up_to(chunk)

        task.add_done_callback(done)
        self._in_flight = task

    @staticmethod
    async def _run(
        handler: BatchHandler,
        chunk: list[Record],
        prepared: Any,
        before: asyncio.Future[None] | None,
        staged: asyncio.Future[None],
    ) -> None:
        result = await handler.stage(chunk, prepared)
        staged.set_result(None)
        # its finish may overlap the finish before (the handler orders what must
        # be ordered: the scoring rounds), but it ends after it: this batch's
        # offsets may only be committed after those before it. A batch that
        # failed stops the consumer; so does this one.
        await handler.finish(result)
        if before is not None:
            await asyncio.shield(before)

    async def _staging_done(self) -> None:
        """Wait until the latest batch has staged and the one before it has ended
        (two batches in flight at most); an error of either stops the consumer."""
        task, staged, before = self._in_flight, self._staged, self._before_latest
        if task is None or staged is None:
            return
        # not cancelled with the drain (a fetcher restart): the batches go on
        await asyncio.wait({staged, task}, return_when=asyncio.FIRST_COMPLETED)
        if before is not None and not task.done():
            await asyncio.wait({before, task}, return_when=asyncio.FIRST_COMPLETED)
        for batch in (b for b in (task, before) if b is not None and b.done()):
            if not batch.cancelled() and batch.exception() is not None:
                await batch  # raises it

    async def _settle(self) -> None:
        """Wait for every batch in flight; an error, if any, stops the consumer."""
        task = self._in_flight
        if task is not None:
            # shielded: a cancelled drain (a fetcher restart) must not cut a batch short
            await asyncio.shield(task)

    def _processed_up_to(self, chunk: list[Record]) -> None:
        inbound = self.app.monitor.stream_inbound_time  # Faust's livelock detector
        now, assigned = time.monotonic(), self.assignment()
        for (topic, partition), last in highest_offsets(chunk).items():
            tp = TP(topic, partition)
            self._read_offset[tp] = last
            inbound[tp] = now
            if tp in assigned:  # a partition revoked meanwhile is its new owner's now
                self._processed[tp] = last + 1

    async def _deliver_each(self, tp: TP, records: Iterable[Any]) -> None:
        """Faust's own per-message path, for topics without a batch handler."""
        for record in records:
            message = self._to_message(tp, record)
            await self.callback(message)
            self._read_offset[tp] = message.offset

    # --- commits: what was processed, through Faust's commit path -------------

    def _new_offset(self, tp: TP) -> int | None:
        if tp in self._processed:
            return self._processed[tp]
        return super()._new_offset(tp)

    def _filter_tps_with_pending_acks(self, topics: Any = None) -> Iterator[TP]:
        seen = set()
        for tp in super()._filter_tps_with_pending_acks(topics):
            seen.add(tp)
            yield tp
        for tp in list(self._processed):
            if tp not in seen and (topics is None or tp in topics or tp.topic in topics):
                yield tp

    # --- rebalancing ------------------------------------------------------------

    async def wait_empty(self) -> None:
        """Before Faust commits and gives partitions up: let the batch in flight finish."""
        try:
            await asyncio.wait_for(self._idle.wait(), self.revoke_wait_s)
        except TimeoutError:
            log.warning("a batch is still in flight after the revocation wait: not committed")
        await super().wait_empty()

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self._processed.pop(tp, None)
        await super().on_partitions_revoked(revoked)


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread with a short fetch wait.

    Faust fixes aiokafka's ``fetch_max_wait_ms`` at 1500. A broker that holds
    an empty fetch for the whole wait even when data arrives meanwhile (the
    embedded one does) then delays a reading by up to 1.5 s at a low rate.
    """

    fetch_max_wait_ms = 10

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms  # read by its start()
        return consumer


class BatchTransport(faust_aiokafka.Transport):
    Consumer = BatchConsumer


def _chunks(batch: list[Any], max_bytes: int) -> Iterator[list[Any]]:
    """Consecutive pieces of ``batch`` of at most ``max_bytes`` of bulk messages (at least
    one record). Any other record counts as one reading's bytes, whatever its size: a
    flood of large bad records is cheap to reject, and cutting batches for it made each
    few hundred of them a whole batch cycle (docs/RELIABILITY.md)."""
    start, size = 0, 0
    for i, record in enumerate(batch):
        value = record.value or b""
        n = len(value)
        size += n if n > _BYTES_PER_READING and b'"readings"' in value else _BYTES_PER_READING
        if size >= max_bytes:
            yield batch[start : i + 1]
            start, size = i + 1, 0
    if start < len(batch):
        yield batch[start:]


def _first_offsets(records: Iterable[Any]) -> dict[TP, int]:
    first: dict[TP, int] = {}
    for r in records:
        tp = TP(r.topic, r.partition)
        first[tp] = min(first.get(tp, r.offset), r.offset)
    return first


def _merge(into: dict[TP, list[Any]], records: Mapping[TP, list[Any]], active: Any) -> None:
    for tp, fetched in records.items():
        if fetched and (active is None or tp in active):
            into.setdefault(tp, []).extend(fetched)
