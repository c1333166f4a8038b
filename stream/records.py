"""What the worker consumes: Kafka records as bytes, not yet trusted."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RawRecord"]


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A Kafka record as consumed."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
