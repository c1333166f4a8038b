from __future__ import annotations

import numpy as np
import pytest

from core.calibration import (
    Threshold,
    ThresholdMethod,
    calibrate,
    score_summary,
    sure_exceedances,
)


def test_quantile_threshold_gives_the_target_false_alarm_rate() -> None:
    scores = np.random.default_rng(0).lognormal(size=20_000)
    threshold = calibrate(scores, target_rate=0.01)
    assert threshold.method is ThresholdMethod.QUANTILE
    assert threshold.value in scores  # an actual held-out score
    assert threshold.observed_rate == pytest.approx(0.01, abs=0.001)
    fresh = np.random.default_rng(1).lognormal(size=20_000)
    assert (fresh >= threshold.value).mean() == pytest.approx(0.01, abs=0.003)


def test_few_windows_give_the_largest_score_and_say_so() -> None:
    threshold = calibrate([0.1, 0.5, 0.2], target_rate=0.01)
    assert threshold.value == 0.5
    assert threshold.observed_rate == pytest.approx(1 / 3)


def test_a_short_tail_is_extrapolated_beyond_the_largest_score() -> None:
    rng = np.random.default_rng(2)
    few = rng.exponential(size=90)  # the demo's 90 held-out windows
    threshold = calibrate(few, target_rate=0.004)
    assert threshold.value > few.max()
    # the exponential's 99.6th percentile is ln(250) = 5.5; the largest of 90 is ~4.5
    assert threshold.value == pytest.approx(np.log(250), rel=0.35)
    many = rng.exponential(size=100_000)
    assert (many >= threshold.value).mean() < 0.01


def test_mean_plus_k_sigma() -> None:
    scores = np.array([1.0, 2.0, 3.0, 4.0])
    threshold = calibrate(scores, "mean_std", k=2.5)
    assert threshold.value == pytest.approx(2.5 + 2.5 * scores.std())
    assert (threshold.k, threshold.target_rate) == (2.5, None)


def test_all_zero_scores_still_give_a_positive_threshold() -> None:
    assert calibrate(np.zeros(10)).value > 0


@pytest.mark.parametrize("scores", [[], [1.0, float("nan")], [float("inf")]])
def test_bad_scores_are_refused(scores: list[float]) -> None:
    with pytest.raises(ValueError, match="scores"):
        calibrate(scores)


def test_round_trip_and_summary() -> None:
    threshold = calibrate(np.arange(100.0), target_rate=0.05)
    assert Threshold.from_dict(threshold.to_dict()) == threshold
    with pytest.raises(ValueError, match="positive"):
        Threshold.from_dict({**threshold.to_dict(), "value": -1.0})
    summary = score_summary(np.arange(101.0))
    assert summary["p50"] == 50.0
    assert summary["max"] == 100.0
    assert summary["n"] == 101


def test_sure_exceedances_is_the_binomial_order_statistic_bound() -> None:
    # P(Bin(3300, 0.005) >= 11) = 0.92, >= 12 is 0.87: 11 scores may lie above
    assert sure_exceedances(3300, 0.005, 0.9) == 11
    assert sure_exceedances(90, 0.005, 0.9) == 0  # not even one: the tail rule
    assert sure_exceedances(10, 0.5, 0.5) == 5


def test_a_confident_threshold_rarely_overshoots_its_target() -> None:
    rng = np.random.default_rng(3)
    over_plain = over_sure = 0
    for _ in range(200):
        held_out = rng.exponential(size=3300)
        plain = calibrate(held_out, target_rate=0.005)
        sure = calibrate(held_out, target_rate=0.005, confidence=0.9)
        assert sure.value >= plain.value and sure.confidence == 0.9
        # the exponential's true exceedance rate of t is exp(-t)
        over_plain += np.exp(-plain.value) > 0.005
        over_sure += np.exp(-sure.value) > 0.005
    assert over_sure / 200 <= 0.15  # about 1 - confidence
    assert over_plain / 200 >= 0.3  # the plain quantile: about half the time
    assert Threshold.from_dict(sure.to_dict()) == sure


def test_a_confident_threshold_on_few_windows_uses_the_tail() -> None:
    few = np.random.default_rng(4).exponential(size=90)
    assert calibrate(few, target_rate=0.005, confidence=0.9).value >= few.max()
    with pytest.raises(ValueError, match="confidence"):
        calibrate(few, confidence=1.0)
