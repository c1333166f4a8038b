"""The autoencoder scorer: reconstruction error of a day plus the day against its
entity's history, explained slot by slot.

For a micro-batch of windows, in one forward pass under
``torch.inference_mode()`` on the scorer's device:

* input: each day's 48 values divided by the entity's scale
  (:mod:`core.normalization`), missing slots filled, plus the condition
  features (:mod:`core.conditions`);
* ``expected``: the reconstruction, clamped at 0 (readings and sales are
  never negative) and multiplied back by the scale, in kWh or currency;
* ``contributions[i]``: ``(actual_i - expected_i)² / scale² / n_present``
  for present slots, 0 for missing ones, i.e. the squared error in
  normalised units spread over the present slots;
* plus, per slot, the history terms of :mod:`core.scoring.history_terms`
  (``excess``, ``level``, ``stuck``: what the entity's recent days say the
  day should not do; 0 without a week of history), in the same normalised
  units;
* plus ``trained_level`` (:mod:`core.scoring.level_term`): the day's mean
  and baseload against the entity's trained level model
  (:mod:`core.level_model`), which needs no history; and ``uniform_rise``
  (:mod:`core.scoring.uniform_rise`): every percentile of the day above its
  history days, each moved to today's conditions by that model;
* ``score``: the sum of all contributions (reconstruction error + history
  terms), so contributions add up to the score exactly. Computed in float64
  from the float32 per-slot errors. Each term's share is in the verdict's
  conditions (``term_reconstruction``, ``term_excess``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from core.autoencoder import AutoencoderConfig, ConditionalAutoencoder, resolve_device, slot_errors
from core.conditions import ConditionEncoder
from core.envelopes import EntityEnvelopes
from core.level_model import LevelModel
from core.normalization import EntityNormalizer, ScaleSource
from core.scoring.base import DayWindow, Verdict
from core.scoring.history_terms import HistoryTerms, HistoryTermsConfig, history_terms, terms_for
from core.scoring.level_term import expected_rise, lifted_z, trained_level_term
from core.scoring.uniform_rise import uniform_rise

__all__ = ["AutoencoderScorer", "ModelInputs", "model_inputs"]

FloatArray = npt.NDArray[np.float64]
DETECTOR = "autoencoder"


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """What the network sees for a batch of windows (CPU, float32)."""

    values: npt.NDArray[np.float32]  # (n, 48) normalised, missing filled
    present: npt.NDArray[np.float32]  # (n, 48) 1 = reading present
    conditions: npt.NDArray[np.float32]  # (n, C)
    scales: FloatArray  # (n,)
    sources: tuple[ScaleSource, ...]


def model_inputs(
    windows: Sequence[DayWindow], encoder: ConditionEncoder, normalizer: EntityNormalizer
) -> ModelInputs:
    """The one preparation of windows, shared by training and scoring."""
    days = normalizer.normalise(windows)
    return ModelInputs(
        days.values, days.present, encoder.matrix(windows), days.scales, days.sources
    )


class AutoencoderScorer:
    """A :class:`~core.scoring.base.Scorer` around one trained model version.

    Immutable once built: the stream worker swaps the whole object to change
    version, so a batch is never scored by half of one model and half another.
    """

    def __init__(
        self,
        model: ConditionalAutoencoder,
        *,
        kind: str,
        version: str,
        threshold: float,
        encoder: ConditionEncoder,
        normalizer: EntityNormalizer,
        device: str | torch.device = "auto",
        max_batch: int = 16384,
        terms: HistoryTermsConfig | None = None,
        envelopes: EntityEnvelopes | None = None,
        level_model: LevelModel | None = None,
    ) -> None:
        if not threshold > 0:
            raise ValueError(f"threshold must be positive, got {threshold}")
        self._device = resolve_device(device)
        self._model = model.to(self._device).eval()
        self._kind = kind
        self._version = version
        self._threshold = float(threshold)
        self._encoder = encoder
        self._normalizer = normalizer
        # Only a memory bound: a worker's micro-batch normally fits in one pass.
        self._max_batch = max_batch
        self._terms = terms or terms_for(kind)
        self._envelopes = envelopes
        self._level_model = level_model

    @property
    def detector(self) -> str:
        return DETECTOR

    @property
    def version(self) -> str:
        return self._version

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def config(self) -> AutoencoderConfig:
        return self._model.config

    @property
    def model(self) -> ConditionalAutoencoder:
        return self._model

    @property
    def encoder(self) -> ConditionEncoder:
        return self._encoder

    @property
    def normalizer(self) -> EntityNormalizer:
        return self._normalizer

    def with_threshold(self, threshold: float) -> AutoencoderScorer:
        """The same model with another threshold (after calibration)."""
        return AutoencoderScorer(
            self._model,
            kind=self._kind,
            version=self._version,
            threshold=threshold,
            encoder=self._encoder,
            normalizer=self._normalizer,
            device=self._device,
            max_batch=self._max_batch,
            terms=self._terms,
            envelopes=self._envelopes,
            level_model=self._level_model,
        )

    @property
    def terms(self) -> HistoryTermsConfig:
        return self._terms

    def explain(self, windows: Sequence[DayWindow]) -> tuple[FloatArray, FloatArray, ModelInputs]:
        """``(contributions, expected in units, inputs)`` for ``windows``, float64."""
        reconstruction, expected, inputs = self._reconstruct(windows)
        terms, level, uniform = self._history(windows, inputs)
        return reconstruction + terms.total + level + uniform, expected, inputs

    def _history(
        self, windows: Sequence[DayWindow], inputs: ModelInputs
    ) -> tuple[HistoryTerms, FloatArray, FloatArray]:
        """The history terms, the trained-level and the uniform-rise terms, per slot."""
        scales = inputs.scales
        values = np.stack([w.values for w in windows]) / scales[:, np.newaxis]
        level, uniform = np.zeros(values.shape), np.zeros(values.shape)
        model, cfg, calendar = self._level_model, self._terms, self._encoder.calendar
        expected = lifted = None  # the level model's expectation and evidence, shared
        if model is not None and (cfg.trained_level_weight > 0 or cfg.excess_level_allowance):
            expected = model.expected(windows, calendar)
        if model is not None and expected is not None and cfg.trained_level_weight > 0:
            z_mean, z_base = model.z(windows, values, calendar, expected)
            lifted = lifted_z(z_mean, z_base, cfg)
            level = trained_level_term(values, z_mean, z_base, cfg)
        # one (n, K, 48) array, NaN where a window has fewer days: the terms are batched
        longest = max(len(w.history) for w in windows)
        histories = np.full((len(windows), longest, values.shape[1]), np.nan)
        for row, window in enumerate(windows):
            if len(window.history):
                histories[row, longest - len(window.history) :] = window.history
        histories /= scales[:, np.newaxis, np.newaxis]
        if model is not None and expected is not None and lifted is not None:
            uniform = uniform_rise(
                windows,
                values,
                histories,
                expected,
                lifted,
                model=model,
                calendar=calendar,
                cfg=cfg,
            )
        allowance = None
        if model is not None and expected is not None and cfg.excess_level_allowance:
            allowance = expected_rise(expected[:, 0], histories, model.log_offset)
        envelope = None
        if self._terms.envelope and self._envelopes is not None:
            envelope = self._envelopes.arrays(windows)
        terms = history_terms(values, histories, self._terms, envelope, allowance)
        return terms, level, uniform

    def _reconstruct(
        self, windows: Sequence[DayWindow]
    ) -> tuple[FloatArray, FloatArray, ModelInputs]:
        """Reconstruction errors per slot, expected values in units, the inputs."""
        for window in windows:
            if window.kind != self._kind:
                raise ValueError(f"a {self._kind!r} model cannot score a {window.kind!r} window")
        inputs = model_inputs(windows, self._encoder, self._normalizer)
        n = len(windows)
        contributions = np.zeros((n, inputs.values.shape[1]), dtype=np.float64)
        expected = np.zeros_like(contributions)
        with torch.inference_mode():
            for start in range(0, n, self._max_batch):
                rows = slice(start, start + self._max_batch)
                values = torch.from_numpy(inputs.values[rows]).to(self._device)
                present = torch.from_numpy(inputs.present[rows]).to(self._device)
                conditions = torch.from_numpy(inputs.conditions[rows]).to(self._device)
                reconstruction = self._model(values, conditions).float().clamp(min=0.0)
                errors = slot_errors(reconstruction, values, present)
                contributions[rows] = errors.cpu().numpy()
                expected[rows] = reconstruction.cpu().numpy()
        expected *= inputs.scales[:, np.newaxis]
        return contributions, expected, inputs

    def raw_scores(self, windows: Sequence[DayWindow]) -> FloatArray:
        """Scores only (for calibration and champion/challenger comparisons)."""
        if not windows:
            return np.zeros(0)
        contributions, _, _ = self.explain(windows)
        scores: FloatArray = contributions.sum(axis=1)
        return scores

    def score(self, windows: Sequence[DayWindow]) -> list[Verdict]:
        if not windows:
            return []
        reconstruction, expected, inputs = self._reconstruct(windows)
        terms, level, uniform = self._history(windows, inputs)
        contributions = reconstruction + terms.total + level + uniform
        scores = contributions.sum(axis=1)
        shares = {
            "term_reconstruction": reconstruction.sum(axis=1),
            "term_excess": terms.excess.sum(axis=1),
            "term_level": terms.level.sum(axis=1),
            "term_stuck": terms.stuck.sum(axis=1),
            "term_deficit": terms.deficit.sum(axis=1),
            "term_trained_level": level.sum(axis=1),
            "term_uniform_rise": uniform.sum(axis=1),
        }
        missing = (inputs.present.shape[1] - inputs.present.sum(axis=1)).round().astype(int)
        verdicts: list[Verdict] = []
        for row, window in enumerate(windows):
            conditions = self._encoder.describe(window, int(missing[row]))
            conditions["scale"] = float(inputs.scales[row])
            conditions["scale_source"] = inputs.sources[row].value
            conditions["history_days_used"] = int(terms.history_days[row])
            for name, values in shares.items():
                conditions[name] = float(values[row])
            verdicts.append(
                Verdict(
                    score=float(scores[row]),
                    threshold=self._threshold,
                    expected=expected[row],
                    contributions=contributions[row],
                    detector=DETECTOR,
                    model_version=self._version,
                    conditions=conditions,
                )
            )
        return verdicts
