"""A batch's rejected records as ``dead-letters`` messages, cheaply.

A flood of bad input is mostly this path, so it builds the bytes directly
(:func:`schemas.dead_letters.dead_letter_json`, the model's very bytes),
formats ``received_at`` once per batch (the records of one batch were
received together) and counts the reasons once per batch, not once per
record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from schemas import InvalidMessage
from schemas.dead_letter_json import DeadLetterWriter, received_at_json
from schemas.dead_letters import kept_text
from schemas.decode import ItemError
from stream.records import Record
from stream.windows.base import WindowKey

if TYPE_CHECKING:
    from stream.grouping import Grouped

__all__ = ["DeadLetters"]

OutputMessage = tuple[str, bytes | None, bytes]


class DeadLetters:
    """The dead letters of one batch: ``messages`` to publish, ``reasons`` to count."""

    def __init__(self, topic: str, now: float) -> None:
        self.topic = topic
        self.received_at = received_at_json(datetime.fromtimestamp(now, UTC))
        self._write = DeadLetterWriter(self.received_at)
        self._keys: dict[bytes | None, bytes | None] = {}  # record key -> letter's key
        self.messages: list[OutputMessage] = []
        self.reasons: Counter[str] = Counter()
        self.acked = False  # every message acknowledged by the broker

    @classmethod
    def of(cls, grouped: Grouped, topic: str, now: float) -> DeadLetters:
        """The records that grouping rejected (pure work: done ahead of the batch)."""
        dead = cls(topic, now)
        dead.invalid(grouped.invalid)
        dead.invalid_items(grouped.invalid_items)
        return dead

    def __len__(self) -> int:
        return len(self.messages)

    def add(
        self,
        record: Record,
        error_type: str,
        message: str,
        field: str | None,
        *,
        value: bytes | None = None,
    ) -> None:
        """``record`` rejected; ``value`` replaces its payload (a bulk message's item)."""
        key = record.key
        body = self._write(
            record.topic,
            record.partition,
            record.offset,
            key,
            record.value if value is None else value,
            error_type,
            message,
            field,
        )
        self.messages.append((self.topic, self._letter_key(key), body))
        self.reasons[error_type] += 1

    def _letter_key(self, key: bytes | None) -> bytes | None:
        """The dead letter's Kafka key: the record's key as the letter keeps it."""
        try:
            return self._keys[key]
        except KeyError:
            text = kept_text(key)
            if len(self._keys) >= 10_000:
                self._keys.clear()
            letter_key = self._keys[key] = text.encode() if text else None
            return letter_key

    def invalid(self, rejected: Sequence[tuple[Record, InvalidMessage]]) -> None:
        # one loop, no call per record but the writer's: a flood is mostly this
        write, letter_key, append = self._write, self._letter_key, self.messages.append
        topic, counts = self.topic, self.reasons
        for record, error in rejected:
            key, error_type = record.key, error.type
            body = write(
                record.topic,
                record.partition,
                record.offset,
                key,
                record.value,
                error_type,
                error.message,
                error.field,
            )
            append((topic, letter_key(key), body))
            counts[error_type] += 1

    def invalid_items(self, rejected: Sequence[tuple[Record, ItemError]]) -> None:
        """Bad readings of bulk messages: each its own JSON, the bulk record's coordinates."""
        for record, item in rejected:
            error = item.error
            self.add(record, error.type, error.message, error.field, value=item.value)

    def too_late(self, records: Sequence[Record], key: WindowKey) -> None:
        message = (
            f"ts: day {key.day.isoformat()} of {key.entity_id} is final "
            "(past the grace period and the allowed lateness)"
        )
        for record in records:
            self.add(record, "too_late", message, "ts")
