"""The terms read against the usual value at each time of day, and the trained envelopes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from london_model import Trained

from core.envelopes import EntityEnvelopes
from core.normalization import EntityNormalizer
from core.registry import ModelRegistry
from core.scoring.base import DayWindow
from core.scoring.batch_stats import block_mean
from core.scoring.history_terms import (
    METER_TERMS,
    TICKET_TERMS,
    HistoryTermsConfig,
    history_terms,
    terms_for,
)

HOURS = np.arange(48) / 2


def _household(days: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    profile = 0.3 + 1.5 * np.exp(-0.5 * ((HOURS - 19) / 1.5) ** 2)
    return profile * rng.lognormal(0, 0.15, (days, 48))


def _show(days: int, seed: int = 0) -> np.ndarray:
    """Scaled sales: nothing at night, lunch and an evening peak, Poisson-like noise."""
    rng = np.random.default_rng(seed)
    shape = np.where(HOURS >= 8, 0.6, 0.0) + 1.2 * np.exp(-0.5 * ((HOURS - 20) / 1.5) ** 2)
    return shape * rng.lognormal(0, 0.2, (days, 48))


def test_a_day_raised_at_every_hour_is_raised_and_a_busy_evening_is_not() -> None:
    rows = _household(29)
    history, today = rows[:-1], rows[-1]
    busy = np.where(HOURS >= 17, today * 2.5, today)
    on = replace(METER_TERMS, raised_weight=40.0)
    doubled = history_terms((today * 2)[np.newaxis], [history], on)
    evening = history_terms(busy[np.newaxis], [history], on)
    off = history_terms((today * 2)[np.newaxis], [history], METER_TERMS)
    assert doubled.level.sum() > off.level.sum() + 5.0
    assert evening.level.sum() == pytest.approx(
        history_terms(busy[np.newaxis], [history], METER_TERMS).level.sum()
    )


def test_an_outage_inside_the_day_is_a_deficit_and_a_sell_out_is_not() -> None:
    rows = _show(29)
    history, today = rows[:-1], rows[-1]
    outage, sold_out, cheap = today.copy(), today.copy(), today.copy()
    outage[20:28] = 0.0  # 10:00-14:00, sales again after
    sold_out[34:] = 0.0  # 17:00 on: nothing left to sell
    cheap[18:30] /= 4  # six hours at a quarter of the price
    days = {"normal": today, "outage": outage, "sold": sold_out, "cheap": cheap}
    score = {
        name: history_terms(day[np.newaxis], [history], TICKET_TERMS).deficit
        for name, day in days.items()
    }
    assert score["normal"].sum() < 0.1
    assert score["sold"].sum() == 0.0
    assert score["outage"].sum() > 5.0
    assert set(np.flatnonzero(score["outage"][0])) <= set(range(14, 34))
    assert score["cheap"].sum() > 1.0
    assert history_terms(outage[np.newaxis], [history], METER_TERMS).deficit.sum() == 0.0


def test_the_envelope_takes_what_recurs_less_often_than_the_history_sees() -> None:
    rows = _show(29)
    history, on_sale = rows[:-1], rows[-1].copy()
    on_sale[20:24] += 8.0  # the monthly on-sale at 10:00
    bot = on_sale.copy()
    bot[6] += 8.0  # and bots at 03:00
    trained = np.vstack([history, on_sale])  # the training days had an on-sale
    slot_peak = trained.max(axis=0)[np.newaxis]
    block_peak = block_mean(trained, 4).max(axis=0)[np.newaxis]
    envelope = (slot_peak, block_peak)
    seen = history_terms(on_sale[np.newaxis], [history], TICKET_TERMS, envelope)
    unseen = history_terms(on_sale[np.newaxis], [history], TICKET_TERMS)
    bots = history_terms(bot[np.newaxis], [history], TICKET_TERMS, envelope)
    assert seen.excess.sum() == 0.0 < unseen.excess.sum()
    assert bots.excess[0, 6] > 1.0
    unknown = (np.full_like(slot_peak, np.nan), np.full_like(block_peak, np.nan))
    same = history_terms(on_sale[np.newaxis], [history], TICKET_TERMS, unknown)
    assert same.excess.sum() == unseen.excess.sum()


def test_envelopes_are_fitted_per_entity_and_round_trip() -> None:
    rows = _show(10) * 3.0
    windows = [DayWindow("ticket", "EVT-1", date(2013, 1, 1 + i), rows[i]) for i in range(10)]
    normalizer = EntityNormalizer.fit(windows)
    envelopes = EntityEnvelopes.fit(windows, normalizer, 4)
    slot, _ = envelopes.arrays([windows[0], replace(windows[0], entity_id="other")])
    scale = normalizer.scales["EVT-1"]
    np.testing.assert_allclose(slot[0], rows.max(axis=0) / scale, rtol=1e-3)
    assert np.isnan(slot[1]).all()
    assert EntityEnvelopes.from_dict(envelopes.to_dict()) == envelopes
    config = replace(TICKET_TERMS, deficit_slots=6)
    assert HistoryTermsConfig.from_dict({**config.to_dict(), "later": 1}) == config
    assert terms_for("ticket") == TICKET_TERMS and terms_for("meter") == METER_TERMS


def test_a_version_keeps_its_terms_and_envelopes(tmp_path: Path, trained: Trained) -> None:
    registry = ModelRegistry(tmp_path, device="cpu")
    terms = replace(METER_TERMS, envelope=True, deficit_weight=0.25)
    envelopes = EntityEnvelopes.fit(trained.train, trained.normalizer, terms.block_slots)
    metadata = trained.metadata(terms=terms, envelopes=envelopes)
    version = registry.publish("meter", trained.result.model, metadata)
    scorer = registry.load("meter", version)
    assert scorer.terms == terms
    record = registry.describe("meter", version)
    assert record.metadata.envelopes == envelopes
