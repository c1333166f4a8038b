"""Training data: the finished day windows, read back from ``window-scores``.

Why ``window-scores`` is the trainer's store, and no database beside it:

* it already holds **every scored day**, anomalous or not, with the 48 model
  slot values (``actual``, null where a reading is missing) and the
  conditions the model was given (the day's temperature): exactly what
  :func:`trainer.pipeline.train_and_publish` needs, in the contract's schema;
* it is the **audit trail**: a model version is trained on the very windows
  the workers scored and published, so "what did version N learn from" is
  answered by replaying the topic up to an offset;
* it is **replayable**: a fresh trainer (new machine, lost disk) rebuilds its
  training set by reading from the beginning. No extra store to provision,
  back up or keep consistent with Kafka.

Its retention must therefore be long (``retention.ms=-1`` or at least the
training horizon) and it must not be compacted: the key is the entity, and
compaction would keep one day per entity.

A late reading re-scores a day and publishes it again with a higher
``revision``; :class:`LatestWindows` keeps the latest revision per
(kind, entity, day), and on equal revisions the message read last (a
re-publish after a worker crash carries the same bytes).

:class:`ScoresReader` uses a plain consumer **without a group**: each read
goes from where the previous one stopped (the beginning, the first time) up
to the end offsets taken when the read started, so ``train --once``
terminates even while workers keep publishing. A group would only let a
restarted trainer resume at committed offsets, but the trainer needs the
whole history (its training set is in memory), so it re-reads from the
beginning anyway; a group would add rebalances and commits for nothing.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from datetime import date

import numpy as np
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from core.days import MODEL_SLOTS
from core.scoring.base import DayWindow
from infra.kafka import kafka_client_options
from schemas.outputs import WindowScore
from schemas.settings import Settings
from trainer.exceptions import TrainerError

__all__ = ["LatestWindows", "ScoresReader", "ScoresUnavailable", "WindowKey", "window_from_score"]

log = structlog.get_logger(__name__)

WindowKey = tuple[str, str, date]
"""(kind, entity_id, day)."""

_TEMPERATURE_KEYS = ("temperature_c", "temperature")


class ScoresUnavailable(TrainerError):
    """``window-scores`` could not be read (broker unreachable, read stalled)."""


def window_from_score(score: WindowScore) -> DayWindow:
    """The scored day as a training window: ``actual`` with null → NaN, the
    temperature from the conditions when there is a finite one. No history:
    training normalises per entity from the training days themselves."""
    values = np.array(
        [math.nan if value is None else value for value in score.actual], dtype=np.float64
    )
    if values.shape != (MODEL_SLOTS,):  # the schema pins 48; this guards a schema change
        raise ValueError(f"{len(values)} slot values, not {MODEL_SLOTS}")
    temperature: float | None = None
    for name in _TEMPERATURE_KEYS:
        value = score.conditions.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # absent, or not a number (bool is an int: a flag is no temperature)
        if math.isfinite(value):
            temperature = float(value)
            break
    return DayWindow(score.kind, score.entity_id, score.day, values, temperature_c=temperature)


class LatestWindows:
    """The latest revision of every (kind, entity, day) read so far."""

    def __init__(self) -> None:
        self._windows: dict[WindowKey, tuple[int, DayWindow]] = {}
        # Per kind: how many times a window was added or replaced. The service
        # compares it with its value at the last training: "new windows".
        self.changes: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()  # distinct windows per kind
        self.rejected = 0  # messages that are not a valid WindowScore

    def add(self, raw: bytes | None) -> bool:
        """Take one ``window-scores`` message; ``True`` if it added or replaced a window."""
        if raw is None:
            self.rejected += 1
            return False
        try:
            score = WindowScore.model_validate_json(raw)
            window = window_from_score(score)
        except (ValidationError, ValueError):
            self.rejected += 1
            return False
        return self.put(score.revision, window)

    def put(self, revision: int, window: DayWindow) -> bool:
        key = (window.kind, window.entity_id, window.day)
        held = self._windows.get(key)
        if held is not None and held[0] > revision:
            return False  # an older revision read after a newer one
        if held is None:
            self._counts[window.kind] += 1
        self._windows[key] = (revision, window)
        self.changes[window.kind] += 1
        return True

    def kinds(self) -> list[str]:
        return sorted(kind for kind, n in self._counts.items() if n)

    def count(self, kind: str) -> int:
        return self._counts[kind]

    def windows(self, kind: str) -> list[DayWindow]:
        """The windows of ``kind`` ordered by (entity, day): the same data always
        gives the same training set, so a killed run resumes from its checkpoint."""
        chosen = [(key, held[1]) for key, held in self._windows.items() if key[0] == kind]
        chosen.sort(key=lambda item: (item[0][1], item[0][2]))
        return [window for _, window in chosen]

    def __len__(self) -> int:
        return len(self._windows)


class ScoresReader:
    """Reads ``window-scores`` forward, from where the last read stopped.

    Every :meth:`read` opens a consumer, reads up to the end offsets taken at
    its start and closes it again: no connection is held while a model
    trains (minutes), and a broker restart between reads is no concern.
    """

    def __init__(
        self,
        settings: Settings,
        windows: LatestWindows | None = None,
        *,
        stall_seconds: float = 60.0,
    ) -> None:
        self.settings = settings
        self.windows = windows if windows is not None else LatestWindows()
        self.stall_seconds = stall_seconds
        self._positions: dict[int, int] = {}  # partition -> next offset to read

    async def read(self) -> int:
        """Read what arrived since the last call; returns the number of messages."""
        topic = self.settings.topic_scores
        consumer = AIOKafkaConsumer(
            **kafka_client_options(self.settings),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="anomstream-trainer",
            max_partition_fetch_bytes=4 << 20,
        )
        try:
            await consumer.start()
            if topic not in await consumer.topics():
                log.info("no window-scores topic yet", topic=topic)
                return 0
            partitions = sorted(consumer.partitions_for_topic(topic) or ())
            tps = [TopicPartition(topic, p) for p in partitions]
            consumer.assign(tps)
            for tp in tps:
                if tp.partition in self._positions:
                    consumer.seek(tp, self._positions[tp.partition])
                else:
                    await consumer.seek_to_beginning(tp)
            ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
            read = await self._read_until(consumer, ends)
            for tp in tps:
                self._positions[tp.partition] = await consumer.position(tp)
        except KafkaError as exc:
            raise ScoresUnavailable(
                f"cannot read {topic} on {self.settings.kafka_bootstrap}: {exc!r}"
            ) from exc
        finally:
            await consumer.stop()
        return read

    async def _read_until(self, consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> int:
        remaining = {tp for tp, end in ends.items() if await consumer.position(tp) < end}
        read = 0
        rejected_before = self.windows.rejected
        last_progress = time.monotonic()
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=10_000)
            for records in batch.values():
                read += _take(self.windows, (record.value for record in records))
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > self.stall_seconds:
                raise ScoresUnavailable(
                    f"reading {self.settings.topic_scores} stalled for {self.stall_seconds:g} s "
                    f"short of its end offsets"
                )
            # position, not the last record's offset: transaction markers and
            # compacted gaps have no record but still count towards the end.
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        rejected = self.windows.rejected - rejected_before
        if rejected:
            log.warning("window-scores messages skipped: not valid WindowScores", count=rejected)
        return read


def _take(windows: LatestWindows, values: Iterable[bytes | None]) -> int:
    n = 0
    for value in values:
        windows.add(value)
        n += 1
    return n
