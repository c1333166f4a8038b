from __future__ import annotations

import json
import struct
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import torch

from core.conditions import N_CONDITIONS, ConditionEncoder
from core.normalization import EntityNormalizer
from core.scoring.base import DayWindow
from trainer import memory
from trainer.fit import EpochStats, FitConfig, TrainingSet, build_training_set, fit

Sets = tuple[TrainingSet, TrainingSet]


class Killed(Exception):
    """Stands in for the process dying between two epochs."""


def _weights_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_training_on_london_days_lowers_validation_loss(training_sets: Sets) -> None:
    train, valid = training_sets
    result = fit(train, valid, FitConfig(max_epochs=60), device="cpu")
    assert result.best_valid_loss < 0.5 * result.initial_valid_loss
    assert result.precision == "fp32"
    assert result.device == "cpu"
    assert result.resumed_from_epoch is None
    best = result.history[result.best_epoch - 1]
    assert best.valid_loss == result.best_valid_loss
    assert result.best_valid_loss == min(h.valid_loss for h in result.history)
    assert not result.model.training
    assert next(result.model.parameters()).device.type == "cpu"


def test_a_killed_training_resumes_where_it_stopped(training_sets: Sets, tmp_path: Path) -> None:
    train, valid = training_sets
    config = FitConfig(max_epochs=8, patience=100)
    straight = fit(train, valid, config, device="cpu")

    def die_after_epoch_3(stats: EpochStats) -> None:
        if stats.epoch == 3:
            raise Killed

    checkpoint = tmp_path / "run.safetensors"
    with pytest.raises(Killed):
        fit(
            train,
            valid,
            config,
            device="cpu",
            checkpoint_path=checkpoint,
            on_epoch=die_after_epoch_3,
        )
    resumed = fit(train, valid, config, device="cpu", checkpoint_path=checkpoint)
    assert resumed.resumed_from_epoch == 3
    assert len(resumed.history) == 8
    # the same batches in the same order, the same optimiser and scheduler state:
    assert _weights_equal(resumed.model, straight.model)
    assert [h.valid_loss for h in resumed.history] == [h.valid_loss for h in straight.history]

    # a finished run resumes to its end at once
    again = fit(train, valid, config, device="cpu", checkpoint_path=checkpoint)
    assert again.resumed_from_epoch == 8
    assert _weights_equal(again.model, straight.model)


def test_checkpoint_is_safetensors_and_belongs_to_one_run(
    training_sets: Sets, tmp_path: Path
) -> None:
    train, valid = training_sets
    checkpoint = tmp_path / "checkpoints" / "run.safetensors"
    fit(train, valid, FitConfig(max_epochs=2), device="cpu", checkpoint_path=checkpoint)
    blob = checkpoint.read_bytes()
    assert not blob.startswith((b"\x80", b"PK\x03\x04"))  # neither pickle nor torch.save's zip
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + length])
    state = json.loads(header["__metadata__"]["state"])
    assert state["epoch"] == 2
    assert state["run"]["model"]["latent"] == 2
    assert {"model.encoder.0.weight", "best.encoder.0.weight", "rng.generator"} <= header.keys()

    other_seed = fit(
        train, valid, FitConfig(max_epochs=1, seed=7), device="cpu", checkpoint_path=checkpoint
    )
    assert other_seed.resumed_from_epoch is None  # another run's checkpoint is not resumed
    checkpoint.write_bytes(b"garbage")
    fresh = fit(train, valid, FitConfig(max_epochs=1), device="cpu", checkpoint_path=checkpoint)
    assert fresh.resumed_from_epoch is None  # an unreadable one is not fatal


def test_early_stopping_keeps_the_best_weights(training_sets: Sets) -> None:
    train, valid = training_sets
    # a learning rate of ~0 cannot improve: stop after `patience`, keep the initial weights
    result = fit(
        train, valid, FitConfig(max_epochs=50, patience=3, learning_rate=1e-12), device="cpu"
    )
    assert len(result.history) == 3
    assert result.best_epoch == 0
    assert result.best_valid_loss == result.initial_valid_loss


def test_bf16_autocast_on_cpu_trains_and_fp16_is_refused(training_sets: Sets) -> None:
    train, valid = training_sets
    result = fit(train, valid, FitConfig(max_epochs=2, precision="bf16"), device="cpu")
    assert result.precision == "bf16"
    assert result.best_valid_loss < result.initial_valid_loss
    with pytest.raises(ValueError, match="fp16"):
        fit(train, valid, FitConfig(precision="fp16"), device="cpu")


@pytest.mark.gpu
@pytest.mark.slow
def test_amp_on_cuda_matches_fp32(training_sets: Sets) -> None:
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    train, valid = training_sets
    config = FitConfig(max_epochs=60)
    fp32 = fit(train, valid, FitConfig(max_epochs=60, precision="fp32"), device="cuda")
    amp = fit(train, valid, config, device="cuda")  # auto: bf16 where supported, else fp16
    assert amp.precision in {"bf16", "fp16"}
    assert amp.best_valid_loss < 0.5 * amp.initial_valid_loss
    assert amp.best_valid_loss == pytest.approx(fp32.best_valid_loss, rel=0.1)
    if amp.precision == "bf16":
        fp16 = fit(train, valid, FitConfig(max_epochs=60, precision="fp16"), device="cuda")
        assert fp16.best_valid_loss == pytest.approx(fp32.best_valid_loss, rel=0.1)


def test_batch_size_comes_from_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    assert memory.available_memory(cpu) > 0
    window = 4 * (48 + 48 + N_CONDITIONS)
    size = memory.choose_batch_size(100_000, cpu, window, max_batch_size=1024)
    assert size == 1024  # plenty of memory: the cap binds
    assert memory.choose_batch_size(1_000, cpu, window) == 32  # >= 16 steps an epoch, >= 32
    monkeypatch.setattr(memory, "available_memory", lambda device: 2_000_000)
    small = memory.choose_batch_size(100_000, cpu, window, max_batch_size=1024)
    assert small == 64  # 2 MB * 0.25 / (436 B * 16) = 71 -> power of two below
    assert small & (small - 1) == 0


def test_build_training_set_uses_the_scorers_preparation() -> None:
    values = np.linspace(0.1, 1.0, 48)
    gappy = values.copy()
    gappy[5] = np.nan
    windows = [
        DayWindow("meter", "a", date(2013, 1, 2), values),
        DayWindow("meter", "a", date(2013, 1, 3), gappy, temperature_c=4.0),
        DayWindow("meter", "a", date(2013, 1, 1), np.full(48, np.nan)),  # nothing to learn from
    ]
    normalizer = EntityNormalizer({"a": 0.5})
    data = build_training_set(windows, ConditionEncoder(), normalizer)
    assert len(data) == 2
    assert (data.first_day, data.last_day) == (date(2013, 1, 2), date(2013, 1, 3))
    assert data.values.shape == (2, 48)
    assert data.conditions.shape == (2, N_CONDITIONS)
    assert data.values.dtype == data.present.dtype == data.conditions.dtype == np.float32
    np.testing.assert_allclose(data.values[0], values / 0.5, rtol=1e-6)
    assert data.present[1, 5] == 0.0
    assert (
        data.fingerprint()
        == build_training_set(windows, ConditionEncoder(), normalizer).fingerprint()
    )
    with pytest.raises(ValueError, match="at least one"):
        fit(data, build_training_set([], ConditionEncoder(), normalizer), device="cpu")
