"""The batched history terms give the per-window reference's values on real days."""

from __future__ import annotations

import numpy as np
import pytest
from history_terms_reference import reference_terms

from core.history import with_history
from core.normalization import EntityNormalizer
from core.scoring.base import DayWindow
from core.scoring.batch_stats import block_mean, longest_run, nan_quantile, stack_histories
from core.scoring.history_terms import HistoryTermsConfig, history_terms


def _changed(windows: list[DayWindow]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Scaled days, every fifth one doubled, dead, stuck or with a night load,
    and their scaled histories (1 to 28 days, some with gaps and zero days)."""
    normalizer = EntityNormalizer.fit(windows)
    days, histories = [], []
    for i, window in enumerate(windows):
        scale = normalizer.scale_for(window)[0]
        day = window.values.copy()
        match i % 5:
            case 1:
                day *= 2
            case 2:
                day[30:] = 0.0
            case 3:
                day[10:25] = day[10]
            case 4:
                day[2:10] += 3 * scale
        history = window.history.copy()
        if i % 7 == 0 and len(history) > 10:
            history[5] = 0.0  # a day away between normal days
        days.append(day / scale)
        histories.append(history / scale)
    return np.stack(days), histories


def test_batched_terms_equal_the_per_window_reference(london_windows: list[DayWindow]) -> None:
    days, histories = _changed(with_history(london_windows))
    expected = reference_terms(days, histories)
    before = HistoryTermsConfig(raised_weight=0.0)  # the terms the reference has
    stacked = stack_histories(histories)[0]
    for got in (history_terms(days, histories, before), history_terms(days, stacked, before)):
        for term in ("excess", "level", "stuck"):
            np.testing.assert_allclose(
                getattr(got, term), getattr(expected, term), rtol=1e-9, atol=1e-12
            )
        assert got.history_days.tolist() == expected.history_days.tolist()
    assert (expected.total.sum(axis=1) > 0).mean() > 0.5  # the comparison is not of zeros


def test_stacking_puts_usable_days_last_in_order() -> None:
    a, b = np.full((1, 48), 1.0), np.full((1, 48), 2.0)
    zero, gap = np.zeros((1, 48)), np.full((1, 48), np.nan)
    days, used = stack_histories([np.vstack([a, zero, b, gap]), b])
    assert used.tolist() == [2, 1]
    assert np.isnan(days[0, :2]).all() and (days[0, 2] == 1).all() and (days[0, 3] == 2).all()
    assert np.isnan(days[1, :3]).all() and (days[1, 3] == 2).all()


def test_row_statistics_match_numpy() -> None:
    rng = np.random.default_rng(3)
    rows = rng.lognormal(0, 1, (50, 48))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    rows[7] = np.nan
    want = np.array([np.nan if np.isnan(r).all() else np.nanpercentile(r, 10) for r in rows])
    np.testing.assert_allclose(nan_quantile(rows, 0.1, axis=1), want, rtol=1e-12)
    rolled = np.stack([np.roll(rows, shift, axis=1) for shift in (-2, -1, 0, 1)])
    with pytest.warns(RuntimeWarning):
        want_mean = np.nanmean(rolled, axis=0)
    np.testing.assert_allclose(block_mean(rows, 4), want_mean, rtol=1e-12)
    stuck = np.arange(48.0)[np.newaxis].repeat(2, axis=0)
    stuck[0, 40:] = 5.0
    stuck[1, 0:4] = 1.0
    assert longest_run(stuck)[0].tolist() == [7, 3]
    assert longest_run(stuck)[1].tolist() == [47, 3]
