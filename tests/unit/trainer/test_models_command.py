"""``anomstream models`` and ``train --once`` without a broker, and the update message.

With a broker: ``tests/integration/trainer/test_trainer_kafka.py``.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from anomstream.commands import models as models_command
from anomstream.commands import train as train_command
from core.registry import ModelRegistry
from core.scoring.base import DayWindow
from trainer.announce import model_update
from trainer.fit import FitConfig
from trainer.pipeline import TrainingPlan, train_and_publish

V1 = "meter-20130301T0000-1"
V2 = "meter-20130301T0000-2"
NO_BROKER = "127.0.0.1:1"  # refused at once


@pytest.fixture(scope="module")
def two_versions(
    tmp_path_factory: pytest.TempPathFactory, trainer_windows: list[DayWindow]
) -> Path:
    root = tmp_path_factory.mktemp("registry")
    registry = ModelRegistry(root, device="cpu")
    plan = TrainingPlan(fit=FitConfig(max_epochs=3), holdout_fraction=0.25)
    for _ in range(2):
        train_and_publish(
            trainer_windows,
            kind="meter",
            registry=registry,
            plan=plan,
            device="cpu",
            timezone="Europe/London",
        )
    return root


@pytest.fixture
def model_dir(two_versions: Path, tmp_path: Path) -> Path:
    root = tmp_path / "models"
    shutil.copytree(two_versions, root)
    return root


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith("ANOMSTREAM_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(train_command, "configure_logging", lambda _settings: None)
    monkeypatch.setattr(models_command, "configure_logging", lambda _settings: None)
    return CliRunner(env={"ANOMSTREAM_KAFKA_BOOTSTRAP": NO_BROKER})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(train_command.train)
    app.command()(models_command.models)
    return app


def test_models_lists_versions_with_the_current_one_marked(run: CliRunner, model_dir: Path) -> None:
    result = run.invoke(_app(), ["models", "--model-dir", str(model_dir)], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert V1 in result.stdout
    assert V2 in result.stdout
    assert "ticket: no model yet" in result.stdout
    [current_line] = [line for line in result.stdout.splitlines() if "*" in line]
    assert V2 in current_line

    result = run.invoke(_app(), ["models", "--model-dir", str(model_dir), "--json"])
    rows = json.loads(result.stdout)["versions"]
    assert [(r["version"], r["current"]) for r in rows] == [(V1, False), (V2, True)]
    assert rows[0]["data_first_day"] == "2013-01-01"
    assert rows[0]["threshold_method"] == "quantile"


def test_a_refused_version_is_listed_with_its_reason(run: CliRunner, model_dir: Path) -> None:
    (model_dir / f"{V1}.json").write_text("{}")
    result = run.invoke(_app(), ["models", "--model-dir", str(model_dir), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["versions"]
    assert "not a valid model document" in rows[0]["error"]
    assert "error" not in rows[1]


def test_models_on_an_empty_directory(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(_app(), ["models", "--model-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["versions"] == []


def test_a_rollback_without_a_broker_is_done_on_disk_and_says_so(
    run: CliRunner, model_dir: Path
) -> None:
    result = run.invoke(_app(), ["models", "--model-dir", str(model_dir), "--rollback", V1])
    assert result.exit_code == models_command.EXIT_UNAVAILABLE
    assert (model_dir / "CURRENT-meter").read_text().strip() == V1
    assert "could not announce" in result.stderr
    assert "next poll" in result.stderr


def test_a_rollback_to_a_missing_or_refused_version_changes_nothing(
    run: CliRunner, model_dir: Path
) -> None:
    result = run.invoke(
        _app(), ["models", "--model-dir", str(model_dir), "--rollback", "meter-20130301T0000-7"]
    )
    assert result.exit_code == 1
    assert "no model version" in result.stderr
    (model_dir / f"{V1}.safetensors").write_bytes(b"garbage")
    result = run.invoke(_app(), ["models", "--model-dir", str(model_dir), "--rollback", V1])
    assert result.exit_code == 1
    assert "refused" in result.stderr
    result = run.invoke(_app(), ["models", "--model-dir", str(model_dir), "--rollback", "nonsense"])
    assert result.exit_code == 1
    assert (model_dir / "CURRENT-meter").read_text().strip() == V2


def test_train_once_without_a_broker_exits_3(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(_app(), ["train", "--once", "--model-dir", str(tmp_path)])
    assert result.exit_code == train_command.EXIT_UNAVAILABLE
    assert "cannot read window-scores" in result.stderr


def test_the_update_message_describes_the_stored_version(model_dir: Path) -> None:
    registry = ModelRegistry(model_dir, device="cpu")
    record = registry.describe("meter", V1)
    published = model_update(registry, "meter", V1, "publish")
    assert published.created_at == record.created
    assert (published.path, published.sha256) == (record.weights_file, record.sha256)
    assert published.threshold == record.metadata.threshold.value
    assert published.metrics == dict(record.metadata.metrics)
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    rolled = model_update(registry, "meter", V1, "rollback", at=at)
    assert (rolled.action, rolled.created_at) == ("rollback", at)
