from __future__ import annotations

import hashlib
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from london_model import Trained

from core.autoencoder import AutoencoderConfig, ConditionalAutoencoder
from core.exceptions import ModelRefused, UnknownModel
from core.metadata import ModelMetadata
from core.registry import ModelRegistry, challenger_wins, parse_version


def _metadata(trained: Trained, **metrics: float) -> ModelMetadata:
    return trained.metadata(
        metrics={"holdout_mean_score": 0.3, **metrics}, training=trained.result.summary()
    )


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models", device="cpu")


@pytest.fixture
def published(registry: ModelRegistry, trained: Trained) -> str:
    return registry.publish("meter", trained.result.model, _metadata(trained))


def _json(registry: ModelRegistry, version: str, /) -> dict[str, object]:
    document = json.loads((registry.root / f"{version}.json").read_text())
    assert isinstance(document, dict)
    return document


def _rewrite_json(registry: ModelRegistry, version: str, /, **changes: object) -> None:
    document = {**_json(registry, version), **changes}
    (registry.root / f"{version}.json").write_text(json.dumps(document))


def _replace_weights(registry: ModelRegistry, version: str, blob: bytes) -> None:
    """Write other weights *and* a matching sha256, so only the content check can refuse."""
    (registry.root / f"{version}.safetensors").write_bytes(blob)
    weights = {"file": f"{version}.safetensors", "bytes": len(blob)}
    _rewrite_json(
        registry, version, weights={**weights, "sha256": hashlib.sha256(blob).hexdigest()}
    )


def test_publish_names_lists_and_points_at_the_version(
    registry: ModelRegistry, published: str, trained: Trained
) -> None:
    assert published == "meter-20130501T0000-1"
    assert parse_version(published) == ("meter", "20130501T0000", 1)
    second = registry.publish("meter", trained.result.model, _metadata(trained))
    assert second == "meter-20130501T0000-2"
    assert registry.list_versions("meter") == [published, second]
    assert registry.current("meter") == second
    assert registry.kinds() == ["meter"]
    assert registry.current("ticket") is None
    assert registry.load_current("ticket") is None
    assert sorted(p.name for p in registry.root.iterdir()) == [
        "CURRENT-meter",
        f"{published}.json",
        f"{published}.safetensors",
        f"{second}.json",
        f"{second}.safetensors",
    ]  # no temporary files left behind


def test_the_document_records_what_an_operator_needs(
    registry: ModelRegistry, published: str, trained: Trained
) -> None:
    document = _json(registry, published)
    blob = (registry.root / f"{published}.safetensors").read_bytes()
    assert document["weights"] == {
        "file": f"{published}.safetensors",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
    }
    assert document["data"] == {
        "first_day": "2013-01-01",
        "last_day": "2013-04-30",
        "end": "2013-05-01T00:00:00+00:00",
        "n_train": len(trained.train),
        "n_valid": len(trained.calibration),
    }
    assert document["model"] == AutoencoderConfig().to_dict()
    assert document["threshold"]["method"] == "quantile"  # type: ignore[index]
    assert document["normalization"]["scales"]["MAC000003"] > 0  # type: ignore[index]
    record = registry.describe("meter", published)
    assert record.metadata.threshold == trained.threshold
    assert record.metadata.normalizer == trained.normalizer


def test_the_same_held_out_windows_score_the_same_after_load(
    registry: ModelRegistry, published: str, trained: Trained
) -> None:
    loaded = registry.load("meter", published)
    assert loaded.version == published
    assert loaded.threshold == trained.scorer.threshold
    before = trained.scorer.score(trained.unseen)
    after = loaded.score(trained.unseen)
    np.testing.assert_array_equal([v.score for v in after], [v.score for v in before])
    np.testing.assert_array_equal(after[0].expected, before[0].expected)
    assert [v.conditions for v in after] == [
        {**v.conditions} for v in before
    ]  # same scales, same calendar


def test_the_weights_file_is_plain_safetensors_without_pickle(
    registry: ModelRegistry, published: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = (registry.root / f"{published}.safetensors").read_bytes()
    assert not blob.startswith(b"\x80")  # pickle protocol 2+ opcode
    assert not blob.startswith(b"PK\x03\x04")  # torch.save's zip container
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + length])
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    end = max(spec["data_offsets"][1] for spec in tensors.values())
    assert len(blob) == 8 + length + end  # header + raw little-endian floats, nothing else
    assert {spec["dtype"] for spec in tensors.values()} == {"F32"}
    assert header["__metadata__"]["version"] == published
    assert json.loads(header["__metadata__"]["model_config"]) == AutoencoderConfig().to_dict()

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("loading a model must not unpickle")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    registry.load("meter", published)


def test_a_truncated_file_is_refused(registry: ModelRegistry, published: str) -> None:
    path = registry.root / f"{published}.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelRefused, match="bytes"):
        registry.load("meter", published)
    # even with size and sha256 rewritten to match, it does not parse
    _replace_weights(registry, published, path.read_bytes())
    with pytest.raises(ModelRefused, match="does not parse"):
        registry.load("meter", published)


def test_a_corrupt_file_is_refused(registry: ModelRegistry, published: str) -> None:
    path = registry.root / f"{published}.safetensors"
    blob = bytearray(path.read_bytes())
    blob[-7] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelRefused, match="sha256"):
        registry.load("meter", published)


def test_a_sha256_mismatch_is_refused(registry: ModelRegistry, published: str) -> None:
    weights = _json(registry, published)["weights"]
    _rewrite_json(registry, published, weights={**weights, "sha256": "0" * 64})  # type: ignore[dict-item]
    with pytest.raises(ModelRefused, match="sha256"):
        registry.load("meter", published)


def test_wrong_shapes_are_refused(registry: ModelRegistry, published: str) -> None:
    other = ConditionalAutoencoder(AutoencoderConfig(hidden=16))  # same names, other shapes
    header = {"format": "anomstream-model", "version": published}
    _replace_weights(registry, published, safetensors.torch.save(other.state_dict(), header))
    with pytest.raises(ModelRefused, match=r"where the config needs torch.float32"):
        registry.load("meter", published)


def test_non_finite_weights_are_refused(registry: ModelRegistry, published: str) -> None:
    model = ConditionalAutoencoder(AutoencoderConfig())
    with torch.no_grad():
        model.decoder[2].bias[0] = float("nan")
    header = {"format": "anomstream-model", "version": published}
    _replace_weights(registry, published, safetensors.torch.save(model.state_dict(), header))
    with pytest.raises(ModelRefused, match="non-finite"):
        registry.load("meter", published)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"format_version": 2}, "format"),
        ({"model": {**AutoencoderConfig(n_conditions=5).to_dict()}}, "conditions"),
        ({"model": {**AutoencoderConfig().to_dict(), "activation": "softmax"}}, "activation"),
        (
            {"conditions": {"names": ["dow_sin"], "temperature_mean": 1, "temperature_std": 1}},
            "features",
        ),
        ({"version": "meter-20130501T0000-9"}, "describes"),
        ({"threshold": {"value": "NaN"}}, "valid model document"),
    ],
)
def test_incompatible_documents_are_refused(
    registry: ModelRegistry, published: str, change: dict[str, object], reason: str
) -> None:
    _rewrite_json(registry, published, **change)
    with pytest.raises(ModelRefused, match=reason):
        registry.load("meter", published)


def test_missing_and_unknown_versions(registry: ModelRegistry, published: str) -> None:
    (registry.root / f"{published}.safetensors").unlink()
    with pytest.raises(ModelRefused, match="cannot read"):
        registry.load("meter", published)
    with pytest.raises(UnknownModel):
        registry.load("meter", "meter-20130501T0000-7")
    with pytest.raises(UnknownModel, match="not a model version"):
        registry.load("meter", "../../etc/passwd")
    with pytest.raises(UnknownModel, match="not a 'ticket' model"):
        registry.load("ticket", published)
    with pytest.raises(UnknownModel, match="not a model kind"):
        registry.list_versions("Meter/..")


def test_rollback_moves_current_only_to_a_sound_version(
    registry: ModelRegistry, published: str, trained: Trained
) -> None:
    second = registry.publish("meter", trained.result.model, _metadata(trained))
    registry.rollback("meter", published)
    assert registry.current("meter") == published
    assert registry.load_current("meter") is not None
    (registry.root / f"{second}.safetensors").write_bytes(b"not a model")
    with pytest.raises(ModelRefused):
        registry.rollback("meter", second)
    assert registry.current("meter") == published


def test_publish_without_making_current(registry: ModelRegistry, trained: Trained) -> None:
    version = registry.publish(
        "meter", trained.result.model, _metadata(trained), make_current=False
    )
    assert registry.list_versions("meter") == [version]
    assert registry.current("meter") is None


def test_challenger_wins_only_when_at_least_as_good() -> None:
    champion = {"holdout_mean_score": 0.30}
    assert challenger_wins({"holdout_mean_score": 0.30}, champion)
    assert challenger_wins({"holdout_mean_score": 0.25}, champion)
    assert not challenger_wins({"holdout_mean_score": 0.31}, champion)
    assert challenger_wins({"holdout_mean_score": 0.31}, champion, tolerance=0.05)
    assert not challenger_wins({"holdout_mean_score": float("nan")}, champion)
    assert challenger_wins(champion, {"holdout_mean_score": float("nan")})
    assert challenger_wins({"p99": 1.0}, {"p99": 2.0}, metric="p99")
