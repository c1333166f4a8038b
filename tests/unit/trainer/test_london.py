from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from trainer.london import load_london_windows


def test_local_days_map_daylight_saving_days_to_48_model_slots(london_data: Path) -> None:
    data = london_data / "readings_2013.csv.gz"
    windows = load_london_windows(
        data,
        households=["MAC000003"],
        start=date(2013, 3, 30),
        end=date(2013, 4, 2),
        history_days=2,
    )
    by_day = {w.day: w for w in windows}
    assert sorted(by_day) == [date(2013, 3, 30), date(2013, 3, 31), date(2013, 4, 1)]
    spring = by_day[date(2013, 3, 31)]  # 46 real slots in Europe/London
    assert spring.values.shape == (48,)
    assert not spring.missing.any()  # the skipped hour is interpolated, not missing
    # 01:00-02:00 local does not exist: model slots 2 and 3 lie on the line from 1 to 4
    v = spring.values
    assert v[2:4] == pytest.approx([v[1] + (v[4] - v[1]) / 3, v[1] + 2 * (v[4] - v[1]) / 3])
    assert by_day[date(2013, 4, 1)].history.shape == (2, 48)
    assert by_day[date(2013, 3, 30)].history.shape == (0, 48)
    assert all(w.kind == "meter" and w.entity_id == "MAC000003" for w in windows)


def test_utc_days_and_temperatures(london_data: Path) -> None:
    data = london_data
    windows = load_london_windows(
        data / "readings_2013.csv.gz",
        households=["MAC000003", "MAC000050"],
        start=date(2013, 1, 1),
        end=date(2013, 1, 8),
        timezone="UTC",
        weather_path=data / "weather_hourly_2013.csv",
    )
    first = windows[0]
    assert (first.entity_id, first.day) == ("MAC000003", date(2013, 1, 1))
    assert first.values[0] == pytest.approx(1.966)  # the file's first reading, 00:00 UTC
    assert all(w.temperature_c is not None and -10 < w.temperature_c < 20 for w in windows)
    assert all(np.isfinite(w.values[~w.missing]).all() for w in windows)
