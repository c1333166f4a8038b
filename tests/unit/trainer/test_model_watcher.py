"""The worker's model watcher against a real registry holding two trained versions.

Valid updates switch the scorer; corrupt, truncated, wrong-shape or
mis-announced files, unknown versions and undecodable messages are refused:
the scorer in use stays and ``anomstream_model_refused`` counts them. A
pointer moved on disk (a rollback by the CLI) is picked up by ``poll``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import safetensors.torch
from harness.model_files import flip_a_byte, rewrite_weights, truncate, weights_path, wrong_shape
from harness.settings import make_settings

from core.registry import ModelRegistry, safetensors_metadata
from core.scoring.base import DayWindow
from stream.metrics import WorkerMetrics
from stream.models import ModelWatcher
from stream.scorers import ScorerSwitch
from trainer.announce import model_update
from trainer.fit import FitConfig
from trainer.pipeline import TrainingPlan, train_and_publish

V1 = "meter-20130301T0000-1"
V2 = "meter-20130301T0000-2"
BASELINE = ScorerSwitch().scorer("meter").version


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, trainer_windows: list[DayWindow]) -> Path:
    """Two versions of the same quick training; V1 current."""
    root = tmp_path_factory.mktemp("registry")
    registry = ModelRegistry(root, device="cpu")
    plan = TrainingPlan(fit=FitConfig(max_epochs=5), holdout_fraction=0.25)
    for _ in range(2):  # the same run twice: as good, so published
        train_and_publish(
            trainer_windows,
            kind="meter",
            registry=registry,
            plan=plan,
            device="cpu",
            timezone="Europe/London",
        )
    assert registry.list_versions("meter") == [V1, V2]
    registry.rollback("meter", V1)
    return root


class World:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.registry = ModelRegistry(root, device="cpu")
        self.switch = ScorerSwitch()
        self.metrics = WorkerMetrics()
        settings = make_settings(model_dir=root, device="cpu")
        self.watcher = ModelWatcher(settings, self.switch, self.metrics, self.registry)

    def refused(self, kind: str = "meter") -> float:
        value = self.metrics.registry.get_sample_value(
            "anomstream_model_refused_total", {"kind": kind}
        )
        return value or 0.0

    def shown(self, kind: str, version: str) -> float | None:
        return self.metrics.registry.get_sample_value(
            "anomstream_model_info", {"kind": kind, "version": version}
        )

    def update(self, version: str = V2, action: str = "publish") -> bytes:
        message = model_update(self.registry, "meter", version, action)  # type: ignore[arg-type]
        return message.model_dump_json().encode()


@pytest.fixture
def world(pristine: Path, tmp_path: Path) -> World:
    root = tmp_path / "models"
    shutil.copytree(pristine, root)
    return World(root)


def test_startup_installs_the_current_version_and_keeps_the_baseline_elsewhere(
    world: World,
) -> None:
    assert world.watcher.load_current() == {"meter": V1, "ticket": BASELINE}
    assert world.switch.scorer("meter").version == V1
    assert world.shown("meter", V1) == 1
    assert world.shown("ticket", BASELINE) == 1
    assert world.refused() == 0


def test_startup_without_models_keeps_the_baseline(tmp_path: Path) -> None:
    empty = World(tmp_path / "none")
    assert empty.watcher.load_current() == {"meter": BASELINE, "ticket": BASELINE}


async def test_a_valid_update_switches_and_moves_the_gauge(world: World) -> None:
    world.watcher.load_current()
    assert await world.watcher.on_update(world.update(V2))
    assert world.switch.scorer("meter").version == V2
    assert world.shown("meter", V2) == 1
    assert world.shown("meter", V1) is None  # the old label is gone
    # the same update again (a redelivery) changes nothing
    assert not await world.watcher.on_update(world.update(V2))
    assert world.refused() == 0


async def test_a_rollback_update_switches_back(world: World) -> None:
    world.watcher.load_current()
    await world.watcher.on_update(world.update(V2))
    world.registry.rollback("meter", V1)
    assert await world.watcher.on_update(world.update(V1, "rollback"))
    assert world.switch.scorer("meter").version == V1


def _weights(world: World, version: str = V2) -> Path:
    return weights_path(world.root, version)


async def _assert_refused(world: World, message: bytes, because: str, kind: str = "meter") -> None:
    before = world.refused(kind)
    assert not await world.watcher.on_update(message)
    assert world.switch.scorer("meter").version == V1  # kept
    assert world.shown("meter", V1) == 1
    assert world.refused(kind) == before + 1
    assert world.watcher.last_refusal is not None
    assert because in world.watcher.last_refusal[2]


async def test_a_corrupt_file_is_refused_and_the_current_model_kept(world: World) -> None:
    world.watcher.load_current()
    message = world.update(V2)
    flip_a_byte(world.root, V2)
    await _assert_refused(world, message, "sha256")


async def test_a_truncated_file_is_refused(world: World) -> None:
    world.watcher.load_current()
    message = world.update(V2)
    blob = _weights(world).read_bytes()
    _weights(world).write_bytes(blob[: len(blob) // 2])
    await _assert_refused(world, message, "bytes")


async def test_a_truncated_file_is_refused_even_with_a_matching_record(world: World) -> None:
    world.watcher.load_current()
    truncate(world.root, V2)
    await _assert_refused(world, world.update(V2), "does not parse")


async def test_a_wrong_shape_file_is_refused(world: World) -> None:
    world.watcher.load_current()
    wrong_shape(world.root, V2)
    await _assert_refused(world, world.update(V2), "where the config needs")


async def test_a_file_that_is_not_the_announced_one_is_refused(world: World) -> None:
    world.watcher.load_current()
    announced = world.update(V2)
    blob = _weights(world).read_bytes()
    # a valid model file (record consistent), but not the one whose sha256 the update carries
    tensors = {name: t * 1.01 for name, t in safetensors.torch.load(blob).items()}
    rewrite_weights(
        world.root, V2, safetensors.torch.save(tensors, metadata=safetensors_metadata(blob))
    )
    assert world.registry.load("meter", V2).version == V2
    await _assert_refused(world, announced, "is not the announced")


async def test_unknown_versions_and_undecodable_messages_are_refused(world: World) -> None:
    world.watcher.load_current()
    unknown = world.update(V2).replace(V2.encode(), b"meter-20130301T0000-9")
    await _assert_refused(world, unknown, "no model version")
    await _assert_refused(world, b"{not json", "not a valid model update", kind="unknown")
    await _assert_refused(world, b'{"kind": "meter", "version": "x"}', "version", kind="meter")


async def test_poll_follows_the_pointer_and_does_not_retry_a_refused_version(
    world: World,
) -> None:
    world.watcher.load_current()
    assert await world.watcher.poll() == []  # nothing moved
    world.registry.rollback("meter", V2)  # e.g. `anomstream models --rollback` elsewhere
    assert await world.watcher.poll() == ["meter"]
    assert world.switch.scorer("meter").version == V2
    assert await world.watcher.poll() == []

    (world.root / "CURRENT-meter").write_text(f"{V1}\n")
    _weights(world, V1).write_bytes(b"garbage")
    assert await world.watcher.poll() == []
    assert world.switch.scorer("meter").version == V2
    assert world.refused() == 1
    assert await world.watcher.poll() == []
    assert world.refused() == 1  # refused once, not every 5 s


async def test_a_refused_current_model_at_startup_leaves_the_baseline(world: World) -> None:
    _weights(world, V1).write_bytes(b"garbage")
    assert world.watcher.load_current()["meter"] == BASELINE
    assert world.refused() == 1
    assert world.shown("meter", BASELINE) == 1
