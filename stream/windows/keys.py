"""Redis key layout. Everything of one window — its hash, its sales ids, the
entity's history and the shard's indexes — shares one hash tag, ``{kind:shard}``,
so each Lua script touches a single Redis Cluster slot.

``anomstream:{meter:17}:w:2013-03-01:MAC000002``   window hash
``anomstream:{meter:17}:w:2013-03-01:MAC000002:sales``   sale ids seen (tickets)
``anomstream:{meter:17}:h:MAC000002``   history: day -> 48 float32 model values
``anomstream:{meter:17}:ht:MAC000002``  each history day's mean temperature (meters)
``anomstream:{meter:17}:open``      zset member -> event-time deadline
``anomstream:{meter:17}:inflight``  zset member -> wall-clock ms to recover a claim/outbox
``anomstream:{meter:17}:retire``    zset member -> event time after which it is final
``anomstream:{wm:meter}`` / ``:data`` / ``:status``   watermark marks per partition

Entities are spread over ``shards`` shards by a stable hash of their id, so one
entity's windows and history always live together.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from stream.windows.base import WindowKey

__all__ = ["KeyLayout", "ShardKeys"]


@dataclass(frozen=True, slots=True)
class ShardKeys:
    tag: str  # "anomstream:{meter:17}:"

    @property
    def window_prefix(self) -> str:
        return f"{self.tag}w:"

    @property
    def history_prefix(self) -> str:
        return f"{self.tag}h:"

    @property
    def temperature_prefix(self) -> str:
        return f"{self.tag}ht:"

    @property
    def open(self) -> str:
        return f"{self.tag}open"

    @property
    def inflight(self) -> str:
        return f"{self.tag}inflight"

    @property
    def retire(self) -> str:
        return f"{self.tag}retire"

    def window(self, member: str) -> str:
        return f"{self.tag}w:{member}"

    def history(self, entity_id: str) -> str:
        return f"{self.tag}h:{entity_id}"

    def history_temperatures(self, entity_id: str) -> str:
        return f"{self.tag}ht:{entity_id}"


@dataclass(frozen=True, slots=True)
class KeyLayout:
    prefix: str
    shards: int = 64

    def shard_of(self, entity_id: str) -> int:
        return zlib.crc32(entity_id.encode()) % self.shards

    def shard(self, kind: str, shard: int) -> ShardKeys:
        return ShardKeys(f"{self.prefix}:{{{kind}:{shard}}}:")

    def for_entity(self, kind: str, entity_id: str) -> ShardKeys:
        return self.shard(kind, self.shard_of(entity_id))

    def all_shards(self, kind: str) -> list[ShardKeys]:
        return [self.shard(kind, n) for n in range(self.shards)]

    def watermark(self, kind: str) -> tuple[str, str, str]:
        """Per-partition marks of ``kind``: times, data arrival, consumer status
        (one hash tag, so the script that writes all three touches one slot)."""
        base = f"{self.prefix}:{{wm:{kind}}}"
        return base, f"{base}:data", f"{base}:status"

    @staticmethod
    def member(key: WindowKey) -> str:
        """Index member of a window within its shard: ``2013-03-01:MAC000002``."""
        return f"{key.day.isoformat()}:{key.entity_id}"
