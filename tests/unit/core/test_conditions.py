from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from core.conditions import (
    FEATURE_NAMES,
    N_CONDITIONS,
    ConditionEncoder,
    condition_matrix,
    conditions_for,
)
from core.holidays import default_calendar
from core.scoring.base import DayWindow


def _window(day: date, temperature: float | None = None, missing: int = 0) -> DayWindow:
    values = np.ones(48)
    values[:missing] = np.nan
    return DayWindow("meter", "m1", day, values, temperature_c=temperature)


def test_the_feature_vector_is_documented_and_ordered() -> None:
    assert FEATURE_NAMES == (
        "dow_mon", "dow_tue", "dow_wed", "dow_thu", "dow_fri", "dow_sat", "dow_sun",
        "season_sin", "season_cos", "holiday", "temperature", "temperature_missing",
        "missing_fraction",
    )  # fmt: skip
    assert N_CONDITIONS == 13


def test_matrix_encodes_each_feature() -> None:
    encoder = ConditionEncoder(default_calendar(), temperature_mean=10.0, temperature_std=5.0)
    christmas = _window(date(2013, 12, 25), temperature=20.0, missing=12)  # a Wednesday
    new_year = _window(date(2013, 1, 1))
    matrix = encoder.matrix([christmas, new_year])
    assert matrix.dtype == np.float32
    assert matrix.shape == (2, N_CONDITIONS)
    row = dict(zip(FEATURE_NAMES, matrix[0], strict=True))
    assert [row[f"dow_{d}"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")] == [
        0, 0, 1, 0, 0, 0, 0,
    ]  # fmt: skip
    assert row["holiday"] == 1.0
    assert row["temperature"] == pytest.approx(2.0)
    assert row["temperature_missing"] == 0.0
    assert row["missing_fraction"] == pytest.approx(0.25)
    # 1 January is at angle 0; 31 December is next to it, not at the other end.
    assert matrix[1, 7:9] == pytest.approx([0.0, 1.0])
    assert christmas.day.timetuple().tm_yday > 350
    assert math.hypot(*(matrix[0, 7:9] - matrix[1, 7:9])) < 0.2


def test_missing_temperature_is_zero_and_flagged() -> None:
    for temperature in (None, float("nan")):
        row = ConditionEncoder().matrix([_window(date(2013, 3, 1), temperature)])[0]
        assert row[10] == 0.0
        assert row[11] == 1.0


def test_describe_is_readable() -> None:
    window = _window(date(2013, 12, 25), temperature=3.5, missing=2)
    conditions = conditions_for(window)
    assert conditions == {
        "day_of_week": "wed",
        "day_of_year": 359,
        "holiday": True,
        "holiday_name": "Christmas Day",
        "temperature_c": 3.5,
        "missing_slots": 2,
        "missing_fraction": 2 / 48,
    }
    assert condition_matrix([window]).shape == (1, N_CONDITIONS)


def test_fit_learns_temperature_standardisation() -> None:
    windows = [_window(date(2013, 1, d), temperature=t) for d, t in ((1, 0.0), (2, 10.0))]
    encoder = ConditionEncoder.fit(windows, default_calendar())
    assert (encoder.temperature_mean, encoder.temperature_std) == (5.0, 5.0)
    # no temperatures at all: the defaults stay
    assert ConditionEncoder.fit([_window(date(2013, 1, 1))], default_calendar()) == (
        ConditionEncoder(default_calendar())
    )


def test_round_trip_and_refusal_of_other_features() -> None:
    encoder = ConditionEncoder(default_calendar(), 9.0, 4.0)
    stored = encoder.to_dict()
    assert ConditionEncoder.from_dict(stored, default_calendar()) == encoder
    with pytest.raises(ValueError, match="condition features"):
        ConditionEncoder.from_dict({**stored, "names": ["dow_sin", "dow_cos"]}, default_calendar())
    with pytest.raises(ValueError, match="standardisation"):
        ConditionEncoder.from_dict({**stored, "temperature_std": 0.0}, default_calendar())
