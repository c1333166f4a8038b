"""The baseline scorer (each entity against its own recent days), and the
contract every :class:`~core.scoring.base.Scorer` must pass."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pytest
import torch
from harness.days import profile

from core.autoencoder import AutoencoderConfig, ConditionalAutoencoder
from core.conditions import ConditionEncoder
from core.days import MODEL_SLOTS
from core.normalization import EntityNormalizer
from core.scoring.autoencoder import AutoencoderScorer
from core.scoring.base import DayWindow, Scorer, Verdict
from core.scoring.baseline import BaselineConfig, BaselineScorer

FloatArray = npt.NDArray[np.float64]

DAY = date(2013, 3, 21)
NIGHT = slice(2, 10)  # 01:00 to 05:00
PROFILE = np.array([profile(slot) for slot in range(MODEL_SLOTS)])


def typical_day(rng: np.random.Generator, scale: float = 1.0) -> FloatArray:
    """A household's ordinary day: the harness profile with ±10 % noise per slot."""
    return PROFILE * scale * rng.lognormal(0.0, 0.1, MODEL_SLOTS)


def history(rng: np.random.Generator, days: int = 20, scale: float = 1.0) -> FloatArray:
    return np.stack([typical_day(rng, scale) for _ in range(days)])


def window(
    values: FloatArray,
    past: FloatArray,
    *,
    entity: str = "MAC000002",
    day: date = DAY,
    temperature_c: float | None = None,
) -> DayWindow:
    return DayWindow("meter", entity, day, values, temperature_c=temperature_c, history=past)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20130321)


@pytest.fixture
def scorer() -> BaselineScorer:
    return BaselineScorer()


def score_one(scorer: Scorer, w: DayWindow) -> Verdict:
    (verdict,) = scorer.score([w])
    return verdict


# --- what the baseline finds and what it leaves alone ---------------------------


def test_a_typical_day_is_not_anomalous(scorer: BaselineScorer, rng: np.random.Generator) -> None:
    past = history(rng)
    for _ in range(10):
        verdict = score_one(scorer, window(typical_day(rng), past))
        assert not verdict.is_anomaly
        assert verdict.severity is None
        assert verdict.score < verdict.threshold / 2


def test_a_night_time_load_alerts_and_is_explained_by_night_slots(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    values = typical_day(rng)
    values[NIGHT] += 5.0
    verdict = score_one(scorer, window(values, history(rng)))
    assert verdict.is_anomaly
    assert verdict.severity is not None
    top = verdict.top_slots()
    assert top
    assert set(top) <= set(range(2, 10))
    night_share = verdict.contributions[NIGHT].sum() / verdict.score
    assert night_share > 0.95


def test_a_dead_meter_alerts(scorer: BaselineScorer, rng: np.random.Generator) -> None:
    verdict = score_one(scorer, window(np.zeros(MODEL_SLOTS), history(rng)))
    assert verdict.is_anomaly
    # every slot is lower than usual, so every slot contributes
    assert (verdict.contributions > 0).all()


def test_the_scale_of_a_household_does_not_matter(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    small = score_one(scorer, window(typical_day(rng, 0.2), history(rng, scale=0.2)))
    big = score_one(scorer, window(typical_day(rng, 5.0), history(rng, scale=5.0)))
    assert not small.is_anomaly
    assert not big.is_anomaly


# --- the verdict's numbers --------------------------------------------------------


def test_contributions_are_non_negative_and_sum_to_the_score(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    past = history(rng)
    night = typical_day(rng)
    night[NIGHT] += 5.0
    for values in (typical_day(rng), night, np.zeros(MODEL_SLOTS), typical_day(rng) * 3):
        verdict = score_one(scorer, window(values, past))
        assert verdict.contributions.shape == (MODEL_SLOTS,)
        assert (verdict.contributions >= 0).all()
        assert verdict.contributions.sum() == pytest.approx(verdict.score, rel=1e-12, abs=1e-12)


def test_expected_is_the_history_median_in_kwh(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    past = history(rng, scale=2.5)
    verdict = score_one(scorer, window(typical_day(rng, 2.5), past))
    # With 20 days the median falls between the two middle days, whatever
    # transform is taken before the median (it is monotone).
    low = np.percentile(past, 50, axis=0, method="lower")
    high = np.percentile(past, 50, axis=0, method="higher")
    assert (verdict.expected >= low - 1e-9).all()
    assert (verdict.expected <= high + 1e-9).all()
    assert np.allclose(verdict.expected, np.median(past, axis=0), rtol=0.05)
    # kWh on the household's scale, not normalised units
    assert verdict.expected.mean() == pytest.approx(PROFILE.mean() * 2.5, rel=0.1)


def test_missing_slots_contribute_nothing(scorer: BaselineScorer, rng: np.random.Generator) -> None:
    past = history(rng)
    values = typical_day(rng)
    values[NIGHT] += 5.0
    gappy = values.copy()
    gappy[[3, 4, 20, 21]] = np.nan
    verdict = score_one(scorer, window(gappy, past))
    assert verdict.contributions[[3, 4, 20, 21]].tolist() == [0.0] * 4
    assert np.isfinite(verdict.expected).all()
    assert verdict.contributions.sum() == pytest.approx(verdict.score)
    # the rest of the night load is still found
    assert verdict.is_anomaly


def test_a_day_with_no_reading_scores_zero(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    verdict = score_one(scorer, window(np.full(MODEL_SLOTS, np.nan), history(rng)))
    assert verdict.score == 0.0
    assert not verdict.is_anomaly
    assert np.isfinite(verdict.expected).all()


def test_all_nan_history_rows_are_ignored(scorer: BaselineScorer, rng: np.random.Generator) -> None:
    past = history(rng)
    values = typical_day(rng)
    values[NIGHT] += 5.0
    empty = np.full((5, MODEL_SLOTS), np.nan)
    padded = np.concatenate([empty[:2], past[:10], empty[2:], past[10:]])
    clean = score_one(scorer, window(values, past))
    noisy = score_one(scorer, window(values, padded))
    assert noisy.conditions["history_days"] == 20
    assert noisy.score == pytest.approx(clean.score, rel=1e-12)
    assert np.allclose(noisy.expected, clean.expected)
    assert np.allclose(noisy.contributions, clean.contributions)


def test_partly_missing_history_days_still_count(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    past = history(rng)
    past[::2, 30:40] = np.nan  # every other day lost its evening
    verdict = score_one(scorer, window(typical_day(rng), past))
    assert verdict.conditions["history_days"] == 20
    assert np.isfinite(verdict.expected).all()
    assert not verdict.is_anomaly


def test_a_slot_missing_from_every_history_day_falls_back_to_the_level(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    past = history(rng)
    past[:, 7] = np.nan
    with warnings.catch_warnings():  # numpy's "All-NaN slice": see the xfail below
        warnings.simplefilter("ignore", RuntimeWarning)
        verdict = score_one(scorer, window(typical_day(rng), past))
    assert np.isfinite(verdict.expected).all()
    assert np.isfinite(verdict.contributions).all()
    assert verdict.expected[7] == pytest.approx(float(np.nanmean(past)), rel=1e-9)


@pytest.mark.parametrize("days", [20, 3], ids=["judging", "warming-up"])
def test_a_slot_missing_from_every_history_day_does_not_warn(
    scorer: BaselineScorer, rng: np.random.Generator, days: int
) -> None:
    past = history(rng, days=days)
    past[:, 7] = np.nan
    verdict = score_one(scorer, window(typical_day(rng), past))
    assert np.isfinite(verdict.expected).all()


# --- warming up -----------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, 1, 6])
def test_too_little_history_never_alerts_and_says_so(
    scorer: BaselineScorer, rng: np.random.Generator, days: int
) -> None:
    past = history(rng, days=days) if days else np.empty((0, MODEL_SLOTS))
    for values in (np.zeros(MODEL_SLOTS), typical_day(rng) + 5.0):
        verdict = score_one(scorer, window(values, past))
        assert not verdict.is_anomaly
        assert verdict.score == 0.0
        assert verdict.conditions["warming_up"] is True
        assert verdict.conditions["history_days"] == days
        assert verdict.expected.shape == (MODEL_SLOTS,)
        assert np.isfinite(verdict.expected).all()
    if days:
        assert np.allclose(verdict.expected, past.mean(axis=0))


def test_all_nan_rows_do_not_count_towards_warming_up(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    past = np.concatenate([history(rng, days=6), np.full((10, MODEL_SLOTS), np.nan)])
    values = np.zeros(MODEL_SLOTS)
    verdict = score_one(scorer, window(values, past))
    assert verdict.conditions == {"history_days": 6, "warming_up": True}
    assert not verdict.is_anomaly


def test_judging_says_it_is_not_warming_up(
    scorer: BaselineScorer, rng: np.random.Generator
) -> None:
    verdict = score_one(scorer, window(typical_day(rng), history(rng, days=7)))
    assert verdict.conditions == {"history_days": 7, "warming_up": False}


def test_min_history_is_configurable(rng: np.random.Generator) -> None:
    scorer = BaselineScorer(BaselineConfig(min_history=3))
    assert scorer.version == "baseline-mad-3d"
    verdict = score_one(scorer, window(np.zeros(MODEL_SLOTS), history(rng, days=3)))
    assert verdict.conditions["warming_up"] is False
    assert verdict.is_anomaly


# --- the contract every scorer passes ---------------------------------------------------


def scorer_contract(scorer: Scorer, windows: Sequence[DayWindow]) -> list[Verdict]:
    """What the stream worker relies on from any :class:`Scorer`."""
    assert isinstance(scorer.detector, str)
    assert scorer.detector
    assert isinstance(scorer.version, str)
    assert scorer.version
    assert scorer.score([]) == []
    verdicts = scorer.score(windows)
    assert isinstance(verdicts, list)
    assert len(verdicts) == len(windows)
    for w, verdict in zip(windows, verdicts, strict=True):
        assert isinstance(verdict, Verdict)
        assert verdict.detector == scorer.detector
        assert verdict.model_version == scorer.version
        assert verdict.expected.shape == (MODEL_SLOTS,)
        assert verdict.contributions.shape == (MODEL_SLOTS,)
        assert np.isfinite(verdict.expected).all()
        assert (verdict.expected >= 0).all()  # kWh and currency are never negative
        assert np.isfinite(verdict.contributions).all()
        assert (verdict.contributions >= 0).all()
        assert math.isfinite(verdict.score)
        assert verdict.contributions.sum() == pytest.approx(verdict.score, rel=1e-9, abs=1e-12)
        assert math.isfinite(verdict.threshold)
        assert verdict.threshold > 0
        assert (verdict.severity is not None) == verdict.is_anomaly
        # missing slots explain nothing
        assert (verdict.contributions[np.isnan(w.values)] == 0).all()
        for name, value in verdict.conditions.items():
            assert isinstance(name, str)
            assert value is None or isinstance(value, bool | int | float | str)
            if isinstance(value, float):
                assert math.isfinite(value), name
    # in order: each verdict is the one its window gets alone
    for w, verdict in zip(windows, verdicts, strict=True):
        alone = score_one(scorer, w)
        assert alone.score == pytest.approx(verdict.score, rel=1e-5, abs=1e-9)
        assert np.allclose(alone.expected, verdict.expected, rtol=1e-5, atol=1e-9)
    return verdicts


def contract_windows(rng: np.random.Generator) -> list[DayWindow]:
    """A mixed batch: entities of different sizes, gaps, a dead meter, no history."""
    past = history(rng)
    big_past = history(rng, scale=4.0)
    night = typical_day(rng)
    night[NIGHT] += 5.0
    gappy = typical_day(rng)
    gappy[[0, 1, 17, 47]] = np.nan
    return [
        window(typical_day(rng), past),
        window(night, past, temperature_c=4.5),
        window(typical_day(rng, 4.0), big_past, entity="MAC000099"),
        window(np.zeros(MODEL_SLOTS), past, day=DAY + timedelta(days=1)),
        window(gappy, past, temperature_c=12.0),
        window(np.full(MODEL_SLOTS, np.nan), past),
        window(typical_day(rng), np.empty((0, MODEL_SLOTS)), entity="NEW"),
        window(typical_day(rng), history(rng, days=3), entity="YOUNG"),
    ]


def tiny_autoencoder() -> AutoencoderScorer:
    """An untrained autoencoder of the default (tiny) size: the contract does
    not depend on how good the model is."""
    torch.manual_seed(0)
    return AutoencoderScorer(
        ConditionalAutoencoder(AutoencoderConfig()),
        kind="meter",
        version="meter-20130301T0000-1",
        threshold=0.5,
        encoder=ConditionEncoder(),
        normalizer=EntityNormalizer({"MAC000002": float(np.sqrt((PROFILE**2).mean()))}),
        device="cpu",
    )


@pytest.mark.parametrize(
    "make", [BaselineScorer, tiny_autoencoder], ids=["baseline", "autoencoder"]
)
def test_scorer_contract(make: Callable[[], Scorer], rng: np.random.Generator) -> None:
    verdicts = scorer_contract(make(), contract_windows(rng))
    assert {v.detector for v in verdicts} <= {"baseline", "autoencoder"}


def test_the_baseline_judges_the_contract_batch_as_expected(rng: np.random.Generator) -> None:
    verdicts = BaselineScorer().score(contract_windows(rng))
    assert [v.is_anomaly for v in verdicts] == [
        False,
        True,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert [v.conditions["warming_up"] for v in verdicts][-2:] == [True, True]


def test_a_scorer_is_deterministic(rng: np.random.Generator) -> None:
    windows = contract_windows(rng)
    for scorer in (BaselineScorer(), tiny_autoencoder()):
        first = scorer.score(windows)
        again = scorer.score([replace(w) for w in windows])
        assert [v.score for v in first] == [v.score for v in again]
