"""The trainer and the model directory failing while a worker serves a model.

* The trainer process is SIGKILLed mid-training: the current model keeps
  serving (pointer, files and the worker untouched), and the next run resumes
  from the checkpoint and finishes.
* A corrupt, truncated or wrong-shape version is announced, or made current on
  disk: the running worker refuses each one, keeps its model and keeps
  scoring with it, and says so in its log and in
  ``anomstream_model_refused_total``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import orjson
import pytest
from harness import model_files
from harness.days import meter_day
from harness.fleet import Fleet
from harness.kafka_io import produce, read_topic
from harness.scores import window_scores
from harness.workers import WorkerProcess

from anomstream.embedded import ManagedProcess
from anomstream.processes import settings_env
from core.registry import ModelRegistry
from schemas.settings import Settings
from trainer.announce import Announcer, model_update
from trainer.service import TrainerService

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIRST_DAY = date(2013, 1, 7)
ENTITIES, DAYS = 40, 30  # 1,200 scored days: a training of a few seconds
REFUSED = "model refused; keeping the current scorer"


@pytest.fixture
def trainer_settings(fault_settings: Settings, tmp_path: Path) -> Settings:
    return fault_settings.model_copy(
        update={
            "model_dir": tmp_path / "models",
            "device": "cpu",
            "train_min_windows": 100,
            "kafka_idempotent_producer": False,
        }
    )


async def _first_model(settings: Settings) -> str:
    await produce(
        settings.kafka_bootstrap, settings.topic_scores, window_scores(ENTITIES, FIRST_DAY, DAYS)
    )
    [decision] = await TrainerService(settings).run_once(["meter"])
    assert decision.action == "published"
    assert decision.version is not None
    return decision.version


async def _until(condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within:g} s: {what}"
        await asyncio.sleep(0.1)


def _model_in_use(worker: WorkerProcess) -> str | None:
    health = worker.health() or {}
    return health.get("models", {}).get("meter")  # type: ignore[no-any-return]


async def _scored_by(settings: Settings, worker: WorkerProcess, day: date) -> set[str]:
    """Score one more day of a known household; the model versions that judged it."""
    readings = [(b"MAC000001", orjson.dumps(r)) for r in meter_day("MAC000001", day, seed=1)]
    await produce(settings.kafka_bootstrap, settings.topic_readings, readings)
    scores = await read_topic(
        settings.kafka_bootstrap,
        settings.topic_scores,
        until=lambda seen: any(m["day"] == day.isoformat() for m in seen),
    )
    return {m["model_version"] for m in scores if m["day"] == day.isoformat()}


def _train_once(settings: Settings, log_path: Path) -> ManagedProcess:
    argv = [sys.executable, "-m", "anomstream", "train", "--once", "--kind", "meter"]
    env = settings_env(settings, log_format="json")
    process = ManagedProcess("trainer", argv, log_path=log_path, env=env, stop_timeout=60)
    process.start()
    return process


async def test_a_trainer_killed_mid_training_leaves_the_model_serving(
    trainer_settings: Settings, fleet: Fleet, tmp_path: Path
) -> None:
    settings = trainer_settings
    v1 = await _first_model(settings)
    registry = ModelRegistry(settings.model_dir, device="cpu")
    fleet.settings = settings
    worker = fleet.start("w")
    worker.wait_until_serving(assigned=False)
    assert _model_in_use(worker) == v1
    files_before = sorted(p.name for p in settings.model_dir.iterdir() if p.is_file())

    checkpoint = settings.model_dir / "checkpoints" / "meter.safetensors"
    trainer = _train_once(settings, tmp_path / "trainer-1.log")
    try:
        await _until(lambda: checkpoint.exists() or not trainer.running, "a checkpoint", 120)
        trainer.kill()  # mid-training: its first epochs are checkpointed, nothing published
    finally:
        trainer.stop()
    assert trainer.returncode == -9, f"training ended by itself:\n{trainer.log_tail()}"
    assert checkpoint.exists()

    assert registry.current("meter") == v1
    assert registry.list_versions("meter") == [v1]
    assert registry.load("meter", v1).version == v1
    assert sorted(p.name for p in settings.model_dir.iterdir() if p.is_file()) == files_before
    assert _model_in_use(worker) == v1

    # the same data again (so nothing new for the worker to score meanwhile)
    again = _train_once(settings, tmp_path / "trainer-2.log")
    try:
        await _until(lambda: not again.running, "the second training to finish", 180)
    finally:
        again.stop()
    assert again.returncode == 0, again.log_tail()
    assert "resuming training at epoch" in again.log_path.read_text(), again.log_tail()
    assert not checkpoint.exists()  # finished: the next run is another run
    current = registry.current("meter")
    assert current is not None
    assert registry.load("meter", current).version == current
    await _until(lambda: _model_in_use(worker) == current, f"the worker on {current}")
    assert await _scored_by(settings, worker, date(2013, 3, 1)) == {current}


async def test_damaged_models_are_refused_by_a_running_worker(
    trainer_settings: Settings, fleet: Fleet
) -> None:
    settings = trainer_settings
    v1 = await _first_model(settings)
    # the same training again is as good, so it is published too: the victim
    [decision] = await TrainerService(settings).run_once(["meter"])
    v2 = decision.version
    assert decision.action == "published"
    assert v2 is not None
    assert v2 != v1
    registry = ModelRegistry(settings.model_dir, device="cpu")
    registry.rollback("meter", v1)
    fleet.settings = settings
    worker = fleet.start("w")
    worker.wait_until_serving(assigned=False)
    assert _model_in_use(worker) == v1

    pristine = {p: p.read_bytes() for p in settings.model_dir.glob(f"{v2}.*")}
    # made current on disk (a bad rollback, a half-synced directory): refused by the poll
    model_files.truncate(settings.model_dir, v2)
    (settings.model_dir / "CURRENT-meter").write_text(v2)
    await _until(lambda: _refusals(worker) == 1, "a refusal of the pointer")
    assert _model_in_use(worker) == v1
    registry.rollback("meter", v1)

    announcer = Announcer(settings)
    # (damage, announced before it: the trainer's sha256 of the sound file, why refused)
    damages = [
        (model_files.flip_a_byte, True, "sha256"),
        (model_files.truncate, False, "does not parse"),
        (model_files.wrong_shape, False, "where the config needs"),
    ]
    for n, (damage, announced_sound, because) in enumerate(damages, start=2):
        for path, blob in pristine.items():
            path.write_bytes(blob)
        sound = model_update(registry, "meter", v2, "publish")
        damage(settings.model_dir, v2)
        update = sound if announced_sound else model_update(registry, "meter", v2, "publish")
        await announcer.announce(update)
        await _until(lambda n=n: _refusals(worker) == n, f"refusal {n} ({damage.__name__})")
        refusal = [line for line in worker.log_path.read_text().splitlines() if REFUSED in line]
        assert because in refusal[-1], refusal[-1]
        assert _model_in_use(worker) == v1
    assert await _scored_by(settings, worker, date(2013, 3, 1)) == {v1}
    assert worker.running


def _refusals(worker: WorkerProcess) -> float:
    for line in worker.metrics().splitlines():
        if line.startswith('anomstream_model_refused_total{kind="meter"}'):
            return float(line.split()[-1])
    return 0.0
