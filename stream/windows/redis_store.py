"""The Redis window store: one Lua script call per shard per micro-batch.

Every state change of a window happens inside a Lua script (atomic, no
read-modify-write from Python). A batch touching many windows costs one
pipeline round trip: the scripts of all shards it touches travel together.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from importlib import resources
from typing import Any

import numpy as np
import orjson
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from core.days import MODEL_SLOTS
from stream.watermark import PartitionMark
from stream.windows.base import (
    Claim,
    Commit,
    Outbox,
    UpdateOutcome,
    WindowBatch,
    WindowContents,
    WindowKey,
)
from stream.windows.keys import KeyLayout, ShardKeys

__all__ = ["RedisWindowStore"]

_TOMBSTONE_TTL_S = 30 * 86400
_SCRIPTS = ("apply", "claim_due", "commit", "load", "published", "recover", "retire", "watermark")


_OUTCOMES = {o.value.encode(): o for o in UpdateOutcome}  # by the script's reply


def _load_script(redis: Redis, name: str) -> AsyncScript:
    source = resources.files("stream.windows").joinpath(f"lua/{name}.lua").read_text()
    return redis.register_script(source)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _claim(kind: str, row: Sequence[Any], member: str | None = None) -> Claim:
    if member is None:
        member = _text(row[0])
        row = row[1:]
    day, entity = member.split(":", 1)
    return Claim(
        key=WindowKey(kind, date.fromisoformat(day), entity),
        token=_text(row[3]),
        revision=int(row[0]),
        alert_revision=int(row[1]),
        alert_active=bool(int(row[2])),
    )


def encode_outbox(messages: Iterable[tuple[str, bytes, bytes]]) -> bytes:
    return orjson.dumps([[role, key.decode(), value.decode()] for role, key, value in messages])


def decode_outbox(key: WindowKey, blob: bytes, revision: int) -> Outbox:
    messages = tuple((role, k.encode(), v.encode()) for role, k, v in orjson.loads(blob))
    return Outbox(key, messages, revision)


class RedisWindowStore:
    """:class:`~stream.windows.base.WindowStore` on Redis (standalone or Cluster).

    ``clock`` is the wall clock of leases and partition idleness. The scripts
    never read Redis' own ``TIME``: they get ``now_ms`` from here, so tests can
    expire a lease by moving an injected clock instead of sleeping.
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        shards: int = 64,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self.layout = KeyLayout(prefix, shards)
        self._clock = clock
        self._scripts = {name: _load_script(redis, name) for name in _SCRIPTS}

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _group(self, keys: Iterable[WindowKey]) -> dict[tuple[str, int], list[WindowKey]]:
        groups: dict[tuple[str, int], list[WindowKey]] = defaultdict(list)
        for key in keys:
            groups[(key.kind, self.layout.shard_of(key.entity_id))].append(key)
        return groups

    async def apply(
        self, batches: Sequence[WindowBatch], lease_seconds: float
    ) -> dict[WindowKey, tuple[UpdateOutcome, Claim | None]]:
        by_key = {batch.key: batch for batch in batches}
        if len(by_key) != len(batches):  # a second batch of a window would be dropped
            raise ValueError("one WindowBatch per window per call: outcomes are keyed by window")
        groups = self._group(by_key)
        now, lease_ms = self._now_ms(), int(lease_seconds * 1000)
        token_prefix = uuid.uuid4().hex[:12]
        pipe = self._redis.pipeline(transaction=False)
        order: list[tuple[str, list[WindowKey]]] = []
        for (kind, shard), keys in groups.items():
            shard_keys = self.layout.shard(kind, shard)
            argv: list[Any] = [now, lease_ms, f"{token_prefix}:{shard}:", kind]
            window_keys = []
            for key in keys:
                batch = by_key[key]
                member = KeyLayout.member(key)
                window_keys.append(shard_keys.window(member))
                offsets = "".join(f"{p},{o};" for p, o in batch.offsets.items())
                n_updates = len(batch.sales) if kind == "ticket" else 0
                argv.append(
                    f"{member}\x1f{batch.n_slots}\x1f{batch.deadline!r}\x1f{n_updates}\x1f{offsets}"
                )
                if kind == "meter":
                    argv.append(_packed_meter(batch))
                else:
                    for s in batch.sales:
                        argv += [s.sale_id, s.slot, repr(s.amount)]
            await self._scripts["apply"](
                keys=[shard_keys.open, shard_keys.inflight, *window_keys], args=argv, client=pipe
            )
            order.append((kind, keys))
        replies = await pipe.execute()
        outcomes: dict[WindowKey, tuple[UpdateOutcome, Claim | None]] = {}
        for (kind, keys), rows in zip(order, replies, strict=True):
            for key, row in zip(keys, rows, strict=True):
                if type(row) is bytes:  # not claimed: the outcome alone
                    outcomes[key] = (_OUTCOMES[row], None)
                else:
                    claim = _claim(kind, row[1:], KeyLayout.member(key))
                    outcomes[key] = (UpdateOutcome.CLAIMED, claim)
        return outcomes

    async def _per_shard(
        self, kind: str, script: str, keys_of: Any, args_of: Any
    ) -> list[tuple[ShardKeys, Any]]:
        pipe = self._redis.pipeline(transaction=False)
        shards = self.layout.all_shards(kind)
        for shard in shards:
            await self._scripts[script](keys=keys_of(shard), args=args_of(shard), client=pipe)
        return list(zip(shards, await pipe.execute(), strict=True))

    async def claim_due(
        self, kind: str, watermark: float, lease_seconds: float, limit: int
    ) -> list[Claim]:
        now, token_prefix = self._now_ms(), uuid.uuid4().hex[:12]
        replies = await self._per_shard(
            kind,
            "claim_due",
            lambda s: [s.open, s.inflight],
            lambda s: [
                s.window_prefix,
                watermark,
                now,
                int(lease_seconds * 1000),
                f"{token_prefix}:{s.tag}:",
                limit,
            ],
        )
        return [_claim(kind, row) for _, rows in replies for row in rows]

    async def load(self, claims: Sequence[Claim], history_days: int) -> list[WindowContents]:
        # load.lua returns the slots in order: no Python loop over the hash's fields
        pipe = self._redis.pipeline(transaction=False)
        for claim in claims:
            shard = self.layout.for_entity(claim.key.kind, claim.key.entity_id)
            window = shard.window(KeyLayout.member(claim.key))
            await self._scripts["load"](keys=[window], args=[], client=pipe)
            pipe.hgetall(shard.history(claim.key.entity_id))
            if claim.key.kind == "meter":
                pipe.hgetall(shard.history_temperatures(claim.key.entity_id))
        replies = iter(await pipe.execute())
        contents = []
        nan = np.nan
        for claim in claims:
            row, history = next(replies), next(replies)
            day_temps = next(replies) if claim.key.kind == "meter" else {}
            n_slots = int(row[0])
            values = np.array([nan if v is None else float(v) for v in row[1 : 1 + n_slots]])
            temps = np.array([nan if v is None else float(v) for v in row[1 + n_slots :]])
            if claim.key.kind != "meter":
                values = np.nan_to_num(values, nan=0.0)  # no sale in a half hour is 0, not missing
            past = _history(history, day_temps, claim.key.day, history_days)
            contents.append(WindowContents(claim, values, temps, *past))
        return contents

    async def commit(
        self, commits: Sequence[Commit], lease_seconds: float, history_days: int
    ) -> tuple[list[Outbox], list[Claim]]:
        by_key = {c.claim.key: c for c in commits}
        now, lease_ms = self._now_ms(), int(lease_seconds * 1000)
        token_prefix = uuid.uuid4().hex[:12]
        pipe = self._redis.pipeline(transaction=False)
        order = []
        for (kind, shard), keys in self._group(by_key).items():
            s = self.layout.shard(kind, shard)
            argv: list[Any] = [
                s.history_prefix,
                now,
                lease_ms,
                f"{token_prefix}:{shard}:",
                history_days,
                s.temperature_prefix if kind == "meter" else "",
            ]
            window_keys = []
            for key in keys:
                c = by_key[key]
                member = KeyLayout.member(key)
                window_keys.append(s.window(member))
                arev = c.claim.alert_revision + (1 if c.alert_published else 0)
                argv += [
                    member,
                    key.entity_id,
                    key.day.isoformat(),
                    c.claim.token,
                    c.claim.revision,
                    arev,
                    int(c.alert_active),
                    c.retire_at,
                    encode_outbox(c.outbox.messages),
                    np.asarray(c.model_values, dtype="<f4").tobytes(),
                ]
            await self._scripts["commit"](
                keys=[s.inflight, s.retire, *window_keys], args=argv, client=pipe
            )
            order.append(keys)
        replies = await pipe.execute()
        outboxes: list[Outbox] = []
        reclaims: list[Claim] = []
        for keys, rows in zip(order, replies, strict=True):
            for key, (status, token) in zip(keys, rows, strict=True):
                c = by_key[key]
                if status == b"lost":
                    continue
                outboxes.append(c.outbox)
                if status == b"reclaimed":
                    reclaims.append(
                        Claim(
                            key,
                            _text(token),
                            c.claim.revision + 1,
                            c.claim.alert_revision + (1 if c.alert_published else 0),
                            c.alert_active,
                        )
                    )
        return outboxes, reclaims

    async def published(self, outboxes: Sequence[Outbox]) -> None:
        revision = {o.key: o.revision for o in outboxes}
        pipe = self._redis.pipeline(transaction=False)
        for (kind, shard), group in self._group(revision).items():
            s = self.layout.shard(kind, shard)
            args: list[Any] = [s.window_prefix]
            for key in group:
                args += [KeyLayout.member(key), revision[key]]
            await self._scripts["published"](keys=[s.inflight], args=args, client=pipe)
        await pipe.execute()

    async def recover(
        self, kind: str, lease_seconds: float, limit: int
    ) -> tuple[list[Claim], list[Outbox]]:
        now, token_prefix = self._now_ms(), uuid.uuid4().hex[:12]
        replies = await self._per_shard(
            kind,
            "recover",
            lambda s: [s.inflight],
            lambda s: [
                s.window_prefix,
                now,
                int(lease_seconds * 1000),
                f"{token_prefix}:{s.tag}:",
                limit,
            ],
        )
        claims: list[Claim] = []
        outboxes: list[Outbox] = []
        for _, (claim_rows, outbox_rows) in replies:
            claims += [_claim(kind, row) for row in claim_rows]
            for member, blob, revision in outbox_rows:
                day, entity = _text(member).split(":", 1)
                key = WindowKey(kind, date.fromisoformat(day), entity)
                outboxes.append(decode_outbox(key, blob, int(revision)))
        return claims, outboxes

    async def retire(self, kind: str, watermark: float, limit: int) -> int:
        replies = await self._per_shard(
            kind,
            "retire",
            lambda s: [s.retire],
            lambda s: [s.window_prefix, watermark, limit, _TOMBSTONE_TTL_S],
        )
        return sum(int(n) for _, n in replies)

    async def advance_watermark(
        self,
        kind: str,
        partition_times: Mapping[int, float],
        status: Mapping[int, bool] | None = None,
    ) -> None:
        status = status or {}
        if not partition_times and not status:
            return
        args: list[Any] = [self._now_ms(), len(partition_times)]
        for partition, event_time in partition_times.items():
            args += [partition, repr(float(event_time))]
        for partition, caught_up in status.items():
            args += [partition, int(caught_up)]
        await self._scripts["watermark"](keys=list(self.layout.watermark(kind)), args=args)

    async def partition_marks(self, kind: str) -> dict[int, PartitionMark]:
        pipe = self._redis.pipeline(transaction=False)
        for key in self.layout.watermark(kind):
            pipe.hgetall(key)
        times, data, status = await pipe.execute()
        marks: dict[int, PartitionMark] = {}
        for raw in {*times, *data, *status}:
            caught, _, reported = (status.get(raw) or b"0:").decode().partition(":")
            marks[int(raw)] = PartitionMark(
                time=float(times[raw]) if raw in times else None,
                data_at=int(data[raw]) / 1000 if raw in data else None,
                caught_up=caught == "1",
                reported_at=int(reported) / 1000 if reported else None,
            )
        return marks

    async def open_windows(self, kind: str) -> int:
        pipe = self._redis.pipeline(transaction=False)
        for shard in self.layout.all_shards(kind):
            pipe.zcard(shard.open)
        return sum(await pipe.execute())


def _packed_meter(batch: WindowBatch) -> str:
    """A window's meter updates as the one argument apply.lua takes:
    ``slot,kwh,temperature;`` per slot, the last value of each slot (and its
    last temperature given) as applying them in order would leave it."""
    final: dict[int, tuple[str, str]] = {}
    for m in batch.meter:
        temp = "" if m.temperature_c is None else repr(m.temperature_c)
        if not temp and m.slot in final:
            temp = final[m.slot][1]
        final[m.slot] = (repr(m.kwh), temp)
    return "".join(f"{slot},{kwh},{temp};" for slot, (kwh, temp) in final.items())


def _history(
    raw: Mapping[bytes, bytes], temperatures: Mapping[bytes, bytes], day: date, limit: int
) -> tuple[np.ndarray, tuple[date, ...], np.ndarray]:
    """Earlier days only (oldest first): a re-score never sees its own future.
    Each with its mean temperature, NaN where none was kept."""
    iso = day.isoformat().encode()
    days = sorted(d for d in raw if d < iso)[-limit:] if limit > 0 else []
    if not days:
        return np.empty((0, MODEL_SLOTS)), (), np.empty(0)
    blob = b"".join(raw[d] for d in days)  # one conversion, not one per day
    rows = np.frombuffer(blob, dtype="<f4").reshape(len(days), MODEL_SLOTS).astype(np.float64)
    temps = np.array([float(temperatures[d]) if d in temperatures else np.nan for d in days])
    return rows, tuple(date.fromisoformat(d.decode()) for d in days), temps
