"""One replay from start to end: file -> chunks -> validated records -> Kafka.

Reading and encoding a chunk (Arrow, numpy and the schema checks) runs in a
worker thread while the event loop produces the previous chunk, so the
broker connection is never starved while a chunk is parsed. Backpressure is
natural: a chunk is only read once the one before it was handed to the
producer, and the producer waits when Kafka is behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anomstream.replay.encode import ChunkEncoder, Record
from anomstream.replay.fields import ENTITY_FIELD, KIND_FIELDS, parse_maps, resolve_columns
from anomstream.replay.ratelimit import TokenBucket
from anomstream.replay.rejections import Rejections
from anomstream.replay.sink import KafkaSink
from anomstream.replay.source import Chunk, Source, open_source
from schemas import Kind
from schemas.settings import Settings

__all__ = ["Replay", "ReplayOptions", "ReplayProgress", "ReplayReport"]

_SEND_SLICE = 20_000  # records per producer call without --rate: progress stays live


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What to replay and how; the command line, checked."""

    path: Path
    topic: str
    timezone: str
    kind: Kind = "meter"
    maps: tuple[str, ...] = ()
    rate: float | None = None
    limit: int | None = None
    entities: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """A snapshot for the progress bar."""

    rows: int
    sent: int
    rejected: int
    done: int
    total: int | None
    elapsed_s: float


@dataclass(slots=True)
class ReplayReport:
    """The outcome: rows read (after filters), acknowledged by Kafka, rejected and why."""

    topic: str
    position_name: str
    rows: int = 0
    sent: int = 0
    elapsed_s: float = 0.0
    rejections: Rejections = field(default_factory=Rejections)

    @property
    def rejected(self) -> int:
        return self.rejections.total


class Replay:
    """Checks the arguments against the file at construction, then :meth:`run`.

    Construction raises :class:`~anomstream.replay.errors.BadArguments` for
    an unreadable file, a bad ``--map`` or a missing column, before anything
    connects to Kafka.
    """

    def __init__(self, options: ReplayOptions, settings: Settings) -> None:
        self.options = options
        self.settings = settings
        self.source: Source = open_source(options.path)
        mapping = parse_maps(options.maps, options.kind)
        self.columns = resolve_columns(options.kind, mapping, self.source.columns)
        self.source.check_types(
            self.columns, {spec.name: spec for spec in KIND_FIELDS[options.kind]}
        )
        self.report = ReplayReport(options.topic, self.source.position_name)
        self._encoder = ChunkEncoder(options.kind, options.timezone)
        self._started = 0.0
        self._queued = 0  # records handed to the producer

    async def run(
        self, on_progress: Callable[[ReplayProgress], None] | None = None
    ) -> ReplayReport:
        """Send the file; the report counts what Kafka acknowledged.

        Raises :class:`~anomstream.replay.errors.ProduceFailed` when Kafka
        cannot be reached or refuses the messages.
        """
        sink = KafkaSink(self.settings, self.options.topic)
        await sink.start()
        self._started = time.monotonic()
        report = self.report
        notify = on_progress or (lambda _progress: None)
        rate = self.options.rate
        bucket = None if rate is None else TokenBucket(rate, now=asyncio.get_running_loop().time())
        chunks = self._encoded()
        following: asyncio.Future[list[Record] | None] | None = None
        try:
            following = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
            while True:
                records = await following
                if records is None:
                    break
                following = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
                await self._send(sink, records, bucket, lambda: notify(self._progress(sink)))
                notify(self._progress(sink))
            await sink.flush()
        finally:
            if following is not None and not following.done():
                with contextlib.suppress(Exception):
                    await following  # a thread cannot be cancelled: let it finish
            chunks.close()
            # every row sent on or rejected (also those the reader refused);
            # when interrupted, not those read but not yet dealt with
            report.rows = self._handled
            await sink.stop()  # also delivers what was queued when interrupted
            report.sent = sink.acknowledged
            report.elapsed_s = time.monotonic() - self._started
        notify(self._progress(sink))
        return report

    async def _send(
        self,
        sink: KafkaSink,
        records: list[Record],
        bucket: TokenBucket | None,
        notify: Callable[[], None],
    ) -> None:
        if bucket is None:  # as fast as Kafka takes them
            for start in range(0, len(records), _SEND_SLICE):
                part = records[start : start + _SEND_SLICE]
                await sink.send(part)
                self._queued += len(part)
                notify()
            return
        loop = asyncio.get_running_loop()
        for start in range(0, len(records), bucket.batch):
            part = records[start : start + bucket.batch]
            delay = bucket.reserve(len(part), loop.time())
            if delay > 0:
                await sink.push()  # what is due goes out now, not after the pause
                notify()
                await asyncio.sleep(delay)
            await sink.send(part)
            self._queued += len(part)

    def _encoded(self) -> Generator[list[Record], None, None]:
        """The valid records of each chunk; runs in a worker thread."""
        remaining = self.options.limit
        rejections = self.report.rejections
        for chunk in self.source.chunks(self.columns, rejections):
            selected = self._select(chunk, remaining)
            if remaining is not None:
                remaining -= len(selected)
            yield self._encoder.encode(selected.columns, selected.rows, rejections)
            if remaining is not None and remaining <= 0:
                return

    def _select(self, chunk: Chunk, remaining: int | None) -> Chunk:
        """``--entities`` and ``--limit`` applied to one chunk."""
        if self.options.entities is not None:
            names = chunk.columns[ENTITY_FIELD[self.options.kind]].cast(pa.string())
            wanted = pc.is_in(names, value_set=pa.array(sorted(self.options.entities)))
            keep = np.asarray(wanted.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
            if not keep.all():
                mask = pa.array(keep)
                chunk = Chunk(
                    {name: values.filter(mask) for name, values in chunk.columns.items()},
                    chunk.rows[keep],
                )
        if remaining is not None and len(chunk) > remaining:
            chunk = Chunk(
                {name: values.slice(0, remaining) for name, values in chunk.columns.items()},
                chunk.rows[:remaining],
            )
        return chunk

    @property
    def _handled(self) -> int:
        """Rows sent on or rejected (rejections may run a chunk ahead: they are
        counted when read)."""
        return self._queued + self.report.rejections.total

    def _progress(self, sink: KafkaSink) -> ReplayProgress:
        return ReplayProgress(
            rows=self._handled,
            sent=sink.acknowledged,
            rejected=self.report.rejections.total,
            done=self.source.done,
            total=self.source.total,
            elapsed_s=time.monotonic() - self._started,
        )
