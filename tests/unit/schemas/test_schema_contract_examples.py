"""The contract's JSON examples validate verbatim (shared/CONTRACT.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from schema_examples import DEAD_LETTER, METER_READING, TICKET_SALE, alert_example

from schemas import (
    Alert,
    DeadLetter,
    MeterReading,
    TicketSale,
    WindowScore,
    decode_meter_message,
    decode_reading,
    decode_sale,
)


def test_meter_reading_example() -> None:
    reading = decode_reading(METER_READING.encode())
    assert reading == MeterReading(
        meter_id="MAC000002",
        ts=datetime(2013, 3, 1, 0, 30, tzinfo=UTC),
        kwh=0.219,
        temperature_c=7.5,
    )
    assert decode_meter_message(METER_READING.encode()) == [reading]


def test_ticket_sale_example() -> None:
    sale = decode_sale(TICKET_SALE.encode())
    assert sale.ts == datetime(2024, 5, 1, 18, 3, 12, tzinfo=timezone(timedelta(hours=2)))
    assert (sale.quantity, sale.amount, sale.currency, sale.channel) == (2, 119.80, "EUR", "web")
    assert TicketSale.model_validate_json(sale.model_dump_json()) == sale


def test_dead_letter_example() -> None:
    letter = DeadLetter.model_validate_json(DEAD_LETTER)
    assert letter.error.message == "kwh: must be >= 0"
    assert (letter.error.type, letter.error.field) == ("validation", "kwh")
    assert letter.schema_version == 1


def test_alert_example() -> None:
    alert = Alert.model_validate(alert_example())
    assert alert.day == date(2013, 3, 1)
    assert alert.slots[0].index == 14
    assert alert.schema_version == 1


def test_window_score_is_the_alert_plus_verdict_and_conditions() -> None:
    score = WindowScore.model_validate(
        {
            **alert_example(),
            "is_anomaly": True,
            "conditions": {"weekday": "Friday", "temperature_c": 7.5},
        }
    )
    assert score.is_anomaly
    assert score.conditions["weekday"] == "Friday"
