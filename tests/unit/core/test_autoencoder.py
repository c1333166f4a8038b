from __future__ import annotations

import pytest
import torch

from core.autoencoder import AutoencoderConfig, ConditionalAutoencoder, resolve_device, slot_errors
from core.conditions import N_CONDITIONS


def test_default_is_the_case_study_architecture() -> None:
    model = ConditionalAutoencoder(AutoencoderConfig())
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    c = N_CONDITIONS
    assert shapes == {
        "encoder.0.weight": (8, 48 + c),
        "encoder.0.bias": (8,),
        "encoder.2.weight": (2, 8),
        "encoder.2.bias": (2,),
        "decoder.0.weight": (8, 2 + c),
        "decoder.0.bias": (8,),
        "decoder.2.weight": (48, 8),
        "decoder.2.bias": (48,),
    }
    values, conditions = torch.rand(5, 48), torch.rand(5, c)
    assert model.encode(values, conditions).shape == (5, 2)
    assert model(values, conditions).shape == (5, 48)


def test_sizes_are_configurable() -> None:
    config = AutoencoderConfig(hidden=16, latent=4, n_conditions=3, activation="tanh")
    model = ConditionalAutoencoder(config)
    assert model(torch.rand(2, 48), torch.rand(2, 3)).shape == (2, 48)
    assert isinstance(model.encoder[1], torch.nn.Tanh)


def test_config_round_trips_strictly() -> None:
    config = AutoencoderConfig(hidden=12, activation="gelu")
    assert AutoencoderConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="keys"):
        AutoencoderConfig.from_dict({**config.to_dict(), "dropout": 0.1})
    with pytest.raises(ValueError, match="activation"):
        AutoencoderConfig.from_dict({**config.to_dict(), "activation": "os.system"})
    with pytest.raises(ValueError, match="latent"):
        AutoencoderConfig(latent=0)


def test_slot_errors_mask_missing_slots_and_sum_to_the_mse_over_present() -> None:
    values = torch.tensor([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]])
    reconstruction = torch.tensor([[0.0, 2.0, 5.0, 100.0], [0.0, 0.0, 0.0, 0.0]])
    present = torch.tensor([[1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    errors = slot_errors(reconstruction, values, present)
    assert errors[0].tolist() == pytest.approx([1 / 3, 0.0, 4 / 3, 0.0])
    assert errors[0].sum().item() == pytest.approx((1 + 0 + 4) / 3)
    assert errors[1].abs().sum().item() == 0.0  # nothing present: nothing to judge


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError, match="auto, cpu or cuda"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
