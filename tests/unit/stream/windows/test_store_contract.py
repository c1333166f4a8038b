"""The window store contract: one suite, every backend.

Each test runs against the in-memory store and against the Redis store (the
latter ``integration``: a real Redis from the harness's ``redis_url``, keys
under this test's ``key_prefix``; skipped, with the reason, when the Redis in
``ANOMSTREAM_TEST_REDIS_URL`` does not answer or none can be started here).
Time never passes by sleeping: leases and partition idleness follow a fake
wall clock that both backends are given.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from harness.errors import HarnessError
from redis.asyncio import Redis

from anomstream.embedded import EmbeddedServiceError
from core.days import MODEL_SLOTS, day_layout
from stream.watermark import PartitionMark
from stream.windows.base import (
    Claim,
    Commit,
    MeterSlot,
    Outbox,
    SaleSlot,
    UpdateOutcome,
    WindowBatch,
    WindowKey,
    WindowStore,
)
from stream.windows.memory_store import MemoryWindowStore
from stream.windows.redis_store import RedisWindowStore

TZ = "Europe/London"
DAY = date(2013, 3, 1)
LEASE = 30.0
GRACE = 3600.0
LATENESS = 7 * 86400.0
HISTORY = 28


class FakeClock:
    """A wall clock that moves only when told: leases expire without sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _redis_url(request: pytest.FixtureRequest) -> str:
    try:
        return str(request.getfixturevalue("redis_url"))
    except (HarnessError, EmbeddedServiceError) as exc:  # the given one is down, or none starts
        pytest.skip(f"no Redis answers for the Redis window store: {exc}")


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.integration),
        # a script call per shard: what Redis Cluster needs (one slot per call)
        pytest.param("redis-per-shard", marks=pytest.mark.integration),
    ]
)
async def store(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[WindowStore]:
    if request.param == "memory":
        yield MemoryWindowStore(clock=clock)
        return
    url = _redis_url(request)  # only here: a memory-only run never starts a Redis
    prefix = str(request.getfixturevalue("key_prefix"))
    client = Redis.from_url(url)
    try:
        # 4 shards: batches span several Lua calls, and per-shard scans stay cheap
        per_shard = request.param == "redis-per-shard"
        yield RedisWindowStore(client, prefix, shards=4, clock=clock, calls_per_shard=per_shard)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


# --- building inputs ------------------------------------------------------------


def deadline_of(day: date) -> float:
    return day_layout(day, TZ).end.timestamp() + GRACE


def meter(
    entity: str,
    readings: dict[int, float],
    day: date = DAY,
    temperatures: dict[int, float] | None = None,
) -> WindowBatch:
    temps = temperatures or {}
    deadline = deadline_of(day)
    return WindowBatch(
        WindowKey("meter", day, entity),
        day_layout(day, TZ).n_slots,
        deadline,
        deadline + LATENESS,
        meter=[MeterSlot(slot, kwh, temps.get(slot)) for slot, kwh in readings.items()],
    )


def full_day(entity: str, day: date = DAY, value: float = 0.5) -> WindowBatch:
    n_slots = day_layout(day, TZ).n_slots
    return meter(entity, dict.fromkeys(range(n_slots), value), day)


def sales(entity: str, items: Sequence[tuple[str, int, float]], day: date = DAY) -> WindowBatch:
    deadline = deadline_of(day)
    return WindowBatch(
        WindowKey("ticket", day, entity),
        day_layout(day, TZ).n_slots,
        deadline,
        deadline + LATENESS,
        sales=[SaleSlot(sale_id, slot, amount) for sale_id, slot, amount in items],
    )


def commit_of(
    claim: Claim,
    *,
    messages: tuple[tuple[str, bytes, bytes], ...] | None = None,
    model_values: npt.NDArray[np.float64] | None = None,
    alert_active: bool = False,
    alert_published: bool = False,
) -> Commit:
    if messages is None:
        body = f'{{"entity":"{claim.key.entity_id}","revision":{claim.revision}}}'
        messages = (("scores", claim.key.entity_id.encode(), body.encode()),)
    return Commit(
        claim=claim,
        outbox=Outbox(claim.key, messages, claim.revision),
        model_values=np.zeros(MODEL_SLOTS) if model_values is None else model_values,
        alert_active=alert_active,
        alert_published=alert_published,
        retire_at=deadline_of(claim.key.day) + LATENESS,
    )


async def apply_one(store: WindowStore, batch: WindowBatch) -> tuple[UpdateOutcome, Claim | None]:
    outcomes = await store.apply([batch], LEASE)
    assert set(outcomes) == {batch.key}
    return outcomes[batch.key]


async def claim_full(store: WindowStore, entity: str, day: date = DAY) -> Claim:
    outcome, claim = await apply_one(store, full_day(entity, day))
    assert outcome is UpdateOutcome.CLAIMED
    assert claim is not None
    return claim


async def score(store: WindowStore, commit: Commit) -> list[Claim]:
    """Commit (must succeed), acknowledge the outbox, return any re-claims."""
    outboxes, reclaims = await store.commit([commit], LEASE, HISTORY)
    assert outboxes == [commit.outbox]
    await store.published([commit.outbox])
    return reclaims


# --- collecting -------------------------------------------------------------------


async def test_first_update_opens_a_window(store: WindowStore) -> None:
    assert await store.open_windows("meter") == 0
    assert await apply_one(store, meter("M1", {0: 0.25})) == (UpdateOutcome.OPEN, None)
    assert await apply_one(store, meter("M1", {1: 0.5})) == (UpdateOutcome.OPEN, None)
    assert await store.open_windows("meter") == 1
    assert await store.open_windows("ticket") == 0


async def test_redelivered_reading_is_unchanged(store: WindowStore) -> None:
    batch = meter("M1", {3: 0.1, 4: 0.2}, temperatures={3: 7.5})
    assert (await apply_one(store, batch))[0] is UpdateOutcome.OPEN
    assert (await apply_one(store, batch))[0] is UpdateOutcome.UNCHANGED


async def test_last_value_wins_and_changes_are_detected(store: WindowStore) -> None:
    await apply_one(store, meter("M1", {3: 1.0}))
    assert (await apply_one(store, meter("M1", {3: 2.0})))[0] is UpdateOutcome.OPEN
    assert (await apply_one(store, meter("M1", {3: 2.0})))[0] is UpdateOutcome.UNCHANGED
    temp = meter("M1", {3: 2.0}, temperatures={3: 4.0})  # a new temperature is a change
    assert (await apply_one(store, temp))[0] is UpdateOutcome.OPEN
    [claim] = await store.claim_due("meter", deadline_of(DAY) + 1, LEASE, 100)
    [contents] = await store.load([claim], HISTORY)
    assert contents.values[3] == 2.0
    assert contents.temperatures[3] == 4.0
    assert np.isnan(contents.values[[0, 1, 2, 4]]).all()  # missing stays missing
    assert np.isnan(contents.temperatures[0])


@pytest.mark.parametrize(
    "day",
    [date(2013, 3, 1), date(2013, 3, 31), date(2013, 10, 27)],
    ids=["48-slots", "46-slots-spring-forward", "50-slots-fall-back"],
)
async def test_complete_day_is_claimed_at_once(store: WindowStore, day: date) -> None:
    n_slots = day_layout(day, TZ).n_slots
    values = {slot: slot / 10 for slot in range(n_slots)}
    last = n_slots - 1
    first = meter("M1", {s: v for s, v in values.items() if s != last}, day)
    assert (await apply_one(store, first))[0] is UpdateOutcome.OPEN
    outcome, claim = await apply_one(store, meter("M1", {last: values[last]}, day))
    assert outcome is UpdateOutcome.CLAIMED
    assert claim is not None
    assert (claim.key, claim.revision, claim.alert_revision, claim.alert_active) == (
        WindowKey("meter", day, "M1"),
        0,
        -1,
        False,
    )
    assert await store.open_windows("meter") == 0
    [contents] = await store.load([claim], HISTORY)
    np.testing.assert_array_equal(contents.values, [values[s] for s in range(n_slots)])


async def test_a_day_of_52_slots_loads_whole(store: WindowStore) -> None:
    """Antarctica/Troll's clocks go back two hours: 52 real slots, more than any
    other zone's day, all loaded."""

    day = date(2024, 10, 27)
    n_slots = day_layout(day, "Antarctica/Troll").n_slots
    assert n_slots == 52
    batch = WindowBatch(WindowKey("meter", day, "T1"), n_slots, deadline_of(day), deadline_of(day))
    batch.meter.extend(MeterSlot(slot, slot / 10, slot - 20.0) for slot in range(n_slots))
    outcome, claim = await apply_one(store, batch)
    assert outcome is UpdateOutcome.CLAIMED
    assert claim is not None
    [contents] = await store.load([claim], HISTORY)
    np.testing.assert_array_equal(contents.values, [slot / 10 for slot in range(n_slots)])
    np.testing.assert_array_equal(contents.temperatures, [slot - 20.0 for slot in range(n_slots)])


async def test_ticket_sale_is_counted_once_and_summed_per_slot(store: WindowStore) -> None:
    first = sales("E1", [("a", 5, 1.5), ("b", 5, 2.25), ("a", 5, 1.5)])
    assert (await apply_one(store, first))[0] is UpdateOutcome.OPEN
    assert (await apply_one(store, sales("E1", [("b", 5, 2.25)])))[0] is UpdateOutcome.UNCHANGED
    # a ticket day never completes, even with a sale in every slot: only the watermark closes it
    every_slot = sales("E1", [(f"s{slot}", slot, 1.0) for slot in range(MODEL_SLOTS)])
    assert (await apply_one(store, every_slot))[0] is UpdateOutcome.OPEN
    assert await store.open_windows("ticket") == 1
    [claim] = await store.claim_due("ticket", deadline_of(DAY) + 1, LEASE, 100)
    [contents] = await store.load([claim], HISTORY)
    assert contents.values[5] == pytest.approx(4.75)
    assert contents.values[6] == pytest.approx(1.0)


async def test_ticket_slot_without_sales_loads_as_zero(store: WindowStore) -> None:
    await apply_one(store, sales("E1", [("a", 2, 3.0)]))
    [claim] = await store.claim_due("ticket", deadline_of(DAY) + 1, LEASE, 100)
    [contents] = await store.load([claim], HISTORY)
    assert contents.values[2] == pytest.approx(3.0)
    assert contents.values[0] == 0.0


async def test_one_call_reports_each_window_of_a_mixed_batch(store: WindowStore) -> None:
    retired = await claim_full(store, "R")
    commit = commit_of(retired)
    await score(store, commit)
    assert await store.retire("meter", commit.retire_at + 1, 100) == 1
    await apply_one(store, meter("U", {0: 1.0}))
    batches = [
        meter("N", {0: 1.0}),  # new
        meter("U", {0: 1.0}),  # redelivered
        full_day("F"),  # complete
        meter("R", {0: 2.0}),  # retired
        sales("N", [("s1", 0, 1.0)]),  # same entity and day, other kind
    ]
    outcomes = await store.apply(batches, LEASE)
    assert {key: outcome for key, (outcome, _) in outcomes.items()} == {
        WindowKey("meter", DAY, "N"): UpdateOutcome.OPEN,
        WindowKey("meter", DAY, "U"): UpdateOutcome.UNCHANGED,
        WindowKey("meter", DAY, "F"): UpdateOutcome.CLAIMED,
        WindowKey("meter", DAY, "R"): UpdateOutcome.LATE,
        WindowKey("ticket", DAY, "N"): UpdateOutcome.OPEN,
    }
    claim = outcomes[WindowKey("meter", DAY, "F")][1]
    assert claim is not None
    assert claim.key == WindowKey("meter", DAY, "F")


async def test_two_batches_of_one_window_in_a_call_are_refused(store: WindowStore) -> None:
    with pytest.raises(ValueError, match="one WindowBatch per window"):
        await store.apply([meter("M1", {0: 1.0}), meter("M1", {1: 1.0})], LEASE)


# --- claiming ---------------------------------------------------------------------


async def test_claim_due_claims_open_windows_past_the_watermark_once(store: WindowStore) -> None:
    early, late = DAY, DAY + timedelta(days=1)
    await store.apply([meter("A", {0: 1.0}, early), meter("B", {0: 1.0}, late)], LEASE)
    await claim_full(store, "C", early)  # complete: already claimed, not open any more
    assert await store.claim_due("meter", deadline_of(early) - 1, LEASE, 100) == []
    [claim] = await store.claim_due("meter", deadline_of(early) + 1, LEASE, 100)
    assert (claim.key, claim.revision) == (WindowKey("meter", early, "A"), 0)
    assert await store.claim_due("ticket", deadline_of(late) + 1, LEASE, 100) == []
    [claim] = await store.claim_due("meter", deadline_of(late) + 1, LEASE, 100)
    assert claim.key == WindowKey("meter", late, "B")
    assert await store.claim_due("meter", deadline_of(late) + 1, LEASE, 100) == []
    assert await store.open_windows("meter") == 0


async def test_claim_due_in_small_pages_claims_everything_once(store: WindowStore) -> None:
    entities = [f"MAC{n:06d}" for n in range(10)]
    await store.apply([meter(e, {0: 1.0}) for e in entities], LEASE)
    claimed: list[WindowKey] = []
    while page := await store.claim_due("meter", deadline_of(DAY) + 1, LEASE, 1):
        claimed += [c.key for c in page]
    assert sorted(claimed) == sorted(WindowKey("meter", DAY, e) for e in entities)


async def test_concurrent_claim_due_claims_each_window_exactly_once(store: WindowStore) -> None:
    entities = [f"MAC{n:06d}" for n in range(40)]
    await store.apply([meter(e, {0: 1.0}) for e in entities], LEASE)
    watermark = deadline_of(DAY) + 1
    first, second = await asyncio.gather(
        store.claim_due("meter", watermark, LEASE, 1000),
        store.claim_due("meter", watermark, LEASE, 1000),
    )
    keys = [c.key for c in first + second]
    assert sorted(keys) == sorted(WindowKey("meter", DAY, e) for e in entities)
    assert len({c.token for c in first + second}) == len(entities)


# --- committing -------------------------------------------------------------------


async def test_commit_needs_the_current_token(store: WindowStore) -> None:
    claim = await claim_full(store, "M1")
    stale = commit_of(replace(claim, token="not-the-token"))
    assert await store.commit([stale], LEASE, HISTORY) == ([], [])
    good = commit_of(claim)
    assert await store.commit([good], LEASE, HISTORY) == ([good.outbox], [])
    assert await store.commit([good], LEASE, HISTORY) == ([], [])  # scored: nothing to commit


async def test_update_while_claimed_is_busy_then_reclaimed_after_commit(
    store: WindowStore,
) -> None:
    claim = await claim_full(store, "M1")
    assert (await apply_one(store, meter("M1", {7: 0.5})))[0] is UpdateOutcome.UNCHANGED
    assert await apply_one(store, meter("M1", {7: 9.0})) == (UpdateOutcome.BUSY, None)
    outboxes, reclaims = await store.commit([commit_of(claim)], LEASE, HISTORY)
    assert len(outboxes) == 1  # the verdict on what was loaded still goes out
    [again] = reclaims
    assert (again.key, again.revision) == (claim.key, 1)
    assert again.token != claim.token
    [contents] = await store.load([again], HISTORY)
    assert contents.values[7] == 9.0
    assert await score(store, commit_of(again)) == []


async def test_changed_value_after_scoring_reclaims_with_next_revision(
    store: WindowStore,
) -> None:
    claim = await claim_full(store, "M1")
    await score(store, commit_of(claim))
    assert (await apply_one(store, meter("M1", {0: 0.5})))[0] is UpdateOutcome.UNCHANGED
    outcome, again = await apply_one(store, meter("M1", {0: 0.75}))
    assert outcome is UpdateOutcome.CLAIMED
    assert again is not None
    assert (again.revision, again.token != claim.token) == (1, True)
    assert await store.open_windows("meter") == 0


async def test_alert_revision_and_state_are_carried_through_commits(store: WindowStore) -> None:
    claim = await claim_full(store, "M1")
    assert (claim.revision, claim.alert_revision, claim.alert_active) == (0, -1, False)
    await score(store, commit_of(claim, alert_active=True, alert_published=True))
    _, claim2 = await apply_one(store, meter("M1", {0: 1.0}))
    assert claim2 is not None
    assert (claim2.revision, claim2.alert_revision, claim2.alert_active) == (1, 0, True)
    # cleared: a revised alert withdraws it; then a busy re-claim carries the same state
    await apply_one(store, meter("M1", {0: 2.0}))
    reclaims = await score(store, commit_of(claim2, alert_active=False, alert_published=True))
    [claim3] = reclaims
    assert (claim3.revision, claim3.alert_revision, claim3.alert_active) == (2, 1, False)
    await score(store, commit_of(claim3))  # nothing to publish: alert revision unchanged
    _, claim4 = await apply_one(store, meter("M1", {0: 3.0}))
    assert claim4 is not None
    assert (claim4.revision, claim4.alert_revision, claim4.alert_active) == (3, 1, False)


# --- recovering -------------------------------------------------------------------


async def test_recover_reclaims_an_expired_lease(store: WindowStore, clock: FakeClock) -> None:
    claim = await claim_full(store, "M1")
    clock.advance(LEASE - 1)
    assert await store.recover("meter", LEASE, 100) == ([], [])
    clock.advance(2)
    [again], outboxes = await store.recover("meter", LEASE, 100)
    assert outboxes == []
    assert (again.key, again.revision) == (claim.key, claim.revision)
    assert again.token != claim.token
    assert await store.recover("meter", LEASE, 100) == ([], [])  # the new lease holds
    assert await store.commit([commit_of(claim)], LEASE, HISTORY) == ([], [])  # 'lost'
    assert await score(store, commit_of(again)) == []


async def test_recover_drops_a_change_the_new_claimer_will_load(
    store: WindowStore, clock: FakeClock
) -> None:
    await claim_full(store, "M1")
    assert (await apply_one(store, meter("M1", {0: 9.0})))[0] is UpdateOutcome.BUSY
    clock.advance(LEASE + 1)
    [again], _ = await store.recover("meter", LEASE, 100)
    [contents] = await store.load([again], HISTORY)
    assert contents.values[0] == 9.0
    assert await score(store, commit_of(again)) == []  # no needless re-score


async def test_recover_hands_back_unacknowledged_outboxes_byte_for_byte(
    store: WindowStore, clock: FakeClock
) -> None:
    claim = await claim_full(store, "M1")
    messages = (
        ("scores", b"M1", '{"note":"caf\u00e9 \u2192 1.0e-7"}'.encode()),
        ("anomalies", b"M1", b'{"alert_id":"x","revision":0}'),
    )
    commit = commit_of(claim, messages=messages)
    assert await store.commit([commit], LEASE, HISTORY) == ([commit.outbox], [])
    assert await store.recover("meter", LEASE, 100) == ([], [])  # its worker may still publish
    clock.advance(LEASE + 1)
    assert await store.recover("meter", LEASE, 100) == ([], [commit.outbox])
    clock.advance(LEASE + 1)
    assert await store.recover("meter", LEASE, 100) == ([], [commit.outbox])  # until acked
    await store.published([commit.outbox])
    clock.advance(LEASE + 1)
    assert await store.recover("meter", LEASE, 100) == ([], [])


async def test_acknowledging_a_revision_keeps_a_later_revisions_outbox(
    store: WindowStore, clock: FakeClock
) -> None:
    first = commit_of(await claim_full(store, "M1"))
    await store.commit([first], LEASE, HISTORY)  # worker A, not yet acknowledged
    _, again = await apply_one(store, meter("M1", {0: 1.0}))
    assert again is not None
    second = commit_of(again)
    await store.commit([second], LEASE, HISTORY)  # worker B commits revision 1
    await store.published([first.outbox])  # A's acknowledgement comes late
    clock.advance(LEASE + 1)
    assert await store.recover("meter", LEASE, 100) == ([], [second.outbox])


async def test_recover_hands_back_the_outbox_of_a_reclaimed_window(
    store: WindowStore, clock: FakeClock
) -> None:
    claim = await claim_full(store, "M1")
    commit = commit_of(claim)
    await store.commit([commit], LEASE, HISTORY)  # then the worker dies unacknowledged
    _, again = await apply_one(store, meter("M1", {0: 1.0}))
    assert again is not None
    clock.advance(LEASE + 1)
    [recovered], outboxes = await store.recover("meter", LEASE, 100)
    assert (recovered.revision, outboxes) == (1, [commit.outbox])


# --- retiring ---------------------------------------------------------------------


async def test_retire_leaves_a_tombstone_that_refuses_updates(store: WindowStore) -> None:
    claim = await claim_full(store, "M1")
    commit = commit_of(claim)
    await store.commit([commit], LEASE, HISTORY)
    assert await store.retire("meter", commit.retire_at + 1, 100) == 0  # outbox not acked
    await store.published([commit.outbox])
    assert await store.retire("meter", commit.retire_at - 1, 100) == 0
    assert await store.retire("meter", commit.retire_at + 1, 100) == 1
    assert await store.retire("meter", commit.retire_at + 1, 100) == 0
    assert await apply_one(store, meter("M1", {0: 5.0})) == (UpdateOutcome.LATE, None)
    assert await store.open_windows("meter") == 0
    assert await store.claim_due("meter", commit.retire_at + 1, LEASE, 100) == []


def at(batch: WindowBatch, **offsets: int) -> WindowBatch:
    """``batch`` as read from input partitions: ``at(batch, p0=41)``."""
    batch.offsets = {int(name[1:]): offset for name, offset in offsets.items()}
    return batch


async def test_a_tombstone_knows_a_redelivery_from_a_late_reading(store: WindowStore) -> None:
    early = at(meter("M1", dict.fromkeys(range(24), 0.5)), p0=30, p2=7)
    assert (await apply_one(store, early))[0] is UpdateOutcome.OPEN
    rest = at(meter("M1", dict.fromkeys(range(24, 48), 0.5)), p0=41)
    outcome, claim = await apply_one(store, rest)
    assert outcome is UpdateOutcome.CLAIMED
    assert claim is not None
    commit = commit_of(claim)
    await score(store, commit)
    assert await store.retire("meter", commit.retire_at + 1, 100) == 1
    # read again from an older committed offset: what the window took is no change
    again = (UpdateOutcome.UNCHANGED, None)
    assert await apply_one(store, at(meter("M1", {0: 0.5, 30: 0.5}), p0=41, p2=7)) == again
    assert await apply_one(store, at(meter("M1", {3: 0.5}), p2=5)) == again
    # a record it never took: past what it took of the partition, or another partition
    late = (UpdateOutcome.LATE, None)
    assert await apply_one(store, at(meter("M1", {3: 0.9}), p0=42)) == late
    assert await apply_one(store, at(meter("M1", {3: 0.9}), p1=3)) == late
    assert await apply_one(store, at(meter("M1", {3: 0.9}), p0=40, p1=3)) == late
    assert await apply_one(store, meter("M1", {3: 0.9})) == late  # offsets unknown


async def test_a_window_takes_a_batch_from_hundreds_of_partitions(store: WindowStore) -> None:
    # unkeyed readings of one window on a topic of many partitions: each
    # partition's highest offset is kept, however many partitions there are
    spread = meter("M1", {0: 0.5})
    spread.offsets = dict.fromkeys(range(300), 7)
    assert (await apply_one(store, spread))[0] is UpdateOutcome.OPEN
    again = meter("M1", {0: 0.5})
    again.offsets = {299: 7}
    assert await apply_one(store, again) == (UpdateOutcome.UNCHANGED, None)


async def test_claimed_window_is_not_retired(store: WindowStore) -> None:
    claim = await claim_full(store, "M1")
    await score(store, commit_of(claim))
    _, again = await apply_one(store, meter("M1", {0: 1.0}))
    assert again is not None
    retire_at = deadline_of(DAY) + LATENESS
    assert await store.retire("meter", retire_at + 1, 100) == 0
    await score(store, commit_of(again))
    assert await store.retire("meter", retire_at + 1, 100) == 1


# --- watermark ------------------------------------------------------------------


async def test_partition_marks_record_times_data_and_status(
    store: WindowStore, clock: FakeClock
) -> None:
    assert await store.partition_marks("meter") == {}
    start = clock()
    await store.advance_watermark("meter", {0: 1000.0, 1: 2000.0}, {0: True, 1: False})
    clock.advance(10)
    await store.advance_watermark("meter", {0: 500.0})  # never lowered
    await store.advance_watermark("meter", {}, {2: True})  # a status report, no data
    marks = await store.partition_marks("meter")
    assert marks[0] == PartitionMark(1000.0, start + 10, True, start)
    assert marks[1] == PartitionMark(2000.0, start, False, start)
    assert marks[2] == PartitionMark(None, None, True, start + 10)
    assert await store.partition_marks("ticket") == {}


# --- history --------------------------------------------------------------------


async def test_history_holds_earlier_days_only_trimmed_to_history_days(
    store: WindowStore,
) -> None:
    days = [DAY + timedelta(days=n) for n in range(5)]
    keep = 3
    for n, day in enumerate(days):
        claim = await claim_full(store, "M1", day)
        commit = commit_of(claim, model_values=np.full(MODEL_SLOTS, n + 0.1))
        assert (await store.commit([commit], LEASE, keep))[0] == [commit.outbox]
        await store.published([commit.outbox])

    def day_values(n: int) -> npt.NDArray[np.float64]:
        return np.full(MODEL_SLOTS, np.float32(n + 0.1), dtype=np.float64)

    next_day = await claim_full(store, "M1", DAY + timedelta(days=5))
    other = await claim_full(store, "M2", DAY + timedelta(days=5))
    [contents, other_contents] = await store.load([next_day, other], keep)
    np.testing.assert_array_equal(contents.history, [day_values(n) for n in (2, 3, 4)])
    assert other_contents.history.shape == (0, MODEL_SLOTS)
    [two] = await store.load([next_day], 2)
    np.testing.assert_array_equal(two.history, [day_values(n) for n in (3, 4)])
    [none] = await store.load([next_day], 0)
    assert none.history.shape == (0, MODEL_SLOTS)

    _, rescore = await apply_one(store, meter("M1", {0: 7.0}, days[3]))  # a re-score of day 3
    assert rescore is not None
    [contents] = await store.load([rescore], HISTORY)
    np.testing.assert_array_equal(contents.history, [day_values(2)])  # never its own future


async def test_history_days_keep_their_mean_temperature_trimmed_with_them(
    store: WindowStore,
) -> None:
    n_slots = day_layout(DAY, TZ).n_slots
    temps = {0: 2.5, 1: 3.0, 7: 4.1}  # the day's mean is over the slots that carried one
    days = [DAY + timedelta(days=n) for n in range(4)]
    for n, day in enumerate(days):
        readings = dict.fromkeys(range(n_slots), 0.5)
        given = {} if n == 1 else {s: t + n for s, t in temps.items()}  # day 1: none at all
        outcome, claim = await apply_one(store, meter("M1", readings, day, given))
        assert outcome is UpdateOutcome.CLAIMED and claim is not None
        assert (await store.commit([commit_of(claim)], LEASE, 3))[0]
    next_day = await claim_full(store, "M1", DAY + timedelta(days=4))
    [contents] = await store.load([next_day], 3)
    assert contents.history_days == tuple(days[1:])  # day 0 trimmed, its temperature too
    means = [sum(t + n for t in temps.values()) / len(temps) for n in (2, 3)]
    np.testing.assert_array_equal(contents.history_temperatures, [np.nan, *means])
    [two] = await store.load([next_day], 2)
    np.testing.assert_array_equal(two.history_temperatures, means)


async def test_days_without_temperatures_load_as_nan(store: WindowStore) -> None:
    # as a history written before temperatures were kept: the values alone
    for n in range(2):
        claim = await claim_full(store, "M1", DAY + timedelta(days=n))
        await score(store, commit_of(claim, model_values=np.full(MODEL_SLOTS, 0.5)))
    [contents] = await store.load([await claim_full(store, "M1", DAY + timedelta(days=2))], 28)
    assert contents.history.shape == (2, MODEL_SLOTS)
    assert contents.history_temperatures.shape == (2,)
    assert np.isnan(contents.history_temperatures).all()


# --- the Redis layout -------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("store", ["redis"], indirect=True)
async def test_windows_of_an_earlier_release_are_read_and_converted(store: WindowStore) -> None:
    """A worker of an earlier release kept one hash field per slot ('s<i>' kWh,
    't<i>' temperature, as text); this release packs them (lua/_slots.lua).
    Such a window is loaded as it was, and converted by its next update."""
    assert isinstance(store, RedisWindowStore)
    n_slots = day_layout(DAY, TZ).n_slots
    fields: dict[str, str | int] = {"st": "o", "n": n_slots, "c": 2, "rev": -1, "arev": -1}
    fields |= {"act": 0, "s3": repr(0.25), "t3": repr(7.5), "s4": repr(0.5)}
    shard = store.layout.for_entity("meter", "M1")
    window = shard.window(f"{DAY.isoformat()}:M1")
    redis = store._redis  # the store's own connection: the legacy hash written by hand
    await redis.hset(window, mapping=fields)
    await redis.zadd(shard.open, {f"{DAY.isoformat()}:M1": deadline_of(DAY)})

    [claim] = await store.claim_due("meter", deadline_of(DAY) + 1, LEASE, 100)
    [contents] = await store.load([claim], HISTORY)
    assert contents.values[3] == 0.25 and contents.values[4] == 0.5
    assert contents.temperatures[3] == 7.5 and np.isnan(contents.temperatures[4])
    assert np.isnan(np.delete(contents.values, [3, 4])).all()

    # an update converts it: the per-slot fields are gone, the values kept
    outcome, _ = await apply_one(store, meter("M1", {5: 1.0}, temperatures={5: 6.0}))
    assert outcome is UpdateOutcome.BUSY  # claimed above: scored again after its commit
    assert not [f for f in await redis.hkeys(window) if f[:1] in (b"s", b"t") and f[1:].isdigit()]
    [contents] = await store.load([claim], HISTORY)
    assert (contents.values[3], contents.values[4], contents.values[5]) == (0.25, 0.5, 1.0)
    assert (contents.temperatures[3], contents.temperatures[5]) == (7.5, 6.0)
    outboxes, reclaims = await store.commit([commit_of(claim)], LEASE, HISTORY)
    assert outboxes and reclaims  # the busy update re-claims it
