"""Input messages: valid ones round-trip, invalid ones are named field by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from schema_strategies import (
    PROPERTY,
    as_dict,
    half_hour_starts,
    minute_offsets,
    readings,
    sales,
    to_json,
)

from schemas import InvalidMessage, MeterReading, TicketSale, decode_reading, decode_sale

# --- valid messages ------------------------------------------------------------


@PROPERTY
@given(readings())
def test_reading_round_trips(reading: MeterReading) -> None:
    decoded = decode_reading(reading.model_dump_json().encode())
    assert decoded == reading
    assert decoded.ts.utcoffset() == reading.ts.utcoffset()  # == compares instants only


@PROPERTY
@given(sales())
def test_sale_round_trips(sale: TicketSale) -> None:
    decoded = decode_sale(sale.model_dump_json().encode())
    assert decoded == sale
    assert decoded.ts.utcoffset() == sale.ts.utcoffset()


@PROPERTY
@given(readings())
def test_schema_version_is_optional_on_input(reading: MeterReading) -> None:
    message = as_dict(reading)
    del message["schema_version"]
    assert decode_reading(to_json(message)) == reading


@PROPERTY
@given(readings(), st.dictionaries(st.text(min_size=1).map(lambda k: f"x_{k}"), st.integers()))
def test_unknown_fields_are_ignored(reading: MeterReading, extra: dict[str, int]) -> None:
    assert decode_reading(to_json({**as_dict(reading), **extra})) == reading


@PROPERTY
@given(
    half_hour_starts(),
    st.sampled_from(["T", "t", " "]),
    st.sampled_from(["", ".0", ".000", ".000000000"]),
    st.booleans(),
)
def test_rfc3339_spellings_of_a_slot_start(
    ts: datetime, separator: str, fraction: str, lower_z: bool
) -> None:
    text = ts.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + fraction
    offset = ts.strftime("%z")
    text += ("z" if lower_z else "Z") if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    reading = decode_reading(to_json({"meter_id": "m", "ts": text, "kwh": 1}))
    assert reading.ts == ts


@PROPERTY
@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    minute_offsets,
)
def test_python_datetimes_follow_the_text_rules(moment: datetime, offset: timezone) -> None:
    """A datetime built in Python is judged exactly as its RFC 3339 text is."""
    value = moment.astimezone(offset)
    for model in (MeterReading, TicketSale):
        base = {"meter_id": "m", "kwh": 1, "sale_id": "s", "event_id": "e", "quantity": 1}
        fields = {**base, "amount": 1.0}
        try:
            model.model_validate({**fields, "ts": value})
            from_python = None
        except ValidationError as exc:
            from_python = exc.errors()[0]["type"]
        try:
            model.model_validate_json(json.dumps({**fields, "ts": value.isoformat()}))
            from_text = None
        except ValidationError as exc:
            from_text = exc.errors()[0]["type"]
        assert from_python == from_text, (model.__name__, value.isoformat())


def test_naive_python_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError, match="offset_required"):
        MeterReading(meter_id="m", ts=datetime(2013, 3, 1), kwh=1.0)


def test_models_are_frozen() -> None:
    reading = MeterReading(meter_id="m", ts=datetime(2013, 3, 1, tzinfo=UTC), kwh=1.0)
    with pytest.raises(ValidationError, match="frozen"):
        reading.kwh = 2.0  # type: ignore[misc]


# --- the time range ------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "accepted"),
    [
        ("2000-01-01T00:00:00Z", True),
        ("2000-01-01T00:30:00+01:00", False),  # 1999-12-31T23:30Z
        ("1999-12-31T23:30:00-01:00", True),  # 2000-01-01T00:30Z
        ("1999-12-31T23:30:00Z", False),
        ("0001-01-01T00:00:00Z", False),
    ],
)
def test_earliest_instant_is_exact_at_any_offset(ts: str, accepted: bool) -> None:
    message = to_json({"meter_id": "m", "ts": ts, "kwh": 1})
    if accepted:
        assert decode_reading(message).ts == datetime.fromisoformat(ts)
    else:
        with pytest.raises(InvalidMessage) as caught:
            decode_reading(message)
        assert caught.value.rule in {"ancient", "rfc3339"}


@pytest.mark.parametrize(
    ("ahead", "offset_hours", "accepted"),
    [
        (timedelta(days=2) - timedelta(hours=1), 0, True),
        (timedelta(days=2) - timedelta(hours=1), 14, True),
        (timedelta(days=2) - timedelta(hours=1), -12, True),
        (timedelta(days=2) + timedelta(hours=1), 0, False),
        (timedelta(days=2) + timedelta(hours=1), -12, False),
        (timedelta(days=2) + timedelta(hours=1), 14, False),
        (timedelta(days=400), 0, False),
    ],
)
def test_far_future_bound_is_exact_at_any_offset(
    ahead: timedelta, offset_hours: int, accepted: bool
) -> None:
    instant = datetime.now(UTC) + ahead
    ts = instant.replace(second=0, microsecond=0).astimezone(
        timezone(timedelta(hours=offset_hours))
    )
    message = to_json(
        {"sale_id": "s", "event_id": "e", "ts": ts.isoformat(), "quantity": 1, "amount": 1}
    )
    if accepted:
        assert decode_sale(message).ts == ts
    else:
        with pytest.raises(InvalidMessage) as caught:
            decode_sale(message)
        assert (caught.value.field, caught.value.rule) == ("ts", "far_future")


# --- invalid messages, field by field, rule by rule --------------------------------

_MISSING = object()
_not_strings = (
    st.integers() | st.floats(allow_nan=False) | st.booleans() | st.lists(st.integers(), max_size=2)
)
_controls = st.characters(categories=["Cc"])


@st.composite
def _with_control(draw: st.DrawFn) -> str:
    text = draw(st.text(min_size=0, max_size=20))
    position = draw(st.integers(0, len(text)))
    return text[:position] + draw(_controls) + text[position:]


@st.composite
def _unaligned_starts(draw: st.DrawFn) -> str:
    ts = draw(half_hour_starts())
    shift = draw(
        st.sampled_from(
            [
                timedelta(minutes=draw(st.integers(1, 29))),
                timedelta(seconds=draw(st.integers(1, 59))),
                timedelta(microseconds=draw(st.integers(1, 999_999))),
            ]
        )
    )
    return (ts + shift).isoformat()


@st.composite
def _off_grid_offsets(draw: st.DrawFn) -> str:
    """On :00 as written, but the offset is not whole half hours (+05:45)."""
    ts = draw(half_hour_starts()).replace(tzinfo=None)
    minutes = draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1).filter(lambda m: m % 30))
    return ts.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


_ancient = st.datetimes(max_value=datetime(1999, 12, 30), min_value=datetime(1000, 1, 1)).map(
    lambda d: d.replace(minute=0, second=0, microsecond=0, tzinfo=UTC).isoformat()
)
_far_future = st.datetimes(
    min_value=(datetime.now(UTC) + timedelta(days=3)).replace(tzinfo=None),
    max_value=datetime(9999, 1, 1),
).map(lambda d: d.replace(minute=0, second=0, microsecond=0, tzinfo=UTC).isoformat())
_naive = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2020, 1, 1)).map(
    lambda d: d.replace(minute=30, second=0, microsecond=0).isoformat()
)
_not_timestamps = (
    st.integers(0, 2**40)
    | st.integers(0, 2**40).map(str)
    | st.sampled_from(
        ["2013-03-01", "2013-03-01T00:30Z", "2013-03-01T00:30:00+0100", "yesterday", ""]
    )
    | st.sampled_from(["2013-02-30T00:00:00Z", "2013-03-01T24:00:00Z", "2013-03-01T00:30:00+25:00"])
)
_bad_kwh_types = st.sampled_from(["0.5", "1", True, False, [], {}])

# (field, strategy of bad values or _MISSING, expected pydantic/our rule)
READING_CASES: list[tuple[str, Any, str]] = [
    ("meter_id", _MISSING, "missing"),
    ("meter_id", st.just(""), "string_too_short"),
    ("meter_id", st.text(min_size=129, max_size=400), "string_too_long"),
    ("meter_id", _with_control(), "string_pattern_mismatch"),
    ("meter_id", _not_strings | st.none(), "string_type"),
    ("ts", _MISSING, "missing"),
    ("ts", _unaligned_starts(), "half_hour"),
    ("ts", _off_grid_offsets(), "half_hour"),
    ("ts", _ancient, "ancient"),
    ("ts", _far_future, "far_future"),
    ("ts", _naive, "offset_required"),
    ("ts", _not_timestamps, "rfc3339"),
    ("kwh", _MISSING, "missing"),
    ("kwh", st.floats(max_value=-1e-300, allow_infinity=False), "greater_than_equal"),
    ("kwh", st.floats(min_value=1_000_000.0001, allow_infinity=False), "less_than_equal"),
    ("kwh", st.sampled_from([float("nan"), float("inf"), float("-inf")]), "finite_number"),
    ("kwh", _bad_kwh_types, "float_type"),
    ("temperature_c", st.floats(max_value=-90.0001, allow_infinity=False), "greater_than_equal"),
    ("temperature_c", st.floats(min_value=60.0001, allow_infinity=False), "less_than_equal"),
    ("temperature_c", st.just(float("nan")), "finite_number"),
    ("temperature_c", st.just("7.5"), "float_type"),
    ("schema_version", st.sampled_from([0, 2, True, 1.0, "1", None]), "schema_version"),
]

SALE_CASES: list[tuple[str, Any, str]] = [
    ("sale_id", _MISSING, "missing"),
    ("sale_id", st.just(""), "string_too_short"),
    ("event_id", st.text(min_size=129, max_size=400), "string_too_long"),
    ("event_id", _with_control(), "string_pattern_mismatch"),
    ("event_id", _not_strings, "string_type"),
    ("ts", _MISSING, "missing"),
    ("ts", _naive, "offset_required"),
    ("ts", _ancient, "ancient"),
    ("ts", _far_future, "far_future"),
    ("ts", _not_timestamps, "rfc3339"),
    ("quantity", _MISSING, "missing"),
    ("quantity", st.integers(max_value=0), "greater_than_equal"),
    ("quantity", st.integers(min_value=1_000_001), "less_than_equal"),
    ("quantity", st.sampled_from([2.5, 2.0, "2", True, None]), "int_type"),
    ("amount", st.floats(max_value=-1e-300, allow_infinity=False), "greater_than_equal"),
    ("amount", st.floats(min_value=1.0000001e9, allow_infinity=False), "less_than_equal"),
    ("amount", st.just(float("inf")), "finite_number"),
    ("amount", st.just("119.80"), "float_type"),
    ("currency", st.text(min_size=17, max_size=40), "string_too_long"),
    ("currency", st.integers(), "string_type"),
    ("channel", st.text(min_size=65, max_size=100), "string_too_long"),
]


def _check_rejected(raw: bytes, decode: Any, field: str, rule: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode(raw)
    error = caught.value
    assert (error.type, error.field, error.rule) == ("validation", field, rule), error
    assert error.message.startswith(f"{field}: ")


def _mutate(message: dict[str, Any], field: str, bad: Any) -> dict[str, Any]:
    if bad is _MISSING:
        return {key: value for key, value in message.items() if key != field}
    return {**message, field: bad}


@pytest.mark.parametrize(("field", "bad_values", "rule"), READING_CASES)
def test_invalid_reading_names_field_and_rule(field: str, bad_values: Any, rule: str) -> None:
    @PROPERTY
    @given(readings(), st.just(_MISSING) if bad_values is _MISSING else bad_values)
    def check(reading: MeterReading, bad: Any) -> None:
        _check_rejected(to_json(_mutate(as_dict(reading), field, bad)), decode_reading, field, rule)

    check()


@pytest.mark.parametrize(("field", "bad_values", "rule"), SALE_CASES)
def test_invalid_sale_names_field_and_rule(field: str, bad_values: Any, rule: str) -> None:
    @PROPERTY
    @given(sales(), st.just(_MISSING) if bad_values is _MISSING else bad_values)
    def check(sale: TicketSale, bad: Any) -> None:
        _check_rejected(to_json(_mutate(as_dict(sale), field, bad)), decode_sale, field, rule)

    check()


def test_null_temperature_is_no_temperature() -> None:
    raw = to_json(
        {"meter_id": "m", "ts": "2013-03-01T00:30:00Z", "kwh": 0.2, "temperature_c": None}
    )
    assert decode_reading(raw).temperature_c is None


def test_offset_that_is_not_on_the_grid_but_aligned_in_utc_is_still_refused() -> None:
    # 00:15+05:45 is 18:30Z (aligned in UTC) but not :00/:30 as written.
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(to_json({"meter_id": "m", "ts": "2013-03-01T00:15:00+05:45", "kwh": 1}))
    assert caught.value.rule == "half_hour"


def test_sub_microsecond_digits_are_not_lost_silently() -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(to_json({"meter_id": "m", "ts": "2013-03-01T00:30:00.0000001Z", "kwh": 1}))
    assert caught.value.rule == "half_hour"
