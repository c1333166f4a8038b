"""The trained level model, its term, and what it changes in a model version."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from london_model import Trained

from core.holidays import default_calendar
from core.level_model import LevelModel
from core.normalization import EntityNormalizer
from core.registry import ModelRegistry
from core.scoring.base import DayWindow
from core.scoring.history_terms import METER_TERMS, history_terms
from core.scoring.level_term import expected_rise, trained_level_term

HOURS = np.arange(48) / 2
CALENDAR = default_calendar()


def _cold_sensitive_days(n: int, seed: int = 0) -> list[DayWindow]:
    """A household that uses 4 % more per degree below 15.5 °C, 10 % noise."""
    rng = np.random.default_rng(seed)
    profile = 0.2 + 1.2 * np.exp(-0.5 * ((HOURS - 19) / 2.0) ** 2)
    out = []
    for i in range(n):
        day = date(2013, 1, 1) + timedelta(days=i)
        temperature = float(rng.uniform(-2, 18))
        level = np.exp(0.04 * max(15.5 - temperature, 0.0) + rng.normal(0, 0.1))
        values = profile * level * rng.lognormal(0, 0.1, 48)
        out.append(DayWindow("meter", "MAC1", day, values, temperature))
    return out


@pytest.fixture(scope="module")
def fitted() -> tuple[LevelModel, EntityNormalizer, list[DayWindow]]:
    days = _cold_sensitive_days(90)
    normalizer = EntityNormalizer.fit(days)
    return LevelModel.fit(days, normalizer, CALENDAR), normalizer, days


def _z(model: LevelModel, normalizer: EntityNormalizer, days: list[DayWindow]) -> np.ndarray:
    scaled = np.stack([d.values for d in days]) / normalizer.scales["MAC1"]
    return np.stack(model.z(days, scaled, CALENDAR), axis=1)


def test_a_cold_day_is_expected_and_a_doubled_day_is_not(
    fitted: tuple[LevelModel, EntityNormalizer, list[DayWindow]],
) -> None:
    model, normalizer, days = fitted
    assert model.uses_temperature
    coefficients = model.fits["MAC1"][0]
    assert coefficients[2] > 0.2  # heating: per 10 degrees, in log units (true: 0.4)
    typical = days[40]
    cold = replace(typical, values=typical.values * np.exp(0.04 * 15), temperature_c=0.5)
    doubled = replace(typical, values=typical.values * 2.0)
    z = _z(model, normalizer, [typical, cold, doubled])
    assert abs(z[0, 0]) < 2.5 and abs(z[1, 0]) < 2.5  # the cold explains the rise
    assert z[2, 0] > 4.0 and z[2, 1] > 4.0  # mean and baseload both raised
    unknown = replace(typical, entity_id="other")
    assert np.isnan(_z(model, normalizer, [unknown])).all()


def test_a_day_without_temperature_gets_the_heating_its_season_had(
    fitted: tuple[LevelModel, EntityNormalizer, list[DayWindow]],
) -> None:
    model, _, days = fitted
    blind = replace(days[10], temperature_c=None)
    x = model.features([blind], CALENDAR)
    assert x[0, 2] == pytest.approx(model.heat_fill[0] + model.heat_fill[1] * x[0, 1])
    without = LevelModel.fit(
        [replace(d, temperature_c=None) for d in days], EntityNormalizer.fit(days), CALENDAR
    )
    assert not without.uses_temperature
    assert without.features(days[:3], CALENDAR)[:, 2].tolist() == [0.0, 0.0, 0.0]


def test_the_term_needs_mean_and_baseload_raised_and_spreads_by_use() -> None:
    cfg = METER_TERMS
    day = np.tile(np.linspace(0.2, 2.0, 48), (3, 1))
    z_mean = np.array([6.0, 6.0, np.nan])
    z_base = np.array([6.0, 0.0, np.nan])  # a busy day: the night's baseload as usual
    term = trained_level_term(day, z_mean, z_base, cfg)
    assert term[0].sum() == pytest.approx(cfg.trained_level_weight * 3.0**2)
    assert term[0, -1] > term[0, 0]  # most where the day uses most
    assert term[1].sum() == 0.0 and term[2].sum() == 0.0
    few = np.where(np.arange(48) < 4, day[0], np.nan)[np.newaxis]
    assert trained_level_term(few, z_mean[:1], z_base[:1], cfg).sum() == 0.0


def test_expected_rise_lets_a_cold_day_peak_higher() -> None:
    days = _cold_sensitive_days(29)
    history = np.stack([d.values for d in days[:-1]])
    usual = np.median(np.log(history.mean(axis=1) + 0.05))
    rise = expected_rise(
        np.array([usual + 0.3, usual - 0.3, np.nan]), np.stack([history] * 3), 0.05
    )
    np.testing.assert_allclose(rise, [0.3, 0.0, 0.0], atol=1e-9)
    peak = history.max(axis=0) * 1.25  # a new high, 25 % above the history's
    off = history_terms(peak[np.newaxis], [history], METER_TERMS)
    allowed = history_terms(peak[np.newaxis], [history], METER_TERMS, allowance=rise[:1])
    assert off.excess.sum() > 0.0 and allowed.excess.sum() < off.excess.sum()


def test_a_lasting_change_is_news_once() -> None:
    days = _cold_sensitive_days(29, seed=3)
    history = np.stack([d.values for d in days[:-1]])
    away = history[-1] * 0.05  # the household leaves...
    first = history_terms(away[np.newaxis], [history], METER_TERMS)
    second = history_terms(away[np.newaxis], [np.vstack([history[1:], away])], METER_TERMS)
    assert first.level.sum() > 1.0
    assert second.level.sum() == 0.0  # ...and is still away: yesterday said so


def test_a_version_keeps_its_level_model(tmp_path: Path, trained: Trained) -> None:
    model = LevelModel.fit(trained.train, trained.normalizer, CALENDAR)
    assert LevelModel.from_dict(model.to_dict()) == model
    registry = ModelRegistry(tmp_path, device="cpu")
    metadata = trained.metadata(terms=METER_TERMS, level_model=model)
    version = registry.publish("meter", trained.result.model, metadata)
    assert registry.describe("meter", version).metadata.level_model == model
    verdicts = registry.load("meter", version).score(trained.unseen[:50])
    assert all("term_trained_level" in v.conditions for v in verdicts)
    older = replace(metadata, level_model=None)  # a version from before: loads, no term
    old = registry.publish("meter", trained.result.model, older)
    assert registry.describe("meter", old).metadata.level_model is None
    assert all(
        v.conditions["term_trained_level"] == 0.0
        for v in registry.load("meter", old).score(trained.unseen[:50])
    )
