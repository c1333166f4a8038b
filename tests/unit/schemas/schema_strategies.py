"""Hypothesis strategies for valid messages, shared by the schema tests.

Imported by name (``import schema_strategies``): pytest puts this folder on
``sys.path`` because it has no ``__init__.py`` (a package here would be
called ``schemas`` and shadow the real one).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from schemas import Alert, MeterReading, SlotExplanation, TicketSale, WindowScore

# The machines that run these are shared and slow; correctness, not speed, is tested.
PROPERTY = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# A day of margin on both sides of the accepted range [2000-01-01, now + 2 days].
FIRST_SAFE = datetime(2000, 1, 2, tzinfo=UTC)
LAST_SAFE = datetime.now(UTC) + timedelta(days=1)

ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=128
)
# Offsets a half-hour slot can have: whole half hours, under 24 h.
half_hour_offsets = st.integers(-47, 47).map(lambda n: timezone(timedelta(minutes=30 * n)))
# Any whole-minute offset under 24 h (RFC 3339 has no seconds in offsets).
minute_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda m: timezone(timedelta(minutes=m))
)


@st.composite
def half_hour_starts(draw: st.DrawFn) -> datetime:
    """An aligned slot start in the accepted range, at a half-hour offset."""
    last = int((LAST_SAFE - FIRST_SAFE) / timedelta(minutes=30))
    slot = draw(st.integers(0, last))
    return (FIRST_SAFE + timedelta(minutes=30 * slot)).astimezone(draw(half_hour_offsets))


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Any instant in the accepted range, at any offset, with microseconds."""
    moment = draw(
        st.datetimes(
            min_value=FIRST_SAFE.replace(tzinfo=None),
            max_value=LAST_SAFE.replace(tzinfo=None),
            timezones=st.just(UTC),
        )
    )
    return moment.astimezone(draw(minute_offsets))


kwhs = st.floats(0, 1_000_000, allow_nan=False, allow_infinity=False)
temperatures = st.none() | st.floats(-90, 60, allow_nan=False, allow_infinity=False)


@st.composite
def readings(draw: st.DrawFn) -> MeterReading:
    return MeterReading(
        meter_id=draw(ids),
        ts=draw(half_hour_starts()),
        kwh=draw(kwhs),
        temperature_c=draw(temperatures),
    )


@st.composite
def sales(draw: st.DrawFn) -> TicketSale:
    return TicketSale(
        sale_id=draw(ids),
        event_id=draw(ids),
        ts=draw(instants()),
        quantity=draw(st.integers(1, 1_000_000)),
        amount=draw(st.floats(0, 1e9, allow_nan=False, allow_infinity=False)),
        currency=draw(st.none() | st.text(max_size=16)),
        channel=draw(st.none() | st.text(max_size=64)),
    )


def as_dict(model: Any) -> dict[str, Any]:
    """The message as a producer would build it (a plain JSON object)."""
    result: dict[str, Any] = json.loads(model.model_dump_json())
    return result


def to_json(message: dict[str, Any]) -> bytes:
    """Serialize like a lax producer: NaN and Infinity written as literals."""
    return json.dumps(message, allow_nan=True).encode()


# --- outputs ----------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def scored_window_fields(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.dates(min_value=date(2000, 1, 2), max_value=date(2100, 1, 1)))
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    missing = sorted(draw(st.sets(st.integers(0, 47), max_size=48)))
    actual = [None if i in missing else draw(finite) for i in range(48)]
    contributions = sorted(draw(st.lists(finite, max_size=5)), reverse=True)
    slots = [
        SlotExplanation(
            index=i,
            start=start + timedelta(minutes=30 * i),
            actual=actual[i],
            expected=draw(finite),
            contribution=c,
        )
        for i, c in enumerate(contributions)
    ]
    return {
        "alert_id": draw(ids),
        "revision": draw(st.integers(0, 1000)),
        "kind": draw(st.sampled_from(["meter", "ticket"])),
        "entity_id": draw(ids),
        "day": day,
        "timezone": draw(st.sampled_from(["UTC", "Europe/London", "America/New_York"])),
        "window_start": start,
        "window_end": start + timedelta(days=1),
        "score": draw(finite),
        "threshold": draw(finite),
        "detector": draw(st.sampled_from(["autoencoder", "baseline"])),
        "model_version": "meter-20130301T0400-3",
        "actual": actual,
        "expected": [draw(finite) for _ in range(48)],
        "slots": slots,
        "missing_slots": missing,
        "detected_at": draw(instants()),
    }


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    fields = draw(scored_window_fields())
    severity = draw(st.sampled_from(["low", "medium", "high", "critical"]))
    return Alert(**fields, severity=severity, retracted=draw(st.booleans()))


conditions = st.dictionaries(
    st.text(max_size=20),
    st.none() | st.booleans() | st.integers(-1000, 1000) | finite | st.text(max_size=20),
    max_size=8,
)


@st.composite
def window_scores(draw: st.DrawFn) -> WindowScore:
    fields = draw(scored_window_fields())
    is_anomaly = draw(st.booleans())
    severities = st.sampled_from(["low", "medium", "high", "critical"])
    severity = draw(severities if is_anomaly else st.none() | severities)
    return WindowScore(
        **fields, severity=severity, is_anomaly=is_anomaly, conditions=draw(conditions)
    )
