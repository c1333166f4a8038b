"""The worker's hot path end to end, without services.

A :class:`WindowProcessor` over the in-memory window store, the baseline
scorer and a publisher that only records what it is asked to produce. Time
never passes by sleeping: the store and the processor share a fake wall
clock, and event time comes from the readings themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from harness.days import LONDON, days, meter_day, sale
from harness.settings import make_settings

from schemas import Alert, DeadLetter, WindowScore
from schemas.settings import Settings
from stream.metrics import WorkerMetrics
from stream.processor import BatchReport, RawRecord, WindowProcessor
from stream.scorers import ScorerSwitch
from stream.windows.memory_store import MemoryWindowStore

METER = "MAC000002"
FIRST = date(2013, 3, 1)
PARTITIONS = 4
NIGHT = dict.fromkeys(range(2, 10), 5.0)  # +5 kWh from 01:00 to 05:00


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class BrokerDown(Exception):
    pass


@dataclass
class RecordingPublisher:
    """Records ``(topic, key, value)``; ``fail`` makes the next calls raise."""

    sent: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    failed: list[list[tuple[str, bytes | None, bytes]]] = field(default_factory=list)
    fail: int = 0

    async def publish(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        if self.fail:
            self.fail -= 1
            self.failed.append(list(messages))
            raise BrokerDown("no acknowledgement")
        self.sent.extend(messages)

    def values(self, topic: str) -> list[bytes]:
        return [value for t, _, value in self.sent if t == topic]


@dataclass
class Feed:
    """Kafka records as a consumer would see them: offsets grow per partition."""

    topic: str
    offsets: dict[int, int] = field(default_factory=dict)

    def records(
        self, messages: Iterable[dict[str, Any] | bytes], partition: int = 0
    ) -> list[RawRecord]:
        out = []
        for message in messages:
            offset = self.offsets.get(partition, 0)
            self.offsets[partition] = offset + 1
            if isinstance(message, bytes):
                key, value = None, message
            else:
                entity = message.get("meter_id") or message.get("event_id")
                key, value = str(entity).encode(), json.dumps(message).encode()
            out.append(RawRecord(self.topic, partition, offset, key, value))
        return out


@dataclass
class World:
    settings: Settings
    clock: FakeClock
    store: MemoryWindowStore
    publisher: RecordingPublisher
    metrics: WorkerMetrics
    processor: WindowProcessor
    readings: Feed
    sales: Feed

    async def meter(
        self,
        messages: Iterable[dict[str, Any] | bytes],
        partition: int = 0,
        caught_up: bool = True,
    ) -> BatchReport:
        """One batch from one partition; ``caught_up``: nothing left to read there."""
        records = self.readings.records(messages, partition)
        return await self.processor.process("meter", records, {partition: caught_up})

    async def ticket(self, messages: Iterable[dict[str, Any]], partition: int = 0) -> BatchReport:
        records = self.sales.records(messages, partition)
        return await self.processor.process("ticket", records, {partition: True})

    async def tick(self, waiting: Iterable[int] = ()) -> None:
        """The housekeeping timer: every input partition reported, caught up
        except those in ``waiting`` (records still to be read)."""
        busy = set(waiting)
        report = {p: p not in busy for p in range(PARTITIONS)}
        await self.processor.tick(status={"meter": report, "ticket": report})

    def scores(self) -> list[WindowScore]:
        return [
            WindowScore.model_validate_json(v)
            for v in self.publisher.values(self.settings.topic_scores)
        ]

    def alerts(self) -> list[Alert]:
        return [
            Alert.model_validate_json(v)
            for v in self.publisher.values(self.settings.topic_anomalies)
        ]

    def dead_letters(self) -> list[DeadLetter]:
        return [
            DeadLetter.model_validate_json(v)
            for v in self.publisher.values(self.settings.topic_dead_letters)
        ]


@pytest.fixture
async def world() -> World:
    settings = make_settings(timezone=LONDON, topic_partitions=PARTITIONS)
    clock = FakeClock()
    store = MemoryWindowStore(clock=clock)
    publisher = RecordingPublisher()
    metrics = WorkerMetrics()
    processor = WindowProcessor(settings, store, ScorerSwitch(), publisher, metrics, clock=clock)
    w = World(
        settings,
        clock,
        store,
        publisher,
        metrics,
        processor,
        Feed(settings.topic_readings),
        Feed(settings.topic_sales),
    )
    await w.tick()  # a worker reports its partitions as soon as it starts
    return w


def eleven_days(meter: str = METER) -> list[list[dict[str, Any]]]:
    """10 ordinary days and an 11th with a night-time load."""
    out = [meter_day(meter, day) for day in days(FIRST, 10)]
    out.append(meter_day(meter, FIRST + timedelta(days=10), extra=NIGHT))
    return out


def reading(day: date, hour: int, minute: int, kwh: float, meter: str = METER) -> dict[str, Any]:
    """A reading at local wall-clock time (London) ``hour:minute`` of ``day``."""
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(LONDON))
    return {"meter_id": meter, "ts": start.astimezone(UTC).isoformat(), "kwh": kwh}


# --- scoring days --------------------------------------------------------------------------


async def test_ten_normal_days_and_a_night_load(world: World) -> None:
    for day_readings in eleven_days():
        report = await world.meter(day_readings)
        assert report.records == report.accepted == 48
        assert report.dead_letters == 0
        assert report.scored == 1
    scores = world.scores()
    assert [s.day for s in scores] == list(days(FIRST, 11))
    assert all(s.revision == 0 for s in scores)
    assert all(s.entity_id == METER and s.kind == "meter" for s in scores)
    assert all(s.missing_slots == [] for s in scores)
    assert [s.conditions["warming_up"] for s in scores] == [True] * 7 + [False] * 4
    assert [s.is_anomaly for s in scores] == [False] * 10 + [True]
    (alert,) = world.alerts()
    assert alert.day == FIRST + timedelta(days=10)
    assert alert.alert_id == scores[-1].alert_id
    assert alert.revision == 0
    assert alert.retracted is False
    assert alert.detector == "baseline"
    assert alert.timezone == LONDON
    assert alert.slots
    assert {s.index for s in alert.slots} <= set(NIGHT)
    assert alert.detected_at == datetime.fromtimestamp(world.clock.now, UTC)
    keys = {key for _, key, _ in world.publisher.sent}
    assert keys == {METER.encode()}


async def test_a_month_replayed_at_once_is_judged_like_day_by_day(world: World) -> None:
    report = await world.meter([r for day in eleven_days() for r in day])
    assert report.scored == 11
    assert report.alerts == 1
    scores = world.scores()
    assert sorted(s.day for s in scores) == list(days(FIRST, 11))
    by_day = {s.day: s for s in scores}
    # the 11th day saw the ten before it, though all closed in one round
    assert by_day[FIRST + timedelta(days=10)].conditions["history_days"] == 10
    assert by_day[FIRST + timedelta(days=10)].is_anomaly
    assert [a.day for a in world.alerts()] == [FIRST + timedelta(days=10)]


async def test_duplicates_give_no_extra_output(world: World) -> None:
    batches = eleven_days()
    for day_readings in batches:
        await world.meter(day_readings)
    sent = len(world.publisher.sent)
    report = await world.meter(batches[-1])  # a redelivery
    assert report.scored == 0
    assert report.dead_letters == 0
    report = await world.meter([r for day in batches for r in day])  # all of them again
    assert report.scored == 0
    assert len(world.publisher.sent) == sent
    await world.tick()
    assert len(world.publisher.sent) == sent


async def test_a_reading_twice_in_one_batch_counts_once_last_value_wins(world: World) -> None:
    readings = meter_day(METER, FIRST)
    changed = dict(readings[20], kwh=1.25)
    report = await world.meter([*readings, changed])
    assert report.scored == 1
    (score,) = world.scores()
    assert score.actual[20] == 1.25


async def test_daylight_saving_days_complete_with_46_and_50_readings(world: World) -> None:
    spring, autumn = date(2013, 3, 31), date(2013, 10, 27)
    spring_readings, autumn_readings = meter_day(METER, spring), meter_day(METER, autumn)
    assert (len(spring_readings), len(autumn_readings)) == (46, 50)
    await world.meter(spring_readings)
    await world.meter(autumn_readings)
    first, second = world.scores()
    assert first.day == spring
    assert first.missing_slots == []
    assert all(v is not None for v in first.actual)
    assert first.window_end.isoformat() == "2013-04-01T00:00:00+01:00"
    assert second.day == autumn
    assert second.missing_slots == []
    assert second.window_start.isoformat() == "2013-10-27T00:00:00+01:00"


# --- dead letters ----------------------------------------------------------------------------


async def test_invalid_input_goes_to_dead_letters_and_the_rest_goes_on(world: World) -> None:
    good = meter_day(METER, FIRST)
    bad = [
        b"{not json",
        json.dumps({"meter_id": METER, "ts": "2013-03-01T00:00:00Z", "kwh": -0.5}).encode(),
        json.dumps({"meter_id": METER, "ts": "2013-03-01T00:10:00Z", "kwh": 0.5}).encode(),
        b"\xff\xfe",
    ]
    report = await world.meter([*good[:24], *bad, *good[24:]], partition=2)
    assert report.records == 52
    assert report.dead_letters == 4
    assert report.accepted == 48
    assert report.scored == 1
    letters = world.dead_letters()
    assert [d.offset for d in letters] == [24, 25, 26, 27]
    assert all(d.source_topic == world.settings.topic_readings for d in letters)
    assert all(d.partition == 2 for d in letters)
    not_json, negative, unaligned, not_utf8 = letters
    assert not_json.error.type == "decode"
    assert not_json.value == "{not json"
    assert negative.error.type == "validation"
    assert negative.error.field == "kwh"
    assert negative.error.message.startswith("kwh")
    assert json.loads(negative.value or "")["kwh"] == -0.5
    assert unaligned.error.type == "validation"
    assert unaligned.error.field == "ts"
    assert not_utf8.error.type == "decode"
    assert not_utf8.value is None
    assert not_utf8.original_value() == b"\xff\xfe"
    assert all(d.received_at == datetime.fromtimestamp(world.clock.now, UTC) for d in letters)
    # the dead letters' key is the record's
    keys = [
        key for topic, key, _ in world.publisher.sent if topic == world.settings.topic_dead_letters
    ]
    assert keys == [None] * 4
    assert len(world.scores()) == 1


async def test_a_dead_letter_keeps_the_record_key(world: World) -> None:
    record = RawRecord(world.settings.topic_readings, 0, 7, b"MAC000009", b"[]")
    await world.processor.process("meter", [record])
    (letter,) = world.dead_letters()
    assert letter.key == "MAC000009"
    assert letter.offset == 7
    assert [k for t, k, _ in world.publisher.sent] == [b"MAC000009"]


# --- closing incomplete days ---------------------------------------------------------------------


async def test_an_incomplete_day_is_closed_by_tick_once_the_watermark_passes(world: World) -> None:
    # partition 0: a day with two half hours never sent; partition 1: another
    # meter already at 03:00 the next day (past the end of the day + 2 h grace)
    gappy = meter_day(METER, FIRST, skip={10, 11})
    ahead = [reading(FIRST + timedelta(days=1), hour, 0, 0.2, "MAC000003") for hour in (1, 2, 3)]
    await world.meter(gappy, partition=0)
    await world.meter(ahead, partition=1, caught_up=False)
    assert world.scores() == []  # partition 0 holds the watermark back at 23:30
    await world.tick(waiting={1})
    assert world.scores() == []
    world.clock.advance(world.settings.watermark_idle_seconds + 1)  # partition 0 went quiet
    await world.tick(waiting={1})
    (score,) = world.scores()
    assert score.entity_id == METER
    assert score.day == FIRST
    assert score.missing_slots == [10, 11]
    assert score.actual[10] is None
    assert score.actual[11] is None
    assert score.actual[12] is not None
    await world.tick()
    assert len(world.scores()) == 1


async def test_an_incomplete_day_is_closed_when_event_time_passes_its_grace(world: World) -> None:
    await world.meter(meter_day(METER, FIRST, skip={47}))
    assert world.scores() == []
    # 01:30 the next day: the grace (2 h after midnight) has not passed yet
    await world.meter([reading(FIRST + timedelta(days=1), 1, 30, 0.2)])
    assert world.scores() == []
    await world.meter([reading(FIRST + timedelta(days=1), 2, 0, 0.2)])
    (score,) = world.scores()
    assert score.missing_slots == [47]


async def test_a_late_reading_for_an_unseen_day_is_not_left_open(world: World) -> None:
    await world.meter(meter_day(METER, FIRST + timedelta(days=1)))
    await world.meter([reading(FIRST + timedelta(days=2), 6, 0, 0.2)])  # watermark: day 3, 06:00
    sent = len(world.publisher.sent)
    # a reading for day 1 of another meter: its deadline (day 2, 02:00) has passed
    await world.meter([reading(FIRST, 12, 0, 0.3, "MAC000003")])
    world.clock.advance(60)
    await world.tick()
    assert len(world.publisher.sent) > sent  # scored, or dead-lettered: not left open
    assert await world.store.open_windows("meter") <= 1  # only day 3 of METER


# --- late readings and revisions ---------------------------------------------------------


async def test_a_late_changed_reading_revises_the_score_and_the_alert(world: World) -> None:
    for day_readings in eleven_days():
        await world.meter(day_readings)
    (first_alert,) = world.alerts()
    anomalous = FIRST + timedelta(days=10)
    # a corrected 15:00 reading for the anomalous day: still anomalous
    report = await world.meter([reading(anomalous, 15, 0, 0.9)])
    assert report.scored == 1
    assert report.alerts == 1
    score = world.scores()[-1]
    assert score.day == anomalous
    assert score.revision == 1
    assert score.actual[30] == 0.9
    revised = world.alerts()[-1]
    assert revised.alert_id == first_alert.alert_id
    assert revised.revision == 1
    assert revised.retracted is False
    # the night readings corrected to ordinary values: the alert is withdrawn
    ordinary = {r["ts"]: r for r in meter_day(METER, anomalous)}
    night = [r for r in meter_day(METER, anomalous, extra=NIGHT) if ordinary[r["ts"]] != r]
    assert len(night) == 8
    report = await world.meter([ordinary[r["ts"]] for r in night])
    assert report.scored == 1
    score = world.scores()[-1]
    assert score.revision == 2
    assert score.is_anomaly is False
    withdrawn = world.alerts()[-1]
    assert withdrawn.alert_id == first_alert.alert_id
    assert withdrawn.revision == 2
    assert withdrawn.retracted is True
    # the same correction again changes nothing
    sent = len(world.publisher.sent)
    await world.meter([ordinary[r["ts"]] for r in night])
    assert len(world.publisher.sent) == sent


async def test_a_late_reading_for_a_normal_day_gives_a_score_revision_and_no_alert(
    world: World,
) -> None:
    for day_readings in eleven_days():
        await world.meter(day_readings)
    await world.meter([reading(FIRST + timedelta(days=8), 12, 0, 0.31)])
    score = world.scores()[-1]
    assert score.day == FIRST + timedelta(days=8)
    assert score.revision == 1
    assert not score.is_anomaly
    assert len(world.alerts()) == 1


async def test_a_reading_for_a_retired_day_is_too_late(world: World) -> None:
    await world.meter(meter_day(METER, FIRST))
    assert len(world.scores()) == 1
    # event time moves past the day's end + grace (2 h) + lateness (48 h)
    await world.meter([reading(FIRST + timedelta(days=3), 3, 0, 0.2, "MAC000003")])
    await world.tick()
    record = reading(FIRST, 12, 0, 0.7)
    report = await world.meter([record], partition=3)
    assert report.dead_letters == 1
    assert report.accepted == 0
    assert report.scored == 0
    (letter,) = world.dead_letters()
    assert letter.error.type == "too_late"
    assert letter.error.field == "ts"
    assert "2013-03-01" in letter.error.message
    assert METER in letter.error.message
    assert letter.partition == 3
    assert json.loads(letter.value or "") == record
    assert len(world.scores()) == 1  # no re-score of a final day


async def test_a_redelivered_reading_of_a_day_retired_since_is_no_dead_letter(
    world: World,
) -> None:
    # A fast replay retires days within seconds; a crash or rebalance then
    # redelivers what came after the last commit, readings of retired days too.
    first = world.readings.records(meter_day(METER, FIRST))
    await world.processor.process("meter", first, {0: True})
    await world.meter([reading(FIRST + timedelta(days=3), 3, 0, 0.2, "MAC000003")])
    await world.tick()
    report = await world.processor.process("meter", first, {0: True})  # the redelivery
    assert report.dead_letters == 0
    assert world.dead_letters() == []
    assert len(world.scores()) == 1
    new = await world.meter([reading(FIRST, 12, 0, 0.7)])  # a new record, really too late
    assert new.dead_letters == 1


async def test_a_day_within_its_lateness_is_still_re_scored(world: World) -> None:
    await world.meter(meter_day(METER, FIRST))
    await world.meter([reading(FIRST + timedelta(days=2), 1, 0, 0.2, "MAC000003")])
    await world.tick()
    report = await world.meter([reading(FIRST, 12, 0, 0.7)])
    assert report.dead_letters == 0
    assert report.scored == 1
    assert world.scores()[-1].revision == 1


# --- ticket sales ---------------------------------------------------------------------------------


async def test_ticket_sales_are_summed_once_per_sale(world: World) -> None:
    zone = ZoneInfo(LONDON)
    evening = datetime(2013, 3, 1, 18, 10, tzinfo=zone)
    s1 = sale("S-1", "EVT-42", evening, 50.0)
    s2 = sale("S-2", "EVT-42", evening + timedelta(minutes=5), 30.0)
    s3 = sale("S-3", "EVT-42", evening + timedelta(minutes=25), 19.8)  # 18:35: the next slot
    await world.ticket([s1, s2, s1])  # a redelivery inside the batch
    await world.ticket([s2, s3], partition=1)  # and in a later one
    assert world.scores() == []  # sales never complete a day: the watermark closes it
    closing = sale("S-9", "EVT-43", datetime(2013, 3, 2, 3, 0, tzinfo=zone), 10.0)
    await world.ticket([closing])
    await world.ticket([closing], partition=1)
    (score,) = world.scores()
    assert score.kind == "ticket"
    assert score.entity_id == "EVT-42"
    assert score.day == date(2013, 3, 1)
    assert score.actual[36] == pytest.approx(80.0)
    assert score.actual[37] == pytest.approx(19.8)
    assert sum(v or 0.0 for v in score.actual) == pytest.approx(99.8)
    assert score.missing_slots == []  # no sale in a half hour is 0, not missing
    # a sale delivered again after the day was scored changes nothing
    sent = len(world.publisher.sent)
    await world.ticket([s1, s2, s3])
    assert len(world.publisher.sent) == sent
    # a new sale for the scored day re-scores it
    await world.ticket([sale("S-4", "EVT-42", evening, 5.0)])
    revised = world.scores()[-1]
    assert revised.revision == 1
    assert revised.actual[36] == pytest.approx(85.0)


# --- crashes -----------------------------------------------------------------------------


async def test_a_crash_between_commit_and_publish_re_publishes_the_same_bytes(world: World) -> None:
    for day_readings in eleven_days()[:10]:
        await world.meter(day_readings)
    sent = len(world.publisher.sent)
    last = eleven_days()[10]
    world.publisher.fail = 1
    with pytest.raises(BrokerDown):
        await world.meter(last)
    (attempt,) = world.publisher.failed
    assert [t for t, _, _ in attempt] == [
        world.settings.topic_scores,
        world.settings.topic_anomalies,
    ]
    assert len(world.publisher.sent) == sent
    # the input was not acknowledged: Kafka redelivers it, which changes nothing
    world.clock.advance(5)
    report = await world.meter(last)
    assert report.scored == 0
    await world.tick()  # the lease has not expired: nobody re-publishes yet
    assert len(world.publisher.sent) == sent
    world.clock.advance(world.settings.claim_lease_seconds + 1)
    await world.tick()
    assert world.publisher.sent[sent:] == attempt  # the very same bytes, in order
    # acknowledged now: a later tick does not publish them again
    world.clock.advance(world.settings.claim_lease_seconds + 1)
    await world.tick()
    assert world.publisher.sent[sent:] == attempt
    (alert,) = world.alerts()
    assert alert.revision == 0


async def test_another_worker_recovers_the_outbox(world: World) -> None:
    world.publisher.fail = 1
    with pytest.raises(BrokerDown):
        await world.meter(meter_day(METER, FIRST))
    (attempt,) = world.publisher.failed
    other_publisher = RecordingPublisher()
    other = WindowProcessor(
        world.settings,
        world.store,
        ScorerSwitch(),
        other_publisher,
        WorkerMetrics(),
        clock=world.clock,
    )
    world.clock.advance(world.settings.claim_lease_seconds + 1)
    await other.tick(kinds=["meter"])
    assert other_publisher.sent == attempt
    await world.tick()
    assert world.publisher.sent == []


async def test_metrics_count_what_was_published(world: World) -> None:
    for day_readings in eleven_days():
        await world.meter(day_readings)
    await world.meter([b"nope"])
    registry = world.metrics.registry
    assert registry.get_sample_value("anomstream_windows_scored_total", {"kind": "meter"}) == 11
    assert registry.get_sample_value("anomstream_dead_letters_total", {"reason": "decode"}) == 1
