"""Is each input partition caught up? What the watermark needs from Faust.

After every batch, and on every housekeeping tick for all assigned input
partitions, a worker reports whether it has *processed* everything the broker
has: the last processed offset against the partition's high-water mark. A
partition this process has not processed yet counts as caught up only if the
consumer's position is already at the high-water mark (nothing to read).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from faust.types import TP

from stream.records import Record, highest_offsets

__all__ = ["InputProgress"]


class InputProgress:
    def __init__(self) -> None:
        self._processed: dict[TP, int] = {}  # last processed offset

    def after_batch(self, consumer: Any, records: Iterable[Record]) -> dict[int, bool]:
        """Record the batch as processed; the status of its partitions."""
        touched = []
        for (topic, partition), offset in highest_offsets(records).items():
            tp = TP(topic, partition)
            touched.append(tp)
            if offset > self._processed.get(tp, -1):
                self._processed[tp] = offset
        return {tp.partition: self._caught_up(consumer, tp, None) for tp in touched}

    async def status(self, consumer: Any, topic: str) -> dict[int, bool]:
        """Caught-up status of every assigned partition of ``topic``."""
        result = {}
        for tp in consumer.assignment():
            if tp.topic != topic:
                continue
            position = None if tp in self._processed else await consumer.position(tp)
            result[tp.partition] = self._caught_up(consumer, tp, position)
        return result

    def forget_revoked(self, assigned: Iterable[TP]) -> None:
        """Drop partitions no longer ours (their next owner reports them)."""
        keep = set(assigned)
        for tp in [tp for tp in self._processed if tp not in keep]:
            del self._processed[tp]

    def _caught_up(self, consumer: Any, tp: TP, position: int | None) -> bool:
        highwater = consumer.highwater(tp)
        if highwater is None:
            return False
        processed = self._processed.get(tp)
        if processed is not None:
            return processed + 1 >= int(highwater)
        return position is not None and position >= int(highwater)
