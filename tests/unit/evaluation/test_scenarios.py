from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from core.scoring.base import DayWindow
from evaluation.injection import anomaly_by_name
from evaluation.scenarios import injected, plan_days, to_series

START = date(2013, 1, 1)
FIRST = date(2013, 3, 1)


def _windows(entities: int = 3, days: int = 120) -> list[DayWindow]:
    rng = np.random.default_rng(0)
    return [
        DayWindow("meter", f"M{e}", START + timedelta(days=d), rng.uniform(0.1, 1.0, 48))
        for e in range(entities)
        for d in range(days)
    ]


def test_positions_are_seeded_spaced_in_the_test_period_and_magnitude_free() -> None:
    series = to_series(_windows())
    spike = anomaly_by_name("spike")
    days = plan_days(series[0], spike, FIRST, seed=7, rate=0.05)
    assert days == plan_days(series[0], spike, FIRST, seed=7, rate=0.05)
    assert days != plan_days(series[0], spike, FIRST, seed=8, rate=0.05)
    assert all(series[0].days[i] >= FIRST for i in days)
    gaps = np.diff([series[0].days[i].toordinal() for i in days])
    assert np.all(gaps >= 8)
    low = injected(series, spike, 3, first=FIRST, seed=7, rate=0.05)
    high = injected(series, spike, 10, first=FIRST, seed=7, rate=0.05)
    np.testing.assert_array_equal(low.labels, high.labels)


def test_windows_carry_labels_and_history_from_the_injected_series() -> None:
    series = to_series(_windows())
    doubled = anomaly_by_name("doubled_day")
    clean = injected(series, None, 0, first=FIRST, seed=7, rate=0.05)
    scenario = injected(series, doubled, 2, first=FIRST, seed=7, rate=0.05)
    assert not clean.labels.any()
    assert len(scenario.windows) == len(clean.windows) == 3 * (120 - 59)
    assert scenario.labels.sum() == 3 * round(0.05 * 61)
    for i in np.flatnonzero(scenario.labels):
        np.testing.assert_allclose(scenario.windows[i].values, 2 * clean.windows[i].values)
        after = scenario.windows[i + 1]
        if after.entity_id == scenario.windows[i].entity_id:
            np.testing.assert_allclose(after.history[-1], scenario.windows[i].values)
    assert all(len(w.history) == 28 for w in scenario.windows)


def test_drift_labels_a_run_of_seven_days() -> None:
    series = to_series(_windows(entities=1))
    scenario = injected(series, anomaly_by_name("drift"), 1, first=FIRST, seed=7, rate=0.05)
    hit = np.flatnonzero(scenario.labels)
    assert hit.size == 7 and np.all(np.diff(hit) == 1)
