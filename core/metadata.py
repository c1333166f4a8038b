"""What a model version records besides its weights: the ``<version>.json`` document.

Everything is JSON (never pickle), so reading it cannot run code::

    {"format": "anomstream-model", "format_version": 1,
     "version": "meter-20130301T0000-3", "kind": "meter", "detector": "autoencoder",
     "created": "2026-11-22T04:00:12+00:00",
     "data": {"first_day": "2013-01-01", "last_day": "2013-02-28",
              "end": "2013-03-01T00:00:00+00:00", "n_train": 3120, "n_valid": 780},
     "metrics": {"valid_loss": 0.31, "holdout_mean_score": 0.30, "holdout_p99_score": 1.9, ...},
     "training": {"epochs": 41, "precision": "bf16", "device": "cuda", ...},
     "threshold": {"value": 1.92, "method": "quantile", "target_rate": 0.01, ...},
     "normalization": {"method": "median-daily-rms", "floor": 0.001, "scales": {...}},
     "terms": {"excess_weight": 1.0, ...},            (optional: history terms used)
     "envelopes": {"block_slots": 4, "peaks": {...}},  (optional: core.envelopes)
     "level_model": {"features": [...], "fits": {...}, ...},  (optional: core.level_model)
     "conditions": {"names": [...], "temperature_mean": 11.3, "temperature_std": 5.8, ...},
     "model": {"n_slots": 48, "n_conditions": 13, "hidden": 8, "latent": 2, ...},
     "weights": {"file": "meter-20130301T0000-3.safetensors", "sha256": "...", "bytes": 4512}}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from core.autoencoder import AutoencoderConfig
from core.calibration import Threshold
from core.conditions import ConditionEncoder
from core.envelopes import EntityEnvelopes
from core.holidays import HolidayCalendar
from core.level_model import LevelModel
from core.normalization import EntityNormalizer
from core.scoring.history_terms import HistoryTermsConfig

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelMetadata", "ModelRecord"]

FORMAT = "anomstream-model"
FORMAT_VERSION = 1


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """What the trainer knows about a model it hands to ``ModelRegistry.publish``."""

    kind: str
    data_first_day: date
    data_last_day: date
    data_end: datetime  # aware: the instant the training data ends (names the version)
    n_train: int
    n_valid: int
    threshold: Threshold
    normalizer: EntityNormalizer
    encoder: ConditionEncoder
    metrics: Mapping[str, float] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    # optional (absent in older versions): the history terms the threshold was
    # calibrated with, and the entities' trained envelopes (core.envelopes)
    terms: HistoryTermsConfig | None = None
    envelopes: EntityEnvelopes | None = None
    level_model: LevelModel | None = None  # optional too: the trained level (meters)

    def __post_init__(self) -> None:
        if self.data_end.tzinfo is None:
            raise ValueError("data_end must be timezone-aware")
        object.__setattr__(self, "metrics", _frozen(self.metrics))
        object.__setattr__(self, "training", _frozen(self.training))


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One stored version: its metadata plus what the registry added."""

    version: str
    created: datetime
    config: AutoencoderConfig
    sha256: str
    size: int
    metadata: ModelMetadata

    @property
    def weights_file(self) -> str:
        return f"{self.version}.safetensors"

    def to_json(self) -> str:
        meta = self.metadata
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "kind": meta.kind,
            "detector": "autoencoder",
            "created": self.created.isoformat(),
            "data": {
                "first_day": meta.data_first_day.isoformat(),
                "last_day": meta.data_last_day.isoformat(),
                "end": meta.data_end.isoformat(),
                "n_train": meta.n_train,
                "n_valid": meta.n_valid,
            },
            "metrics": dict(meta.metrics),
            "training": dict(meta.training),
            "threshold": meta.threshold.to_dict(),
            "normalization": meta.normalizer.to_dict(),
            "conditions": meta.encoder.to_dict(),
            "model": self.config.to_dict(),
            "weights": {"file": self.weights_file, "sha256": self.sha256, "bytes": self.size},
        }
        if meta.terms is not None:
            document["terms"] = meta.terms.to_dict()
        if meta.envelopes is not None:
            document["envelopes"] = meta.envelopes.to_dict()
        if meta.level_model is not None:
            document["level_model"] = meta.level_model.to_dict()
        # allow_nan=False: a NaN metric is a bug to catch here, not a file to write.
        return json.dumps(document, indent=2, sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str, calendar: HolidayCalendar) -> ModelRecord:
        """Parse and validate; ``ValueError``/``KeyError``/``TypeError`` on anything off."""
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise TypeError("the document is not a JSON object")
        if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"format {doc.get('format')!r} v{doc.get('format_version')!r} is not "
                f"{FORMAT!r} v{FORMAT_VERSION}"
            )
        data, weights = doc["data"], doc["weights"]
        metrics = {str(k): float(v) for k, v in doc["metrics"].items()}
        if not all(math.isfinite(v) for v in metrics.values()):
            raise ValueError("metrics must be finite")
        metadata = ModelMetadata(
            kind=str(doc["kind"]),
            data_first_day=date.fromisoformat(data["first_day"]),
            data_last_day=date.fromisoformat(data["last_day"]),
            data_end=datetime.fromisoformat(data["end"]),
            n_train=int(data["n_train"]),
            n_valid=int(data["n_valid"]),
            threshold=Threshold.from_dict(doc["threshold"]),
            normalizer=EntityNormalizer.from_dict(doc["normalization"]),
            encoder=ConditionEncoder.from_dict(doc["conditions"], calendar),
            metrics=metrics,
            training=dict(doc["training"]),
            terms=HistoryTermsConfig.from_dict(doc["terms"]) if "terms" in doc else None,
            envelopes=EntityEnvelopes.from_dict(doc["envelopes"]) if "envelopes" in doc else None,
            level_model=(
                LevelModel.from_dict(doc["level_model"]) if "level_model" in doc else None
            ),
        )
        return cls(
            version=str(doc["version"]),
            created=datetime.fromisoformat(doc["created"]),
            config=AutoencoderConfig.from_dict(doc["model"]),
            sha256=str(weights["sha256"]),
            size=int(weights["bytes"]),
            metadata=metadata,
        )
