"""The optional bulk form on meter-readings through the processor: the same
windows as single readings, a bad reading dead-lettered on its own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from harness.days import LONDON, meter_day
from harness.settings import make_settings

from schemas import DeadLetter, WindowScore
from stream.metrics import WorkerMetrics
from stream.processor import WindowProcessor
from stream.records import RawRecord
from stream.scorers import ScorerSwitch
from stream.windows.memory_store import MemoryWindowStore

DAY = date(2013, 3, 5)


class Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def publish(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        self.sent.extend(messages)

    def on(self, topic: str) -> list[bytes]:
        return [value for t, _, value in self.sent if t == topic]


def _setup() -> tuple[WindowProcessor, Publisher]:
    settings = make_settings(timezone=LONDON, topic_partitions=1)
    publisher = Publisher()
    processor = WindowProcessor(
        settings, MemoryWindowStore(), ScorerSwitch(), publisher, WorkerMetrics()
    )
    processor.partitions = {"meter": 1, "ticket": 1}
    return processor, publisher


def _bulk(meter: str, readings: list[dict[str, object]]) -> bytes:
    items = [{k: v for k, v in r.items() if k != "meter_id"} for r in readings]
    return json.dumps({"meter_id": meter, "readings": items}).encode()


def _record(value: bytes, offset: int = 0) -> RawRecord:
    return RawRecord("meter-readings", 0, offset, b"M1", value)


async def test_a_bulk_day_is_the_same_window_as_its_single_readings() -> None:
    processor, publisher = _setup()
    report = await processor.process("meter", [_record(_bulk("M1", meter_day("M1", DAY)))])
    assert report.dead_letters == 0
    (score,) = [WindowScore.model_validate_json(v) for v in publisher.on("window-scores")]
    assert (score.entity_id, score.day, score.missing_slots) == ("M1", DAY, [])


async def test_a_bad_reading_of_a_bulk_message_is_its_own_dead_letter() -> None:
    processor, publisher = _setup()
    readings = meter_day("M1", DAY)
    readings[5]["kwh"] = -1.0
    report = await processor.process("meter", [_record(_bulk("M1", readings), offset=7)])
    assert report.dead_letters == 1
    (letter,) = [DeadLetter.model_validate_json(v) for v in publisher.on("dead-letters")]
    assert letter.error.field == "readings.5.kwh"
    assert letter.offset == 7
    # the reading alone, with its meter: fixable and resendable as a single reading
    assert json.loads(letter.value or "") == {**readings[5], "meter_id": "M1"}
    assert publisher.on("window-scores") == []  # 47 of 48 slots: the day stays open


async def test_a_bulk_message_with_a_bad_envelope_is_one_dead_letter() -> None:
    processor, publisher = _setup()
    value = json.dumps({"readings": meter_day("M1", DAY)[:3]}).encode()  # no meter_id
    report = await processor.process("meter", [_record(value)])
    assert report.dead_letters == 1
    (letter,) = [DeadLetter.model_validate_json(v) for v in publisher.on("dead-letters")]
    assert letter.error.field == "meter_id"
    assert letter.value == value.decode()
