"""When the trainer service trains, and what it announces (no broker: fake reader and announcer)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from harness.settings import make_settings

from core.registry import ModelRegistry
from core.scoring.base import DayWindow
from schemas import ModelUpdate
from schemas.settings import Settings
from trainer.announce import AnnounceFailed
from trainer.fit import FitConfig
from trainer.pipeline import TrainingPlan
from trainer.service import TrainerService
from trainer.source import LatestWindows, ScoresUnavailable

PLAN = TrainingPlan(
    fit=FitConfig(max_epochs=5),
    holdout_fraction=0.25,
    min_train_windows=100,
    min_holdout_windows=20,
)


class FakeReader:
    """Hands over the windows a test feeds it, as if they had arrived on window-scores."""

    def __init__(self) -> None:
        self.windows = LatestWindows()
        self.pending: list[DayWindow] = []
        self.down = False

    def feed(self, windows: list[DayWindow]) -> None:
        self.pending += windows

    async def read(self) -> int:
        if self.down:
            raise ScoresUnavailable("broker down")
        n = len(self.pending)
        for window in self.pending:
            self.windows.put(0, window)
        self.pending.clear()
        return n


class FakeAnnouncer:
    def __init__(self) -> None:
        self.sent: list[ModelUpdate] = []
        self.down = False

    async def announce(self, update: ModelUpdate) -> None:
        if self.down:
            raise AnnounceFailed("broker down")
        self.sent.append(update)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:  # no broker: shadows the harness fixture
    return make_settings(
        model_dir=tmp_path / "models",
        device="cpu",
        timezone="Europe/London",
        train_min_windows=200,
        train_min_new_windows=100,
        train_interval_seconds=3600,
    )


def make_service(
    settings: Settings, reader: FakeReader | None = None, clock: Clock | None = None
) -> tuple[TrainerService, FakeReader, FakeAnnouncer]:
    reader = reader or FakeReader()
    announcer = FakeAnnouncer()
    service = TrainerService(
        settings,
        registry=ModelRegistry(settings.model_dir, device="cpu"),
        plan=PLAN,
        reader=reader,  # type: ignore[arg-type]
        announcer=announcer,  # type: ignore[arg-type]
        clock=clock or Clock(),
    )
    return service, reader, announcer


def _until(windows: list[DayWindow], day: date) -> list[DayWindow]:
    return [w for w in windows if w.day < day]


def _from(windows: list[DayWindow], day: date) -> list[DayWindow]:
    return [w for w in windows if w.day >= day]


async def test_the_first_model_comes_once_there_is_enough_data(
    settings: Settings, trainer_windows: list[DayWindow]
) -> None:
    service, reader, announcer = make_service(settings)
    reader.feed(_until(trainer_windows, date(2013, 1, 20)))  # 152 windows < 200
    assert await service.check() == []
    assert service.registry.current("meter") is None

    reader.feed(_from(_until(trainer_windows, date(2013, 2, 10)), date(2013, 1, 20)))
    [decision] = await service.check()
    assert decision.action == "published"
    assert decision.first
    assert decision.reason == "no current model"
    assert service.registry.current("meter") == decision.version
    [update] = announcer.sent
    record = service.registry.describe("meter", decision.version or "")
    assert (update.kind, update.version, update.action) == ("meter", decision.version, "publish")
    assert (update.sha256, update.path) == (record.sha256, record.weights_file)
    assert update.threshold == record.metadata.threshold.value
    assert update.metrics is not None
    assert "holdout_mean_score" in update.metrics
    assert not service.checkpoint_path("meter").exists()  # finished runs leave none behind


async def test_retraining_waits_for_new_windows_or_the_schedule(
    settings: Settings, trainer_windows: list[DayWindow]
) -> None:
    clock = Clock()
    service, reader, _ = make_service(settings, clock=clock)
    reader.feed(_until(trainer_windows, date(2013, 2, 1)))
    assert len(await service.check()) == 1

    assert await service.check() == []  # nothing new
    reader.feed(_from(_until(trainer_windows, date(2013, 2, 4)), date(2013, 2, 1)))  # 24 new
    assert service.due("meter") is None
    assert await service.check() == []  # fewer than 100 new, within the hour
    clock.now += 3600
    [decision] = await service.check()
    assert decision.action in {"published", "kept_champion"}
    assert not decision.first

    reader.feed(_from(trainer_windows, date(2013, 2, 4)))  # 200 new, 1 s later
    clock.now += 1
    await reader.read()
    assert service.due("meter") == "200 new windows"


async def test_a_restart_does_not_retrain_the_data_of_the_current_model(
    settings: Settings, trainer_windows: list[DayWindow]
) -> None:
    service, reader, _ = make_service(settings)
    reader.feed(_until(trainer_windows, date(2013, 2, 1)))
    await service.check()
    version = service.registry.current("meter")

    restarted, reader, announcer = make_service(settings)  # same model_dir
    reader.feed(_until(trainer_windows, date(2013, 2, 1)))
    assert await restarted.check() == []
    assert restarted.registry.list_versions("meter") == [version]
    assert announcer.sent == []
    # days after the model's data are new, however the restart happened
    reader.feed(_from(trainer_windows, date(2013, 2, 1)))
    await reader.read()
    assert restarted.due("meter") == "224 new windows"


async def test_an_announcement_that_fails_is_retried_at_the_next_check(
    settings: Settings, trainer_windows: list[DayWindow]
) -> None:
    service, reader, announcer = make_service(settings)
    announcer.down = True
    reader.feed(_until(trainer_windows, date(2013, 2, 1)))
    [decision] = await service.check()
    assert decision.action == "published"
    assert service.pending_announcements == 1
    announcer.down = False
    assert await service.check() == []
    assert [u.version for u in announcer.sent] == [decision.version]
    assert service.pending_announcements == 0


async def test_an_unreadable_topic_is_logged_and_retried(
    settings: Settings, trainer_windows: list[DayWindow]
) -> None:
    service, reader, _ = make_service(settings)
    reader.feed(_until(trainer_windows, date(2013, 2, 1)))
    reader.down = True
    assert await service.check() == []
    reader.down = False
    assert len(await service.check()) == 1


async def test_run_once_reports_too_little_data(
    settings: Settings, trainer_windows: list[DayWindow]
) -> None:
    service, reader, announcer = make_service(settings)
    reader.feed(_until(trainer_windows, date(2013, 1, 5)))
    [decision] = await service.run_once()
    assert decision.action == "not_enough_data"
    assert not decision.trained
    assert "32 meter windows; need 200" in decision.reason
    assert announcer.sent == []
    # nothing at all: both kinds are reported
    empty, _, _ = make_service(settings)
    assert [(d.kind, d.action) for d in await empty.run_once()] == [
        ("meter", "not_enough_data"),
        ("ticket", "not_enough_data"),
    ]


async def test_run_once_reports_too_few_held_out_windows(
    settings: Settings, trainer_windows: list[DayWindow]
) -> None:
    service, reader, _ = make_service(settings)
    day1, day4 = trainer_windows[0], trainer_windows[3]
    assert (day1.day, day4.day) == (date(2013, 1, 1), date(2013, 1, 4))
    # 250 windows, but the latest day (the held-out one) has only one
    many = [DayWindow("meter", f"M{n}", day1.day, day1.values) for n in range(249)]
    reader.feed([*many, day4])
    [decision] = await service.run_once(["meter"])
    assert decision.action == "not_enough_data"
    assert decision.reason == ("249 training and 1 held-out meter windows; need 100 and 20")
