"""What the worker consumes: Kafka records as bytes, not yet trusted."""

from __future__ import annotations

from typing import NamedTuple, Protocol

__all__ = ["RawRecord", "Record"]


class Record(Protocol):
    """What the hot path reads of a Kafka record. The consumer hands over
    aiokafka's records as fetched (building another object per record costs
    more than everything else it does with it); tests build :class:`RawRecord`."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...


class RawRecord(NamedTuple):
    """A Kafka record as consumed."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
