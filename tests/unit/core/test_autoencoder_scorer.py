from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from london_model import VERSION, Trained

from core.conditions import ConditionEncoder
from core.normalization import EntityNormalizer, typical_level
from core.scoring.autoencoder import AutoencoderScorer
from core.scoring.base import DayWindow, Scorer


def _surge(window: DayWindow, scale: float, slots: slice, factor: float) -> DayWindow:
    values = window.values.copy()
    values[slots] = np.nan_to_num(values[slots]) + factor * scale
    return replace(window, values=values)


def test_it_is_a_scorer(trained: Trained) -> None:
    scorer: Scorer = trained.scorer
    assert scorer.detector == "autoencoder"
    assert scorer.version == VERSION
    assert scorer.score([]) == []


def test_contributions_sum_to_the_score_and_skip_missing_slots(trained: Trained) -> None:
    windows = trained.unseen[:50]
    gappy = windows[0].values.copy()
    gappy[[3, 20, 21]] = np.nan
    windows = [replace(windows[0], values=gappy), *windows[1:]]
    verdicts = trained.scorer.score(windows)
    assert len(verdicts) == len(windows)
    for verdict in verdicts:
        assert verdict.contributions.shape == (48,)
        assert verdict.contributions.sum() == pytest.approx(verdict.score, rel=1e-12, abs=1e-12)
        assert (verdict.contributions >= 0).all()
        assert verdict.threshold == trained.threshold.value
        assert verdict.model_version == VERSION
    assert verdicts[0].contributions[[3, 20, 21]].tolist() == [0.0, 0.0, 0.0]
    assert verdicts[0].conditions["missing_slots"] == 3
    assert verdicts[0].conditions["scale_source"] == "trained"


def test_expected_is_in_kwh_at_the_households_scale(trained: Trained) -> None:
    verdicts = trained.scorer.score(trained.unseen)
    ratios = []
    for window, verdict in zip(trained.unseen, verdicts, strict=True):
        present = ~window.missing
        assert (verdict.expected >= 0).all()
        if window.values[present].sum() > 0:
            ratios.append(verdict.expected[present].sum() / window.values[present].sum())
    assert 0.8 < float(np.median(ratios)) < 1.25
    # and households of very different sizes are expected at their own size
    by_entity: dict[str, list[float]] = {}
    for window, verdict in zip(trained.unseen, verdicts, strict=True):
        by_entity.setdefault(window.entity_id, []).append(float(verdict.expected.mean()))
    levels = {entity: np.median(v) for entity, v in by_entity.items()}
    for entity, level in levels.items():
        assert level == pytest.approx(trained.normalizer.scales[entity], rel=0.8)
    assert max(levels.values()) > 4 * min(levels.values())


def test_batched_and_one_by_one_scores_agree(trained: Trained) -> None:
    windows = trained.unseen[:20]
    batched = trained.scorer.raw_scores(windows)
    single = [trained.scorer.raw_scores([w])[0] for w in windows]
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-7)


def test_an_injected_night_surge_is_flagged_and_normal_days_mostly_are_not(
    trained: Trained,
) -> None:
    scorer, scales = trained.scorer, trained.normalizer.scales
    normal = scorer.score(trained.unseen)
    false_alarms = np.mean([v.is_anomaly for v in normal])
    assert false_alarms <= 0.05
    # 02:00-03:30: three slots at 10x the household's typical half hour on top
    surged = [_surge(w, scales[w.entity_id], slice(4, 7), 10.0) for w in trained.unseen]
    verdicts = scorer.score(surged)
    assert np.mean([v.is_anomaly for v in verdicts]) >= 0.9
    # and the explanation points at the injected slots
    explained = [set(v.top_slots(limit=3)) for v in verdicts if v.is_anomaly]
    assert np.mean([s == {4, 5, 6} for s in explained]) >= 0.9
    assert all(v.severity is not None for v in verdicts if v.is_anomaly)


def test_unseen_households_are_scaled_from_their_history(trained: Trained) -> None:
    window = trained.unseen[0]
    history = np.stack([w.values for w in trained.train if w.entity_id == window.entity_id][-14:])
    stranger = replace(window, entity_id="NEW-METER", history=history)
    verdict = trained.scorer.score([stranger])[0]
    assert verdict.conditions["scale_source"] == "history"
    assert verdict.conditions["scale"] == pytest.approx(typical_level(history))
    assert np.isfinite(verdict.score)


def test_a_window_of_another_kind_is_refused(trained: Trained) -> None:
    ticket = replace(trained.unseen[0], kind="ticket")
    with pytest.raises(ValueError, match="cannot score"):
        trained.scorer.score([ticket])


def test_threshold_must_be_positive(trained: Trained) -> None:
    with pytest.raises(ValueError, match="threshold"):
        AutoencoderScorer(
            trained.result.model,
            kind="meter",
            version=VERSION,
            threshold=0.0,
            encoder=ConditionEncoder(),
            normalizer=EntityNormalizer(),
            device="cpu",
        )


def test_a_fully_missing_day_scores_zero(trained: Trained) -> None:
    empty = DayWindow("meter", "MAC000003", date(2013, 4, 2), np.full(48, np.nan))
    verdict = trained.scorer.score([empty])[0]
    assert verdict.score == 0.0
    assert not verdict.is_anomaly
