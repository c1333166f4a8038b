from __future__ import annotations

import numpy as np
import pytest

from core.scoring.history_terms import HistoryTermsConfig, history_terms

HOURS = np.arange(48) / 2


def _household(days: int, seed: int = 0) -> np.ndarray:
    """Scaled days: a night baseload, an evening peak, noise."""
    rng = np.random.default_rng(seed)
    profile = 0.3 + 1.5 * np.exp(-0.5 * ((HOURS - 19) / 1.5) ** 2)
    return profile * rng.lognormal(0, 0.15, (days, 48))


def _terms(day: np.ndarray, history: np.ndarray):
    return history_terms(day[np.newaxis, :], [history])


def test_a_normal_day_costs_little_and_no_history_costs_nothing() -> None:
    rows = _household(29)
    normal = _terms(rows[-1], rows[:-1])
    assert normal.total.sum() < 1.0
    assert normal.history_days.tolist() == [28]
    alone = _terms(rows[-1], rows[:3])  # less than a week: the reconstruction alone judges
    assert alone.total.sum() == 0.0


@pytest.mark.parametrize(
    ("change", "term"),
    [
        (lambda d: d * 2, "level"),
        (np.zeros_like, "stuck"),
        (lambda d: np.where((HOURS >= 1) & (HOURS < 4), d + 3, d), "excess"),
    ],
    ids=["doubled", "dead", "night load"],
)
def test_level_dead_and_night_anomalies_raise_their_term(change, term) -> None:
    rows = _household(29)
    normal = _terms(rows[-1], rows[:-1])
    changed = _terms(change(rows[-1]), rows[:-1])
    assert getattr(changed, term).sum() > getattr(normal, term).sum() + 0.2
    assert changed.total.sum() > 5 * normal.total.sum()


def test_a_stuck_reading_is_put_on_its_slots_and_the_history_run_is_allowed() -> None:
    rows = _household(29)
    day = rows[-1].copy()
    day[10:22] = day[9]
    stuck = _terms(day, rows[:-1]).stuck[0]
    assert set(np.flatnonzero(stuck)) == set(range(9, 22))
    assert stuck.sum() == pytest.approx((12 - 2) ** 2)
    history = rows[:-1].copy()
    history[3, 10:22] = history[3, 9]  # it did this before: allowed
    assert _terms(day, history).stuck.sum() == 0.0


def test_all_zero_history_days_are_no_evidence_and_missing_slots_cost_nothing() -> None:
    rows = _household(29)
    history = rows[:-1].copy()
    history[:20] = 0.0  # away for weeks, then back
    back = _terms(rows[-1], history)
    assert back.history_days.tolist() == [8]
    assert back.level.sum() == 0.0
    gappy = rows[-1] * 3
    gappy[:24] = np.nan
    terms = _terms(gappy, rows[:-1])
    assert (terms.total[0, :24] == 0).all()
    assert np.isfinite(terms.total).all()


def test_weights_scale_their_terms() -> None:
    rows = _household(29)
    day = np.where((HOURS >= 1) & (HOURS < 4), rows[-1] + 3, rows[-1])
    base = history_terms(day[np.newaxis], [rows[:-1]])
    double = history_terms(
        day[np.newaxis],
        [rows[:-1]],
        HistoryTermsConfig(excess_weight=2.0, block_weight=24.0),
    )
    assert double.excess.sum() == pytest.approx(2 * base.excess.sum())
