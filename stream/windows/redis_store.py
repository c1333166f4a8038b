"""The Redis window store: one Lua script call per step of a micro-batch.

Every state change of a window happens inside a Lua script (atomic, no
read-modify-write from Python). A batch touching many windows costs one
round trip and, on a standalone Redis, one script call for all of them:
each window's own keys (its hash, its shard's indexes, its history) are
passed with it. With ``calls_per_shard`` (what Redis Cluster needs, where a
script may only touch one slot) the same scripts are called once per shard,
pipelined together; the contract tests run both ways.
"""

from __future__ import annotations

import struct
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
_WITH_SLOTS = frozenset({"apply", "commit", "load"})  # these get lua/_slots.lua prepended
_NAN = float("nan")
_KEYS_KEPT = 200_000  # window hash keys remembered
# apply.lua's batch (see its header): per window these structs, little-endian
_LENGTH = struct.Struct("<H")
_WINDOW = struct.Struct("<BdH")  # n_slots, deadline, number of offsets (partitions)
_OFFSET = struct.Struct("<Id")  # input partition, highest offset taken
_METER_UPDATE = struct.Struct("<Bdd")  # real slot, kWh, temperature (NaN = none)
_SALE = struct.Struct("<Bd")  # real slot, amount (after the sale id)
# commit.lua's batch: revision, alert revision, alert active, retire at; outbox length
_COMMIT = struct.Struct("<iiBd")
_OUTBOX_LENGTH = struct.Struct("<I")


_OUTCOMES = {o.value.encode(): o for o in UpdateOutcome}  # by the script's reply


def _lua(name: str) -> str:
    return resources.files("stream.windows").joinpath(f"lua/{name}.lua").read_text()


def _load_script(redis: Redis, name: str) -> AsyncScript:
    source = _lua(name)
    if name in _WITH_SLOTS:
        source = f"{_lua('_slots')}\n{source}"
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
        calls_per_shard: bool = False,
    ) -> None:
        self._redis = redis
        self.layout = KeyLayout(prefix, shards)
        # One script call per shard instead of one per step: every call then
        # touches one hash tag (a Cluster slot). On a standalone Redis a call
        # per shard only costs: ~64 calls for a batch of 100 readings.
        self.calls_per_shard = calls_per_shard
        self._clock = clock
        self._scripts = {name: _load_script(redis, name) for name in _SCRIPTS}
        self._day_lists: dict[bytes, tuple[date, ...]] = {}
        self._window_keys: dict[WindowKey, str] = {}

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _group(self, keys: Iterable[WindowKey]) -> dict[tuple[str, int], list[WindowKey]]:
        """Keys by (kind, call): one call per kind, or per shard (``calls_per_shard``)."""
        groups: dict[tuple[str, int], list[WindowKey]] = defaultdict(list)
        per_shard, shard_of = self.calls_per_shard, self.layout.shard_of
        for key in keys:
            groups[(key.kind, shard_of(key.entity_id) if per_shard else 0)].append(key)
        return groups

    def _shard_groups(self, kind: str) -> list[list[ShardKeys]]:
        """Every shard of ``kind``, in one call or one each."""
        shards = self.layout.all_shards(kind)
        return [[s] for s in shards] if self.calls_per_shard else [shards]

    def _shard(self, key: WindowKey) -> ShardKeys:
        return self.layout.for_entity(key.kind, key.entity_id)

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
        for (kind, call), keys in groups.items():
            windows = [self._window_key(key) for key in keys]
            packed = b"".join([_packed_batch(by_key[key]) for key in keys])
            argv: list[Any] = [now, lease_ms, f"{token_prefix}:{call}:", kind, packed]
            await self._scripts["apply"](keys=windows, args=argv, client=pipe)
        replies = await pipe.execute()
        outcomes: dict[WindowKey, tuple[UpdateOutcome, Claim | None]] = {}
        for ((kind, _), keys), rows in zip(groups.items(), replies, strict=True):
            for key, row in zip(keys, rows, strict=True):
                if type(row) is bytes:  # not claimed: the outcome alone
                    outcomes[key] = (_OUTCOMES[row], None)
                else:
                    claim = _claim(kind, row[1:], KeyLayout.member(key))
                    outcomes[key] = (UpdateOutcome.CLAIMED, claim)
        return outcomes

    def _window_key(self, key: WindowKey) -> str:
        """A window's hash key, remembered (a window takes updates all day long)."""
        found = self._window_keys.get(key)
        if found is None:
            if len(self._window_keys) >= _KEYS_KEPT:
                self._window_keys.clear()
            found = self._shard(key).window(KeyLayout.member(key))
            self._window_keys[key] = found
        return found

    async def _per_shard(
        self,
        kind: str,
        script: str,
        keys_of: Callable[[ShardKeys], list[str]],
        args_of: Callable[[int], list[Any]],
    ) -> list[Any]:
        """``script`` over every shard of ``kind``: the keys of each shard, then the
        call's arguments (``args_of(call number)``) and each shard's window key
        prefix. The replies, one per call."""
        pipe = self._redis.pipeline(transaction=False)
        for n, shards in enumerate(self._shard_groups(kind)):
            keys = [k for s in shards for k in keys_of(s)]
            args = [*args_of(n), *(s.window_prefix for s in shards)]
            await self._scripts[script](keys=keys, args=args, client=pipe)
        return list(await pipe.execute())

    async def claim_due(
        self, kind: str, watermark: float, lease_seconds: float, limit: int
    ) -> list[Claim]:
        now, token_prefix, lease_ms = (
            self._now_ms(),
            uuid.uuid4().hex[:12],
            int(lease_seconds * 1000),
        )
        replies = await self._per_shard(
            kind,
            "claim_due",
            lambda s: [s.open, s.inflight],
            lambda n: [watermark, now, lease_ms, f"{token_prefix}:{n}:", limit],
        )
        return [_claim(kind, row) for rows in replies for row in rows]

    async def load(self, claims: Sequence[Claim], history_days: int) -> list[WindowContents]:
        # load.lua: one call (per shard in Cluster mode); slots and history come back packed
        # numbers that numpy reads as they are (no Python loop over values)
        pipe = self._redis.pipeline(transaction=False)
        groups = self._group(c.key for c in claims)
        for keys in groups.values():
            windows = [self._window_key(key) for key in keys]
            members = [KeyLayout.member(key) for key in keys]
            await self._scripts["load"](keys=windows, args=[history_days, *members], client=pipe)
        rows: dict[WindowKey, Sequence[Any]] = {}
        for keys, replies in zip(groups.values(), await pipe.execute(), strict=True):
            rows.update(zip(keys, replies, strict=True))
        contents = []
        for claim in claims:
            _, values, temps, days, history, day_temps = rows[claim.key]
            slots = np.frombuffer(values, "<f8").copy()
            if claim.key.kind != "meter":
                slots = np.nan_to_num(slots, nan=0.0)  # no sale in a half hour is 0, not missing
            contents.append(
                WindowContents(
                    claim,
                    slots,
                    np.frombuffer(temps, "<f8").copy() if temps else np.full(len(slots), np.nan),
                    np.frombuffer(history, "<f4").reshape(-1, MODEL_SLOTS).astype(np.float64),
                    self._days(days),
                    np.frombuffer(day_temps, "<f8").copy(),
                )
            )
        return contents

    def _days(self, text: bytes) -> tuple[date, ...]:
        """History days as written by load.lua, remembered (windows of a day share them)."""
        days = self._day_lists.get(text)
        if days is None:
            if len(self._day_lists) >= 10_000:
                self._day_lists.clear()
            days = tuple(date.fromisoformat(d) for d in text.decode().split(",")) if text else ()
            self._day_lists[text] = days
        return days

    async def commit(
        self, commits: Sequence[Commit], lease_seconds: float, history_days: int
    ) -> tuple[list[Outbox], list[Claim]]:
        by_key = {c.claim.key: c for c in commits}
        now, lease_ms = self._now_ms(), int(lease_seconds * 1000)
        token_prefix = uuid.uuid4().hex[:12]
        pipe = self._redis.pipeline(transaction=False)
        groups = self._group(by_key)
        for (kind, call), keys in groups.items():
            keep_temperatures = "1" if kind == "meter" else ""
            windows = [self._window_key(key) for key in keys]
            packed = b"".join([_packed_commit(by_key[key]) for key in keys])
            argv: list[Any] = [now, lease_ms, f"{token_prefix}:{call}:", history_days]
            argv += [keep_temperatures, packed]
            await self._scripts["commit"](keys=windows, args=argv, client=pipe)
        replies = await pipe.execute()
        outboxes: list[Outbox] = []
        reclaims: list[Claim] = []
        for keys, rows in zip(groups.values(), replies, strict=True):
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
        for keys in self._group(revision).values():
            args: list[Any] = []
            for key in keys:
                args += [KeyLayout.member(key), revision[key]]
            windows = [self._window_key(key) for key in keys]
            await self._scripts["published"](keys=windows, args=args, client=pipe)
        await pipe.execute()

    async def recover(
        self, kind: str, lease_seconds: float, limit: int
    ) -> tuple[list[Claim], list[Outbox]]:
        now, token_prefix, lease_ms = (
            self._now_ms(),
            uuid.uuid4().hex[:12],
            int(lease_seconds * 1000),
        )
        replies = await self._per_shard(
            kind,
            "recover",
            lambda s: [s.inflight],
            lambda n: [now, lease_ms, f"{token_prefix}:{n}:", limit],
        )
        claims: list[Claim] = []
        outboxes: list[Outbox] = []
        for claim_rows, outbox_rows in replies:
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
            lambda _: [watermark, limit, _TOMBSTONE_TTL_S],
        )
        return sum(int(n) for n in replies)

    async def advance_watermark(
        self,
        kind: str,
        partition_times: Mapping[int, float],
        status: Mapping[int, bool] | None = None,
    ) -> dict[int, PartitionMark]:
        status = status or {}
        if not partition_times and not status:
            return await self.partition_marks(kind)
        args: list[Any] = [self._now_ms(), len(partition_times)]
        for partition, event_time in partition_times.items():
            args += [partition, repr(float(event_time))]
        for partition, caught_up in status.items():
            args += [partition, int(caught_up)]
        # the script answers with the marks after the update: no second round trip
        flat = await self._scripts["watermark"](keys=list(self.layout.watermark(kind)), args=args)
        times, data, reports = (dict(zip(f[::2], f[1::2], strict=True)) for f in flat)
        return _marks(times, data, reports)

    async def partition_marks(self, kind: str) -> dict[int, PartitionMark]:
        pipe = self._redis.pipeline(transaction=False)
        for key in self.layout.watermark(kind):
            pipe.hgetall(key)
        times, data, status = await pipe.execute()
        return _marks(times, data, status)

    async def open_windows(self, kind: str) -> int:
        pipe = self._redis.pipeline(transaction=False)
        for shard in self.layout.all_shards(kind):
            pipe.zcard(shard.open)
        return sum(await pipe.execute())


def _marks(
    times: Mapping[bytes, bytes], data: Mapping[bytes, bytes], status: Mapping[bytes, bytes]
) -> dict[int, PartitionMark]:
    """The three watermark hashes (partition -> value) as marks."""
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


def _packed_batch(batch: WindowBatch) -> bytes:
    """One window's part of apply.lua's batch argument."""
    member = KeyLayout.member(batch.key).encode()
    parts = [
        _LENGTH.pack(len(member)),
        member,
        _WINDOW.pack(batch.n_slots, batch.deadline, len(batch.offsets)),
        *[_OFFSET.pack(p, o) for p, o in batch.offsets.items()],
    ]
    if batch.key.kind == "meter":
        updates = _meter_updates(batch)
        parts += [_LENGTH.pack(len(updates)), *updates]
    else:
        parts.append(_LENGTH.pack(len(batch.sales)))
        for sale in batch.sales:
            sale_id = sale.sale_id.encode()
            parts += [_LENGTH.pack(len(sale_id)), sale_id, _SALE.pack(sale.slot, sale.amount)]
    return b"".join(parts)


def _packed_commit(c: Commit) -> bytes:
    """One window's part of commit.lua's batch argument."""
    key, claim = c.claim.key, c.claim
    member, token = KeyLayout.member(key).encode(), claim.token.encode()
    outbox = encode_outbox(c.outbox.messages)
    history = np.asarray(c.model_values, dtype="<f4").tobytes()
    alert_revision = claim.alert_revision + (1 if c.alert_published else 0)
    return b"".join(
        (
            _LENGTH.pack(len(member)),
            member,
            _LENGTH.pack(len(token)),
            token,
            _COMMIT.pack(claim.revision, alert_revision, int(c.alert_active), c.retire_at),
            _OUTBOX_LENGTH.pack(len(outbox)),
            outbox,
            _LENGTH.pack(len(history)),
            history,
        )
    )


def _meter_updates(batch: WindowBatch) -> list[bytes]:
    """A window's meter updates for apply.lua, one per slot: the last value of
    each slot (and its last temperature given) as applying them in order would leave it."""
    final: dict[int, tuple[float, float]] = {}
    for slot, kwh, given in batch.meter:
        if given is None:
            before = final.get(slot)
            final[slot] = (kwh, _NAN if before is None else before[1])
        else:
            final[slot] = (kwh, given)
    pack = _METER_UPDATE.pack
    return [pack(slot, kwh, t) for slot, (kwh, t) in final.items()]
