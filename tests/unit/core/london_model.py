"""Real London days and one model trained on them, for the core's tests.

(A module of its own, not the conftest: test modules import ``Trained`` from
here, and every directory's ``conftest`` shares one module name.)

16 households, January to April 2013, local days in Europe/London (so
2013-03-31 has 46 real slots). Training: January to March; held out: April,
split in two halves: one calibrates the threshold, the other is "normal
days never seen", where false alarms are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from harness.london import london_dir

from core.calibration import Threshold, calibrate
from core.conditions import ConditionEncoder
from core.holidays import default_calendar
from core.metadata import ModelMetadata
from core.normalization import EntityNormalizer
from core.scoring.autoencoder import AutoencoderScorer
from core.scoring.base import DayWindow
from trainer.fit import FitConfig, FitResult, build_training_set, fit
from trainer.london import load_london_windows

HOUSEHOLDS = tuple(
    f"MAC0000{n:02d}" for n in (3, 4, 5, 7, 8, 9, 10, 11, 14, 15, 17, 18, 20, 21, 22, 50)
)
VERSION = "meter-20130501T0000-1"


@dataclass(frozen=True)
class Trained:
    result: FitResult
    scorer: AutoencoderScorer  # threshold calibrated on `calibration`
    threshold: Threshold
    encoder: ConditionEncoder
    normalizer: EntityNormalizer
    train: list[DayWindow]
    calibration: list[DayWindow]
    unseen: list[DayWindow]  # held-out normal days, not used for anything else

    def metadata(self, **fields: Any) -> ModelMetadata:
        """A meter version's metadata for this model; ``fields`` add or override."""
        return ModelMetadata(
            **{
                "kind": "meter",
                "data_first_day": date(2013, 1, 1),
                "data_last_day": date(2013, 4, 30),
                "data_end": datetime(2013, 5, 1, tzinfo=UTC),
                "n_train": len(self.train),
                "n_valid": len(self.calibration),
                "threshold": self.threshold,
                "normalizer": self.normalizer,
                "encoder": self.encoder,
                **fields,
            }
        )


def load_windows() -> list[DayWindow]:
    data = london_dir()
    return load_london_windows(
        data / "readings_2013.csv.gz",
        households=HOUSEHOLDS,
        start=date(2013, 1, 1),
        end=date(2013, 5, 1),
        weather_path=data / "weather_hourly_2013.csv",
    )


def train_model(london_windows: list[DayWindow]) -> Trained:
    train = [w for w in london_windows if w.day < date(2013, 4, 1)]
    held_out = [w for w in london_windows if w.day >= date(2013, 4, 1)]
    calibration = [w for w in held_out if w.day.day % 2 == 0]
    unseen = [w for w in held_out if w.day.day % 2 == 1]
    encoder = ConditionEncoder.fit(train, default_calendar())
    normalizer = EntityNormalizer.fit(train)
    result = fit(
        build_training_set(train, encoder, normalizer),
        build_training_set(calibration, encoder, normalizer),
        FitConfig(max_epochs=60, patience=10),
        device="cpu",
    )
    scorer = AutoencoderScorer(
        result.model,
        kind="meter",
        version=VERSION,
        threshold=1.0,
        encoder=encoder,
        normalizer=normalizer,
        device="cpu",
    )
    threshold = calibrate(scorer.raw_scores(calibration), target_rate=0.01)
    return Trained(
        result,
        scorer.with_threshold(threshold.value),
        threshold,
        encoder,
        normalizer,
        train,
        calibration,
        unseen,
    )
