from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from core.registry import ModelRegistry
from core.scoring.base import DayWindow
from trainer.exceptions import NotEnoughData
from trainer.fit import FitConfig
from trainer.pipeline import TrainingPlan, split_by_day, train_and_publish

PLAN = TrainingPlan(fit=FitConfig(max_epochs=40), holdout_fraction=0.25)
WEAK = replace(PLAN, fit=FitConfig(max_epochs=1, learning_rate=1e-6))


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models", device="cpu")


def _run(windows: list[DayWindow], registry: ModelRegistry, plan: TrainingPlan = PLAN):  # type: ignore[no-untyped-def]
    return train_and_publish(
        windows, kind="meter", registry=registry, plan=plan, device="cpu", timezone="Europe/London"
    )


def test_split_holds_out_the_latest_days(trainer_windows: list[DayWindow]) -> None:
    train, holdout = split_by_day(trainer_windows, 0.25)
    assert max(w.day for w in train) < min(w.day for w in holdout)
    assert min(w.day for w in holdout) == date(2013, 2, 14)  # 59 days, the last 15 held out
    assert len(train) + len(holdout) == len(trainer_windows)
    with pytest.raises(NotEnoughData):
        split_by_day([w for w in trainer_windows if w.day == date(2013, 1, 1)], 0.25)


def test_first_model_is_published_and_becomes_current(
    trainer_windows: list[DayWindow], registry: ModelRegistry
) -> None:
    outcome = _run(trainer_windows, registry)
    assert outcome.published
    assert outcome.version == "meter-20130301T0000-1"  # data end: local midnight after 28 Feb
    assert outcome.champion is None
    assert registry.current("meter") == outcome.version
    record = registry.describe("meter", outcome.version)
    meta = record.metadata
    assert (meta.data_first_day, meta.data_last_day) == (date(2013, 1, 1), date(2013, 2, 28))
    assert meta.n_train + meta.n_valid == len(trainer_windows)
    assert meta.threshold.method == "quantile"
    assert (meta.threshold.target_rate, meta.threshold.confidence) == (0.005, 0.9)
    assert meta.metrics["holdout_mean_score"] < outcome.fit.initial_valid_loss
    assert meta.training["precision"] == "fp32"
    scorer = registry.load("meter", outcome.version)
    assert scorer.threshold == meta.threshold.value


def test_a_worse_challenger_is_not_published(
    trainer_windows: list[DayWindow], registry: ModelRegistry
) -> None:
    champion = _run(trainer_windows, registry).version
    weak = _run(trainer_windows, registry, WEAK)
    assert not weak.published
    assert weak.champion == champion
    assert weak.champion_metrics is not None
    assert (
        weak.challenger_metrics["holdout_mean_score"] > weak.champion_metrics["holdout_mean_score"]
    )
    assert registry.current("meter") == champion
    assert registry.list_versions("meter") == [champion]
    # as good (the same run again) is good enough
    same = _run(trainer_windows, registry)
    assert same.published
    assert same.version == "meter-20130301T0000-2"


def test_a_refused_champion_is_no_contest(
    trainer_windows: list[DayWindow], registry: ModelRegistry
) -> None:
    champion = _run(trainer_windows, registry).version
    (registry.root / f"{champion}.safetensors").write_bytes(b"broken")
    weak = _run(trainer_windows, registry, WEAK)
    assert weak.published
    assert weak.champion_metrics is None


def test_too_little_data_is_an_error(
    trainer_windows: list[DayWindow], registry: ModelRegistry
) -> None:
    few = [w for w in trainer_windows if w.day < date(2013, 1, 10)]
    with pytest.raises(NotEnoughData, match="need 200"):
        _run(few, registry)
    assert registry.current("meter") is None
