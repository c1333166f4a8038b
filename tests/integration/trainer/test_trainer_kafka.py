"""The trainer against a real broker: window-scores in, model versions and model-updates out.

Scored days of real London households are produced to the test's
``window-scores`` as workers would publish them (with revisions); the
trainer reads them back, publishes a model into a temporary registry and
announces it, and a worker-side :class:`ModelWatcher` following
``model-updates`` switches to it, and back on a rollback. The command line
(``train --once``, ``models``, ``models --rollback``) is driven through
typer's runner, including the non-zero exit when there is too little data.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
import typer
from harness.kafka_io import produce, read_topic
from harness.london import london_dir as _london_dir
from pydantic import SecretStr
from typer.testing import CliRunner

from anomstream.commands import models as models_command
from anomstream.commands import train as train_command
from core.days import day_layout
from core.registry import ModelRegistry
from core.scoring.base import DayWindow
from schemas import WindowScore
from schemas.settings import Settings
from stream.metrics import WorkerMetrics
from stream.models import ModelWatcher
from stream.scorers import ScorerSwitch
from trainer.announce import Announcer, model_update
from trainer.fit import FitConfig
from trainer.london import load_london_windows
from trainer.service import TrainerService, plan_from_settings

pytestmark = pytest.mark.integration

LONDON = "Europe/London"
HOUSEHOLDS = ("MAC000003", "MAC000004", "MAC000005", "MAC000007", "MAC000008", "MAC000009")
FIRST_DAY, DAYS = date(2013, 1, 1), 40
V1, V2 = "meter-20130210T0000-1", "meter-20130210T0000-2"


@pytest.fixture(scope="module")
def london() -> list[DayWindow]:
    """40 days of 6 households: 240 windows."""
    data = _london_dir()
    return load_london_windows(
        data / "readings_2013.csv.gz",
        households=HOUSEHOLDS,
        start=FIRST_DAY,
        end=FIRST_DAY + timedelta(days=DAYS),
        weather_path=data / "weather_hourly_2013.csv",
    )


def score_message(window: DayWindow, *, revision: int = 0, scale: float = 1.0) -> bytes:
    """The window-score a worker would publish for ``window`` (baseline detector)."""
    layout = day_layout(window.day, LONDON)
    actual = [None if math.isnan(v) else round(float(v) * scale, 6) for v in window.values]
    message = WindowScore(
        alert_id=f"{window.entity_id}-{window.day}",
        revision=revision,
        kind="meter",
        entity_id=window.entity_id,
        day=window.day,
        timezone=LONDON,
        window_start=layout.start,
        window_end=layout.end,
        score=0.5,
        threshold=9.0,
        detector="baseline",
        model_version="baseline-mad-7d",
        actual=actual,
        expected=[0.2] * 48,
        slots=[],
        missing_slots=[i for i, v in enumerate(actual) if v is None],
        detected_at=layout.end + timedelta(hours=2),
        is_anomaly=False,
        conditions={"history_days": 7, "temperature_c": window.temperature_c},
    )
    return message.model_dump_json().encode()


def messages_for(windows: list[DayWindow]) -> list[tuple[bytes, bytes]]:
    """Every window once, and three of them re-scored: a wrong first revision
    followed by the right one, and a stale revision arriving after a newer one."""
    out = [(w.entity_id.encode(), score_message(w)) for w in windows]
    revised = windows[:3]
    for w in revised:
        out.insert(0, (w.entity_id.encode(), score_message(w, revision=0, scale=50.0)))
        out.append((w.entity_id.encode(), score_message(w, revision=2)))
        out.append((w.entity_id.encode(), score_message(w, revision=1, scale=50.0)))
    return out


@pytest.fixture
def trainer_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "model_dir": tmp_path / "models",
            "device": "cpu",
            "timezone": LONDON,
            "kafka_idempotent_producer": False,  # the embedded broker has none
            "train_min_windows": 100,
            "train_max_epochs": 20,
        }
    )


async def _updates(settings: Settings, n: int, settle: float = 0.0) -> list[dict[str, object]]:
    return await read_topic(
        settings.kafka_bootstrap,
        settings.topic_model_updates,
        until=lambda seen: len(seen) >= n,
        timeout=10,
        settle=settle,
    )


async def _until_version(watcher: ModelWatcher, version: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while watcher.version("meter") != version:
        assert time.monotonic() < deadline, f"still at {watcher.version('meter')}"
        await asyncio.sleep(0.05)


async def test_trained_models_reach_a_running_worker(
    trainer_settings: Settings, london: list[DayWindow]
) -> None:
    settings = trainer_settings
    await produce(settings.kafka_bootstrap, settings.topic_scores, messages_for(london))
    watcher = ModelWatcher(settings, ScorerSwitch(), WorkerMetrics())
    await watcher.start()  # cold start: the baseline scores
    try:
        assert watcher.version("meter").startswith("baseline")

        service = TrainerService(settings)
        [first] = await service.run_once(["meter"])
        assert (first.action, first.version, first.first) == ("published", V1, True)
        windows = service.reader.windows
        assert windows.count("meter") == len(london) == 6 * DAYS
        assert windows.rejected == 0
        by_key = {(w.entity_id, w.day): w for w in windows.windows("meter")}
        for original in london[:3]:  # the latest revision won, whatever the arrival order
            kept = by_key[(original.entity_id, original.day)]
            assert kept.values.tolist() == pytest.approx(original.values.tolist(), nan_ok=True)
            assert kept.temperature_c == pytest.approx(original.temperature_c)

        [update] = await _updates(settings, 1)
        record = ModelRegistry(settings.model_dir).describe("meter", V1)
        assert update["version"] == V1
        assert update["action"] == "publish"
        assert update["sha256"] == record.sha256
        await _until_version(watcher, V1)  # switched by the message, no restart

        # a weak challenger loses on the same held-out days: the champion stays
        weak = replace(
            plan_from_settings(settings), fit=FitConfig(max_epochs=1, learning_rate=1e-6)
        )
        [kept] = await TrainerService(settings, plan=weak).run_once(["meter"])
        assert (kept.action, kept.version) == ("kept_champion", V1)
        # the same run as the first is as good: published, announced, switched to
        [again] = await TrainerService(settings).run_once(["meter"])
        assert (again.action, again.version) == ("published", V2)
        await _until_version(watcher, V2)

        # a rollback announced by an operator brings every worker back
        registry = ModelRegistry(settings.model_dir, device="cpu")
        registry.rollback("meter", V1)
        await Announcer(settings).announce(model_update(registry, "meter", V1, "rollback"))
        await _until_version(watcher, V1)
        updates = await _updates(settings, 3, settle=0.5)
        assert [(u["version"], u["action"]) for u in updates] == [
            (V1, "publish"),
            (V2, "publish"),
            (V1, "rollback"),
        ]
    finally:
        await watcher.stop()


async def test_the_service_trains_the_first_model_by_itself(
    trainer_settings: Settings, london: list[DayWindow]
) -> None:
    settings = trainer_settings.model_copy(update={"train_check_seconds": 0.2})
    stop = asyncio.Event()
    service = asyncio.create_task(TrainerService(settings).run_forever(stop))
    try:
        await asyncio.sleep(0.5)  # a few checks of an empty topic: nothing to train
        assert ModelRegistry(settings.model_dir).current("meter") is None
        await produce(settings.kafka_bootstrap, settings.topic_scores, messages_for(london))
        [update] = await _updates(settings, 1, settle=1.0)  # once, not at every check
        assert (update["version"], update["action"]) == (V1, "publish")
        assert ModelRegistry(settings.model_dir).current("meter") == V1
    finally:
        stop.set()
        await asyncio.wait_for(service, 10)


def _environment(settings: Settings) -> dict[str, str]:
    """``ANOMSTREAM_*`` variables that reproduce ``settings`` for a command."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is not None:
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            env[f"ANOMSTREAM_{name.upper()}"] = str(getattr(text, "value", text))
    return env


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(train_command.train)
    app.command()(models_command.models)
    return app


def test_the_command_line_trains_lists_and_rolls_back(
    trainer_settings: Settings, london: list[DayWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = trainer_settings
    for name in list(os.environ):
        if name.startswith("ANOMSTREAM_"):
            monkeypatch.delenv(name)
    # the commands read the environment, as for an operator; logging stays the test's
    monkeypatch.setattr(train_command, "configure_logging", lambda _settings: None)
    monkeypatch.setattr(models_command, "configure_logging", lambda _settings: None)
    runner = CliRunner(env=_environment(settings))
    app = _cli()

    few = [w for w in london if w.day < FIRST_DAY + timedelta(days=5)]
    asyncio.run(produce(settings.kafka_bootstrap, settings.topic_scores, messages_for(few)))
    result = runner.invoke(app, ["train", "--once", "--kind", "meter"])
    assert result.exit_code == train_command.EXIT_NOT_ENOUGH_DATA, result.output
    assert "too little data" in result.stderr
    assert "30 meter windows; need 100" in result.stderr
    assert not (settings.model_dir / "CURRENT-meter").exists()

    rest = [w for w in london if w.day >= FIRST_DAY + timedelta(days=5)]
    asyncio.run(produce(settings.kafka_bootstrap, settings.topic_scores, messages_for(rest)))
    result = runner.invoke(app, ["train", "--once", "--kind", "meter"])
    assert result.exit_code == 0, result.output
    assert V1 in result.stdout
    assert "first model" in result.stdout
    result = runner.invoke(app, ["train", "--once"])  # every kind seen: meter
    assert result.exit_code == 0, result.output
    assert V2 in result.stdout  # the same data and seed: as good, so published

    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    listed = orjson.loads(result.stdout)["versions"]
    assert [(row["version"], row["current"]) for row in listed] == [(V1, False), (V2, True)]
    row = next(r for r in listed if r["version"] == V1)
    assert row["data_first_day"] == "2013-01-01"
    assert row["data_last_day"] == "2013-02-09"
    assert row["n_train"] + row["n_valid"] == 6 * DAYS
    assert {"valid_loss", "holdout_mean_score"} <= set(row["metrics"])

    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert V1 in result.stdout
    assert "meter models" in result.stdout

    result = runner.invoke(app, ["models", "--rollback", V1])
    assert result.exit_code == 0, result.output
    assert f"current is now {V1}" in result.stdout
    assert (settings.model_dir / "CURRENT-meter").read_text().strip() == V1
    updates = asyncio.run(_updates(settings, 3))
    assert [(u["version"], u["action"]) for u in updates] == [
        (V1, "publish"),
        (V2, "publish"),
        (V1, "rollback"),
    ]

    result = runner.invoke(app, ["models", "--rollback", "meter-20130210T0000-99"])
    assert result.exit_code == 1
    assert "no model version" in result.stderr
