from __future__ import annotations

import numpy as np
import pytest

from evaluation.injection import METER_ANOMALIES, anomaly_by_name
from evaluation.tickets import TICKET_ANOMALIES

LEVEL = 0.3


def _day(seed: int = 0, days: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 1.0, (days, 48))


def _apply(
    name: str, magnitude: float, seed: int = 1, days: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    anomaly = anomaly_by_name(name, (*METER_ANOMALIES, *TICKET_ANOMALIES))
    before = _day(days=days)
    after = anomaly.apply(before, np.random.default_rng(seed), magnitude, LEVEL)
    return before, after


@pytest.mark.parametrize("anomaly", [*METER_ANOMALIES, *TICKET_ANOMALIES], ids=lambda a: a.name)
def test_every_type_changes_the_day_is_seeded_and_never_in_place(anomaly) -> None:
    before = _day(days=anomaly.days)
    kept = before.copy()
    first = anomaly.apply(before, np.random.default_rng(3), anomaly.moderate, LEVEL)
    again = anomaly.apply(before, np.random.default_rng(3), anomaly.moderate, LEVEL)
    np.testing.assert_array_equal(before, kept)
    np.testing.assert_array_equal(first, again)
    assert first.shape == before.shape
    assert not np.array_equal(first, before)
    assert anomaly.magnitudes[0] < anomaly.magnitudes[1] < anomaly.magnitudes[2]


def test_spike_sets_one_to_four_slots_to_m_times_the_larger_of_value_and_level() -> None:
    before, after = _apply("spike", 6)
    changed = np.flatnonzero(before[0] != after[0])
    assert 1 <= changed.size <= 4
    assert np.all(np.diff(changed) == 1)
    np.testing.assert_allclose(after[0, changed], 6 * np.maximum(before[0, changed], LEVEL))


def test_dead_meter_kills_the_last_part_with_zeros_or_its_flat_mean() -> None:
    for seed in range(8):
        before, after = _apply("dead_meter", 0.5, seed)
        np.testing.assert_array_equal(after[0, :24], before[0, :24])
        tail = after[0, 24:]
        assert np.all(tail == 0) or np.allclose(tail, before[0, 24:].mean())


def test_stuck_repeats_one_reading_for_h_hours() -> None:
    before, after = _apply("stuck", 6)
    changed = np.flatnonzero(before[0] != after[0])
    assert changed.size == 12
    assert np.all(after[0, changed] == after[0, changed[0] - 1])


def test_night_load_adds_m_levels_between_one_and_five() -> None:
    before, after = _apply("night_load", 3)
    changed = np.flatnonzero(before[0] != after[0])
    assert 4 <= changed.size <= 8
    assert changed.min() >= 2 and changed.max() <= 9
    np.testing.assert_allclose(after[0, changed] - before[0, changed], 3 * LEVEL)


def test_doubled_shifted_and_drift() -> None:
    before, after = _apply("doubled_day", 2)
    np.testing.assert_allclose(after, 2 * before)
    before, after = _apply("shifted", 4.5)
    assert any(np.array_equal(after[0], np.roll(before[0], s)) for s in (9, -9))
    before, after = _apply("drift", 1, days=7)
    np.testing.assert_allclose(after[-1], 2 * before[-1])
    ratios = (after / before).mean(axis=1)
    assert np.all(np.diff(ratios) > 0)


def test_ticket_outage_and_price_error() -> None:
    before, after = _apply("sales_outage", 4)
    changed = before[0] != after[0]
    assert changed.sum() == 8 and np.all(after[0, changed] == 0)
    before, after = _apply("price_error", 4)
    changed = before[0] != after[0]
    assert changed.sum() == 12
    np.testing.assert_allclose(after[0, changed], before[0, changed] / 4)
