from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from core.normalization import EntityNormalizer, ScaleSource, typical_level
from core.scoring.base import DayWindow

_PROFILE = 1.0 + np.sin(np.linspace(0, 2 * np.pi, 48))  # RMS sqrt(1.5)


def _days(entity: str, size: float, n: int = 10) -> list[DayWindow]:
    start = date(2013, 1, 1)
    return [
        DayWindow("meter", entity, start + timedelta(days=i), size * _PROFILE) for i in range(n)
    ]


def test_typical_level_is_the_median_daily_rms_over_present_slots() -> None:
    days = np.array([[1.0, 1.0, np.nan], [3.0, np.nan, np.nan], [2.0, 2.0, 2.0]])
    assert typical_level(days) == 2.0
    assert typical_level(np.full((2, 3), np.nan)) is None
    assert typical_level(np.empty((0, 48))) is None


def test_a_big_household_looks_like_a_small_one() -> None:
    windows = _days("small", 0.1) + _days("big", 2.0)
    normalizer = EntityNormalizer.fit(windows)
    assert normalizer.scales["big"] / normalizer.scales["small"] == pytest.approx(20.0)
    days = normalizer.normalise([windows[0], windows[-1]])
    np.testing.assert_allclose(days.values[0], days.values[1], rtol=1e-6)
    assert np.sqrt(np.mean(days.values[0].astype(np.float64) ** 2)) == pytest.approx(1.0)
    assert days.sources == (ScaleSource.TRAINED, ScaleSource.TRAINED)


def test_unseen_entities_fall_back_to_history_then_the_day_then_the_floor() -> None:
    normalizer = EntityNormalizer({"known": 2.0}, floor=0.01)
    history = np.stack([_PROFILE * 3.0] * 4)
    day = 5.0 * _PROFILE
    cases = [
        (DayWindow("meter", "known", date(2013, 1, 1), day, history=history), ScaleSource.TRAINED),
        (DayWindow("meter", "new", date(2013, 1, 1), day, history=history), ScaleSource.HISTORY),
        (DayWindow("meter", "new", date(2013, 1, 1), day), ScaleSource.DAY),
        (DayWindow("meter", "new", date(2013, 1, 1), np.full(48, np.nan)), ScaleSource.FLOOR),
        (DayWindow("meter", "idle", date(2013, 1, 1), np.zeros(48)), ScaleSource.DAY),
    ]
    got = [normalizer.scale_for(window) for window, _ in cases]
    assert [source for _, source in got] == [source for _, source in cases]
    rms = float(np.sqrt(np.mean(_PROFILE**2)))
    assert [scale for scale, _ in got] == pytest.approx([2.0, 3 * rms, 5 * rms, 0.01, 0.01])


def test_a_doubled_day_stays_visible_with_history_but_not_scaled_by_itself() -> None:
    normalizer = EntityNormalizer()
    history = np.stack([_PROFILE] * 7)
    doubled = 2.0 * _PROFILE
    with_history = DayWindow("meter", "x", date(2013, 1, 8), doubled, history=history)
    alone = DayWindow("meter", "x", date(2013, 1, 8), doubled)
    days = normalizer.normalise([with_history, alone])
    np.testing.assert_allclose(days.values[0], 2.0 * days.values[1], rtol=1e-6)


def test_missing_slots_are_interpolated_and_masked() -> None:
    values = np.arange(48, dtype=np.float64) + 1.0
    values[[0, 10, 11, 47]] = np.nan
    window = DayWindow("meter", "x", date(2013, 1, 1), values)
    days = EntityNormalizer({"x": 1.0}).normalise(
        [window, DayWindow("meter", "x", date(2013, 1, 2), np.full(48, np.nan))]
    )
    filled = days.values[0]
    assert filled[0] == 2.0  # held flat at the edge
    assert filled[47] == 47.0
    assert filled[10:12] == pytest.approx([11.0, 12.0])  # on the line between 10 and 13
    assert days.present[0, [0, 10, 11, 47]].tolist() == [0, 0, 0, 0]
    assert days.present[0].sum() == 44
    assert not days.values[1].any()  # nothing present: zeros
    assert days.present.dtype == np.float32


def test_json_round_trip_and_validation() -> None:
    normalizer = EntityNormalizer({"a": 0.5, "b": 2.0}, floor=0.001)
    assert EntityNormalizer.from_dict(normalizer.to_dict()) == normalizer
    with pytest.raises(ValueError, match="method"):
        EntityNormalizer.from_dict({**normalizer.to_dict(), "method": "median-daily-mean"})
    with pytest.raises(ValueError, match="positive"):
        EntityNormalizer({"a": 0.0})
    with pytest.raises(ValueError, match="positive"):
        EntityNormalizer({"a": float("nan")})
    with pytest.raises(ValueError, match="48"):
        normalizer.normalise([DayWindow("meter", "a", date(2013, 1, 1), np.ones(46))])
