"""The uniform rise: every percentile of the day above its history moved to today's weather."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from core.history import with_history
from core.holidays import default_calendar
from core.level_model import LevelModel
from core.normalization import EntityNormalizer
from core.scoring.base import DayWindow
from core.scoring.history_terms import METER_TERMS, HistoryTermsConfig
from core.scoring.level_term import uniform_rise_term
from core.scoring.uniform_rise import uniform_rise, uniform_z

HOURS = np.arange(48) / 2
CALENDAR = default_calendar()
PROFILE = 0.2 + 1.2 * np.exp(-0.5 * ((HOURS - 19) / 2.0) ** 2)


def _days(n: int, temperature: float | None = None, seed: int = 0) -> list[DayWindow]:
    """A household that uses 4 % more per degree below 15.5 °C, 10 % noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = float(rng.uniform(-2, 18)) if temperature is None else temperature
        level = np.exp(0.04 * max(15.5 - t, 0.0) + rng.normal(0, 0.05))
        values = PROFILE * level * rng.lognormal(0, 0.05, 48)
        out.append(DayWindow("meter", "MAC1", date(2013, 1, 1) + timedelta(days=i), values, t))
    return out


@pytest.fixture(scope="module")
def fitted() -> tuple[LevelModel, EntityNormalizer]:
    days = _days(120)
    normalizer = EntityNormalizer.fit(days)
    return LevelModel.fit(days, normalizer, CALENDAR), normalizer


def _z(fitted: tuple[LevelModel, EntityNormalizer], windows: list[DayWindow]) -> np.ndarray:
    model, normalizer = fitted
    scale = normalizer.scales["MAC1"]
    values = np.stack([w.values for w in windows]) / scale
    histories = np.stack([w.history for w in windows]) / scale
    rows = np.arange(len(windows))
    return uniform_z(
        windows,
        rows,
        values,
        histories,
        model.expected(windows, CALENDAR),
        model=model,
        calendar=CALENDAR,
        c=model.log_offset,
        spread_floor=0.1,
        min_present=36,
        min_days=7,
    )


def _today(history: list[DayWindow], values: np.ndarray, temperature: float) -> DayWindow:
    """A day after ``history`` (mild days), with its history as the worker gives it."""
    day = DayWindow("meter", "MAC1", history[-1].day + timedelta(days=1), values, temperature)
    return with_history([*history, day])[-1]


def test_a_raised_day_rises_at_every_percentile_a_busy_evening_does_not(
    fitted: tuple[LevelModel, EntityNormalizer],
) -> None:
    mild = _days(28, temperature=15.5, seed=1)
    usual = np.median([d.values for d in mild], axis=0)
    evening = usual.copy()
    evening[36:44] *= 3.0  # guests for dinner: the peak, not the night
    z = _z(fitted, [_today(mild, v, 15.5) for v in (usual, usual * 1.8, evening)])
    assert abs(z[0]) < 1.0
    assert z[1] > 4.0  # about log(1.8) over the 0.1 floor of the spread, at every percentile
    assert z[2] < 1.0  # its 10th-50th percentile half hours are as usual


def test_the_history_is_moved_to_today_s_weather(
    fitted: tuple[LevelModel, EntityNormalizer],
) -> None:
    mild = _days(28, temperature=15.5, seed=2)
    cold = np.median([d.values for d in mild], axis=0) * np.exp(0.04 * 15)  # a day at 0.5 °C
    today = _today(mild, cold, 0.5)
    explained, blind = _z(fitted, [today, replace(today, history_temperatures=np.empty(0))])
    assert explained < 1.5  # its history, made cold, used as much
    assert blind > explained + 2.0  # without them: mild January days filled in by darkness
    undated = replace(today, history_days=())
    assert np.isnan(_z(fitted, [undated])).all()  # which days they were is not known: no term


def test_the_term_needs_both_and_spreads_by_value() -> None:
    cfg = METER_TERMS
    day = np.tile(PROFILE, (4, 1))
    lifted = np.array([5.0, 1.0, 5.0, np.nan])
    uniform = np.array([5.0, 5.0, 1.0, 5.0])
    term = uniform_rise_term(day, lifted, uniform, cfg)
    expected = cfg.uniform_rise_weight * (5.0 - cfg.uniform_rise_free_z) ** 2
    assert term[0].sum() == pytest.approx(expected)
    assert term[0].argmax() == PROFILE.argmax()  # most where it used most
    slack = 1.0 + cfg.uniform_rise_level_slack - cfg.uniform_rise_free_z
    assert term[1].sum() == pytest.approx(cfg.uniform_rise_weight * max(slack, 0.0) ** 2)
    assert term[2].sum() == 0.0 and term[3].sum() == 0.0


def test_only_days_the_trained_level_reaches_are_computed(
    fitted: tuple[LevelModel, EntityNormalizer],
) -> None:
    model, normalizer = fitted
    mild = _days(28, temperature=15.5, seed=3)
    usual = np.median([d.values for d in mild], axis=0)
    windows = [_today(mild, usual * 2.0, 15.5), _today(mild, usual * 2.0, 15.5)]
    values = np.stack([w.values for w in windows]) / normalizer.scales["MAC1"]
    histories = np.stack([w.history for w in windows]) / normalizer.scales["MAC1"]
    lifted = np.array([4.0, -1.0])  # the second: its trained level says nothing
    term = uniform_rise(
        windows,
        values,
        histories,
        model.expected(windows, CALENDAR),
        lifted,
        model=model,
        calendar=CALENDAR,
        cfg=METER_TERMS,
    )
    assert term[0].sum() > 0.0 and term[1].sum() == 0.0


def test_a_version_calibrated_before_the_term_keeps_scoring_without_it() -> None:

    stored = {k: v for k, v in METER_TERMS.to_dict().items() if not k.startswith("uniform_rise")}
    assert HistoryTermsConfig.from_dict(stored).uniform_rise_weight == 0.0
    assert HistoryTermsConfig.from_dict(METER_TERMS.to_dict()) == METER_TERMS
