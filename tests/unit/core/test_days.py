"""Local days and their half-hour slots: 48, or 46/50 on daylight-saving days.

The mapping rule under test is the one in ``core.days``'s docstring: a real
slot goes to the model slot of its wall-clock start; a repeated hour is
averaged; a skipped hour is interpolated, never counted as missing and never
given a start time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.days import MODEL_SLOTS, SLOT, day_layout, local_day

LONDON = "Europe/London"
SPRING = date(2013, 3, 31)  # clocks go 01:00 GMT -> 02:00 BST: 46 real slots
AUTUMN = date(2013, 10, 27)  # clocks go 02:00 BST -> 01:00 GMT: 50 real slots
ORDINARY = date(2013, 3, 1)


# --- an ordinary day ------------------------------------------------------------


def test_an_ordinary_day_has_48_slots_mapped_one_to_one() -> None:
    layout = day_layout(ORDINARY, LONDON)
    assert layout.n_slots == MODEL_SLOTS
    assert layout.model_index == tuple(range(MODEL_SLOTS))
    assert layout.first_real == tuple(range(MODEL_SLOTS))
    assert layout.start == datetime(2013, 3, 1, tzinfo=UTC)
    assert layout.end == datetime(2013, 3, 2, tzinfo=UTC)
    assert layout.model_slot_start(14) == datetime(2013, 3, 1, 7, tzinfo=ZoneInfo(LONDON))


def test_a_summer_day_starts_at_local_midnight_in_utc() -> None:
    layout = day_layout(date(2013, 7, 1), LONDON)
    assert layout.n_slots == MODEL_SLOTS
    assert layout.start == datetime(2013, 6, 30, 23, tzinfo=UTC)
    start = layout.model_slot_start(0)
    assert start is not None
    assert start.utcoffset() == timedelta(hours=1)
    assert (start.hour, start.minute) == (0, 0)


def test_utc_days_are_always_48_slots() -> None:
    for day in (SPRING, AUTUMN, ORDINARY, date(2016, 2, 29)):
        layout = day_layout(day, "UTC")
        assert layout.n_slots == MODEL_SLOTS
        assert layout.model_index == tuple(range(MODEL_SLOTS))
        assert layout.start == datetime(day.year, day.month, day.day, tzinfo=UTC)
        assert layout.end - layout.start == timedelta(days=1)


def test_an_ordinary_day_to_model_is_the_identity() -> None:
    layout = day_layout(ORDINARY, LONDON)
    real = np.linspace(0.1, 2.0, MODEL_SLOTS)
    values, missing = layout.to_model(real)
    assert np.array_equal(values, real)
    assert not missing.any()
    assert values is not real  # a copy: the caller's array is not aliased


# --- spring forward: 46 real slots ---------------------------------------------


def test_spring_forward_day_has_46_slots_and_skips_01_00_and_01_30() -> None:
    layout = day_layout(SPRING, LONDON)
    assert layout.n_slots == 46
    assert layout.start == datetime(2013, 3, 31, tzinfo=UTC)
    assert layout.end == datetime(2013, 3, 31, 23, tzinfo=UTC)
    # real slot 2 starts at 01:00 UTC = 02:00 BST: model slot 4
    assert layout.model_index[:4] == (0, 1, 4, 5)
    assert layout.model_index == (0, 1, *range(4, MODEL_SLOTS))
    assert layout.first_real[2] == -1
    assert layout.first_real[3] == -1
    assert layout.model_slot_start(2) is None
    assert layout.model_slot_start(3) is None
    after = layout.model_slot_start(4)
    assert after is not None
    assert after.isoformat() == "2013-03-31T02:00:00+01:00"
    before = layout.model_slot_start(1)
    assert before is not None
    assert before.isoformat() == "2013-03-31T00:30:00+00:00"


def test_spring_forward_skipped_slots_are_interpolated_and_not_missing() -> None:
    layout = day_layout(SPRING, LONDON)
    # each real slot carries its model slot number: interpolation must give 2.0 and 3.0
    real = np.asarray(layout.model_index, dtype=np.float64)
    values, missing = layout.to_model(real)
    assert values.shape == (MODEL_SLOTS,)
    assert np.allclose(values, np.arange(MODEL_SLOTS))
    assert not missing.any()


def test_spring_forward_interpolates_across_a_missing_neighbour() -> None:
    layout = day_layout(SPRING, LONDON)
    real = np.asarray(layout.model_index, dtype=np.float64)
    real[1] = np.nan  # 00:30 missing: the skipped slots lean on 00:00 and 02:00
    values, missing = layout.to_model(real)
    assert missing.tolist() == [i == 1 for i in range(MODEL_SLOTS)]
    assert np.isnan(values[1])
    assert values[2] == pytest.approx(0 + (4 - 0) * 2 / 4)
    assert values[3] == pytest.approx(0 + (4 - 0) * 3 / 4)


# --- fall back: 50 real slots ----------------------------------------------------


def test_fall_back_day_has_50_slots_and_repeats_01_00_and_01_30() -> None:
    layout = day_layout(AUTUMN, LONDON)
    assert layout.n_slots == 50
    assert layout.start == datetime(2013, 10, 26, 23, tzinfo=UTC)
    assert layout.end == datetime(2013, 10, 28, tzinfo=UTC)
    assert layout.model_index[:7] == (0, 1, 2, 3, 2, 3, 4)
    assert layout.first_real[2] == 2
    assert layout.first_real[3] == 3
    assert layout.first_real[4] == 6
    first = layout.model_slot_start(2)
    assert first is not None
    assert first.isoformat() == "2013-10-27T01:00:00+01:00"  # the first occurrence, BST
    second = layout.real_start(4)
    assert second.isoformat() == "2013-10-27T01:00:00+00:00"  # the repeat, GMT


def test_fall_back_repeated_hour_is_averaged() -> None:
    layout = day_layout(AUTUMN, LONDON)
    real = np.ones(50)
    real[2], real[4] = 1.0, 3.0  # 01:00 BST and 01:00 GMT
    real[3], real[5] = 0.5, 0.7  # 01:30 BST and 01:30 GMT
    values, missing = layout.to_model(real)
    assert values.shape == (MODEL_SLOTS,)
    assert values[2] == pytest.approx(2.0)
    assert values[3] == pytest.approx(0.6)
    assert np.all(values[[0, 1, *range(4, MODEL_SLOTS)]] == 1.0)
    assert not missing.any()


def test_fall_back_one_occurrence_missing_uses_the_other() -> None:
    layout = day_layout(AUTUMN, LONDON)
    real = np.ones(50)
    real[2], real[4] = np.nan, 3.0
    real[3], real[5] = np.nan, np.nan  # both 01:30s missing: the model slot is missing
    values, missing = layout.to_model(real)
    assert values[2] == 3.0
    assert not missing[2]
    assert np.isnan(values[3])
    assert missing.tolist() == [i == 3 for i in range(MODEL_SLOTS)]


# --- real slots --------------------------------------------------------------------


def test_real_slot_bounds() -> None:
    layout = day_layout(AUTUMN, LONDON)
    assert layout.real_slot(layout.start) == 0
    assert layout.real_slot(layout.start + SLOT - timedelta(microseconds=1)) == 0
    assert layout.real_slot(layout.start + SLOT) == 1
    assert layout.real_slot(layout.end - timedelta(microseconds=1)) == 49
    # the two 01:00s are different real slots
    bst = datetime(2013, 10, 27, 1, tzinfo=ZoneInfo(LONDON))
    gmt = datetime(2013, 10, 27, 1, fold=1, tzinfo=ZoneInfo(LONDON))
    assert layout.real_slot(bst) == 2
    assert layout.real_slot(gmt) == 4
    # any aware datetime works, whatever its offset
    other = datetime(2013, 10, 27, 3, 15, tzinfo=timezone(timedelta(hours=2)))
    assert layout.real_slot(other) == layout.real_slot(other.astimezone(UTC))


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2013, 10, 28, 0, 0, tzinfo=UTC),  # the next day's first instant
        datetime(2013, 10, 26, 22, 59, 59, tzinfo=UTC),  # a second before the day
        datetime(2013, 10, 26, 22, 30, tzinfo=UTC),  # a slot before the day
        datetime(2014, 1, 1, tzinfo=UTC),
    ],
)
def test_real_slot_outside_the_day_raises(instant: datetime) -> None:
    layout = day_layout(AUTUMN, LONDON)
    with pytest.raises(ValueError, match="not within local day 2013-10-27"):
        layout.real_slot(instant)


def test_real_slot_a_fraction_of_a_second_before_the_day_raises() -> None:
    layout = day_layout(AUTUMN, LONDON)
    with pytest.raises(ValueError, match="not within local day"):
        layout.real_slot(layout.start - timedelta(milliseconds=500))


def test_to_model_refuses_the_wrong_number_of_slots() -> None:
    with pytest.raises(ValueError, match="expected 46 real slots"):
        day_layout(SPRING, LONDON).to_model(np.ones(MODEL_SLOTS))
    with pytest.raises(ValueError, match="expected 48 real slots"):
        day_layout(ORDINARY, LONDON).to_model(np.ones(50))


def test_to_model_flags_missing_slots_on_every_kind_of_day() -> None:
    for day in (ORDINARY, SPRING, AUTUMN):
        layout = day_layout(day, LONDON)
        real = np.full(layout.n_slots, 0.5)
        last = layout.n_slots - 1
        real[[0, last]] = np.nan  # 00:00 and 23:30 missing
        values, missing = layout.to_model(real)
        assert np.flatnonzero(missing).tolist() == [0, 47], day
        assert np.isnan(values[[0, 47]]).all()
        assert np.all(values[1:47] == 0.5), day


def test_an_empty_day_is_all_missing_except_skipped_slots() -> None:
    for day in (ORDINARY, AUTUMN):
        values, missing = day_layout(day, LONDON).to_model(
            np.full(day_layout(day, LONDON).n_slots, np.nan)
        )
        assert missing.all()
        assert np.isnan(values).all()
    values, missing = day_layout(SPRING, LONDON).to_model(np.full(46, np.nan))
    assert np.isnan(values).all()
    assert np.flatnonzero(~missing).tolist() == [2, 3]  # skipped, so never "missing"


def test_layouts_are_cached() -> None:
    assert day_layout(SPRING, LONDON) is day_layout(SPRING, LONDON)


# --- local days ----------------------------------------------------------------------


def test_local_day_across_midnight() -> None:
    # 23:30 UTC on 30 June is 00:30 BST on 1 July in London
    late = datetime(2013, 6, 30, 23, 30, tzinfo=UTC)
    assert local_day(late, LONDON) == date(2013, 7, 1)
    assert local_day(late, "UTC") == date(2013, 6, 30)
    # in winter London is on UTC
    assert local_day(datetime(2013, 1, 15, 23, 30, tzinfo=UTC), LONDON) == date(2013, 1, 15)
    # 00:30 UTC on 1 January is still New Year's Eve in New York, and 1 January in Sydney
    early = datetime(2013, 1, 1, 0, 30, tzinfo=UTC)
    assert local_day(early, "America/New_York") == date(2012, 12, 31)
    assert local_day(early, "Australia/Sydney") == date(2013, 1, 1)
    # the instant's own offset does not matter, only the instant
    shifted = datetime(2013, 7, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert local_day(shifted, LONDON) == date(2013, 7, 1)
    assert local_day(shifted, "UTC") == date(2013, 6, 30)


def test_local_day_agrees_with_the_layout() -> None:
    for day in (SPRING, AUTUMN, ORDINARY):
        layout = day_layout(day, LONDON)
        for slot in range(layout.n_slots):
            instant = layout.start + slot * SLOT
            assert local_day(instant, LONDON) == day
            assert layout.real_slot(instant) == slot
        assert local_day(layout.end, LONDON) == day + timedelta(days=1)
        assert local_day(layout.start - timedelta(seconds=1), LONDON) == day - timedelta(days=1)


# --- properties ------------------------------------------------------------------------

ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "UTC")


@given(
    day=st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 12, 31)),
    zone=st.sampled_from(ZONES),
    level=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
)
def test_every_day_maps_onto_48_model_slots(day: date, zone: str, level: float) -> None:
    layout = day_layout(day, zone)
    assert layout.n_slots in (46, 48, 50)
    assert layout.n_slots * SLOT == layout.end - layout.start
    skipped = {m for m in range(MODEL_SLOTS) if layout.first_real[m] < 0}
    mapped = set(layout.model_index)
    # every model slot comes from at least one real slot, unless it was skipped
    assert mapped | skipped == set(range(MODEL_SLOTS))
    assert not mapped & skipped
    assert len(skipped) == max(0, MODEL_SLOTS - layout.n_slots)
    for model_slot in mapped:
        real = layout.first_real[model_slot]
        assert layout.model_index[real] == model_slot
        assert layout.model_index.index(model_slot) == real  # the first occurrence
        start = layout.model_slot_start(model_slot)
        assert start is not None
        assert start.hour * 2 + start.minute // 30 == model_slot
    for model_slot in skipped:
        assert layout.model_slot_start(model_slot) is None
    # a constant day is the same constant in every model slot, none missing
    values, missing = layout.to_model(np.full(layout.n_slots, level))
    assert not missing.any()
    assert np.allclose(values, level)


@given(
    day=st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 12, 31)),
    zone=st.sampled_from(ZONES),
    seconds=st.floats(min_value=-86_400.0, max_value=2 * 86_400.0, allow_nan=False),
)
def test_real_slot_is_defined_exactly_within_the_local_day(
    day: date, zone: str, seconds: float
) -> None:
    layout = day_layout(day, zone)
    instant = layout.start + timedelta(seconds=seconds)
    if local_day(instant, zone) == day:
        slot = layout.real_slot(instant)
        assert layout.start + slot * SLOT <= instant < layout.start + (slot + 1) * SLOT
        assert layout.real_start(slot) <= instant
    else:
        with pytest.raises(ValueError, match="not within local day"):
            layout.real_slot(instant)
