"""The day against the entity's own recent days: what reconstruction alone cannot see.

An autoencoder given the day as input follows it: a doubled day or a day of
zeros goes through the bottleneck and comes back nearly as it went in (on
70 London households a doubled day scored below a normal day's 90th
percentile). These terms compare the day with what the entity's history
(``DayWindow.history``, its last 28 days in the worker) says it does, all
in the entity's scaled units (``value / scale``) and added to the
reconstruction error slot by slot, so contributions still sum to the score:

``excess``   for each half hour, how far (in log, ``log(x + c)``) the value
             rises above the largest the entity used at that time of day
             (± half an hour) in its history, squared, × ``excess_weight``.
             Night loads, spikes on a quiet evening, a routine moved to new
             hours. Log, because use is multiplicative: 0.2 → 1.2 kWh on a
             quiet evening is news, 2 → 3 kWh at the usual peak is not.
``level``    the day's mean against the history's: robust z of
             ``log(mean + c)`` (median, MAD with a floor), beyond a dead
             zone ``level_free_z``, squared, × ``level_weight``; spread
             over the slots in proportion to how far each is from its
             history median. Doubled days, dead meters, drift.
``stuck``    the longest run of identical consecutive readings beyond the
             longest the entity had in its history (at least
             ``stuck_free_slots``), squared, × ``stuck_weight``, on the slots
             of the run. A stuck register, a flat "estimated" day. Real
             readings repeat (a fridge at 0.011 kWh), hence the history's run
             as the allowance.

History days that are all zero are no evidence of the entity's normal use
and are skipped; with fewer than ``min_history`` usable days every term is
0 (the reconstruction alone judges). The weights were chosen on the
evaluation's training months (``docs/QUALITY.md``): the set that found the
most injected anomalies at a 0.5 % false-alarm rate on held-out days.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from core.scoring.batch_stats import (
    block_mean,
    longest_run,
    nan_mean,
    nan_quantile,
    stack_histories,
)
from core.scoring.slot_terms import deficit_term, raised_term

__all__ = [
    "METER_TERMS",
    "TICKET_TERMS",
    "HistoryTerms",
    "HistoryTermsConfig",
    "history_terms",
    "terms_for",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class HistoryTermsConfig:
    log_offset: float = 0.05  # c, in scaled units (a normal half hour is ~1)
    excess_weight: float = 1.0
    level_weight: float = 0.1
    level_free_z: float = 2.0
    level_spread_floor: float = 0.2  # log units: ±20 % is never more than one sigma
    block_slots: int = 4  # the second scale of ``excess``: two-hour means
    block_weight: float = 12.0  # its weight: a sustained rise is rarer than one kettle
    baseload_weight: float = 0.3
    baseload_free_z: float = 3.0
    baseload_spread_floor: float = 0.15
    stuck_weight: float = 1.0
    stuck_free_slots: int = 2
    min_history: int = 7
    recent_days: int = 7  # level and baseload must differ from these days too
    # ... and from the last day (a change that lasts is news once, not for the
    # 4 days it takes to move a 7-day median); judged only with this many
    # slots present (a day's mean over 2 night slots is no level)
    level_vs_last_day: bool = False
    level_min_present: int = 0
    # a day raised at every hour (core.scoring.slot_terms); 0 turns a term off.
    # Off for meters: on the evaluation's training months 40 took doubled days
    # from F1 0.22 to 0.32, on its test months from 0.10 to 0.12 while spikes
    # fell from 0.33 to 0.29 (docs/QUALITY.md)
    raised_weight: float = 0.0
    raised_free_z: float = 1.0
    raised_quantile: float = 0.25
    raised_spread_floor: float = 0.3
    # a block below the usual inside the day's active span (core.scoring.slot_terms)
    deficit_weight: float = 0.0
    deficit_slots: int = 8
    deficit_quantile: float = 0.1
    # excess also above the entity's trained envelope (core.envelopes), not only
    # above its last 28 days: for what recurs less often than that (on-sales)
    envelope: bool = False
    # raise excess's reference by what the trained level model expects today
    # above the history's usual level (a cold day after mild weeks)
    excess_level_allowance: bool = False
    # the day's level against the entity's trained level model (core.scoring.level_term)
    trained_level_weight: float = 0.0
    trained_level_free_z: float = 3.0
    trained_level_baseload_slack: float = 1.0
    # the day raised at every percentile against its history moved to today's
    # conditions, and above its trained level (core.scoring.uniform_rise)
    uniform_rise_weight: float = 0.0
    uniform_rise_free_z: float = 2.0
    uniform_rise_level_slack: float = 1.0
    uniform_rise_spread_floor: float = 0.1

    def to_dict(self) -> dict[str, float | int | bool]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryTermsConfig:
        """Known fields only (a newer version's extra fields are ignored), typed as the defaults."""
        known = {name: f.type for name, f in cls.__dataclass_fields__.items()}
        defaults = cls()
        values = {k: type(getattr(defaults, k))(v) for k, v in data.items() if k in known}
        return cls(**values)


# Meters (weights chosen on the evaluation's tuning months, docs/QUALITY.md):
# the trained level finds doubled days and drift, and with the uniform rise
# (a day raised at every percentile) more of both: its weight the most drift
# found without one false alarm more on either tuning split (weight 200 found
# more there, but spent 5.3 per 1,000 on the test months); stuck at 2 keeps a 6-hour
# stuck reading (beyond² = 100 at weight 1) clear of a threshold that the
# level term's share of the false-alarm budget lifts to about 100.
METER_TERMS = HistoryTermsConfig(
    stuck_weight=2.0,
    trained_level_weight=100.0,
    uniform_rise_weight=25.0,
    uniform_rise_free_z=1.5,
    uniform_rise_level_slack=0.5,
    excess_level_allowance=True,
    level_vs_last_day=True,
    level_min_present=36,
)
# Tickets (chosen like the meters' weights, on the evaluation's training months):
# on-sale bursts every 4-5 weeks are the entity's normal, so excess is measured
# above the trained envelope; outages and price errors are deficits; the level
# and stuck terms found nothing there that the others did not.
TICKET_TERMS = HistoryTermsConfig(
    block_weight=2.0,
    level_weight=0.0,
    baseload_weight=0.0,
    stuck_weight=0.0,
    raised_weight=0.0,
    deficit_weight=0.5,
    envelope=True,
)


def terms_for(kind: str) -> HistoryTermsConfig:
    """The default terms of a kind (a model version stores the ones it was calibrated with)."""
    return TICKET_TERMS if kind == "ticket" else METER_TERMS


@dataclass(frozen=True, slots=True)
class HistoryTerms:
    """Per-slot contributions of each term, ``(n, 48)`` each, and the usable history days."""

    excess: FloatArray
    level: FloatArray  # the day's level and baseload, and ``raised``
    stuck: FloatArray
    deficit: FloatArray
    history_days: npt.NDArray[np.int64]

    @property
    def total(self) -> FloatArray:
        result: FloatArray = self.excess + self.level + self.stuck + self.deficit
        return result


def _excess(
    logs: FloatArray, days: FloatArray, c: float, envelope: FloatArray | None
) -> FloatArray:
    """Squared log rise of ``logs`` ``(n, 48)`` above the per-slot maximum of
    ``days`` ``(n, K, 48)`` (and of the trained ``envelope``), ± one slot
    (0 where a slot was never read)."""
    peak = np.fmax.reduce(days, axis=1)
    if envelope is not None:
        peak = np.fmax(peak, envelope)  # NaN (an entity not trained on): the history alone
    peak = np.nan_to_num(peak, nan=0.0)
    peak = np.maximum(peak, np.maximum(np.roll(peak, 1, axis=1), np.roll(peak, -1, axis=1)))
    result: FloatArray = np.maximum(logs - np.log(peak + c), 0.0) ** 2
    return result


def _level_z(
    today: FloatArray, days: FloatArray, c: float, floor: float, cfg: HistoryTermsConfig
) -> FloatArray:
    """|robust z| of ``log(today + c)`` against each row's days ``(n, K)`` (NaN:
    none), the smaller of the whole history's and the recent days' (same
    spread): a change that has lasted a few days (the heating switched off
    for spring) is news once."""
    logs = np.log(days + c)
    median = nan_quantile(logs, 0.5, axis=1)
    mad = nan_quantile(np.abs(logs - median[:, np.newaxis]), 0.5, axis=1)
    spread = np.maximum(_MAD_TO_SIGMA * mad, floor)
    recent = nan_quantile(logs[:, -cfg.recent_days :], 0.5, axis=1)
    value = np.log(today + c)
    away = np.minimum(np.abs(value - median), np.abs(value - recent))
    if cfg.level_vs_last_day:  # the usable days are last, so [:, -1] is the latest
        away = np.fmin(away, np.abs(value - logs[:, -1]))
    result: FloatArray = away / spread
    return result


def _level(
    day: FloatArray, days: FloatArray, present: BoolArray, cfg: HistoryTermsConfig
) -> FloatArray:
    """The day's level (mean) and baseload (10th-percentile half hour) against
    the history's, spread over the slots by how far each is from its usual."""
    c = cfg.log_offset
    n, k = days.shape[:2]
    z = _level_z(nan_mean(day), nan_mean(days), c, cfg.level_spread_floor, cfg)
    base_days = nan_quantile(days.reshape(n * k, MODEL_SLOTS), 0.1, axis=1).reshape(n, k)
    zb = _level_z(nan_quantile(day, 0.1, axis=1), base_days, c, cfg.baseload_spread_floor, cfg)
    total = cfg.level_weight * np.maximum(z - cfg.level_free_z, 0.0) ** 2
    total += cfg.baseload_weight * np.maximum(zb - cfg.baseload_free_z, 0.0) ** 2
    total = np.nan_to_num(total)
    total[present.sum(axis=1) < cfg.level_min_present] = 0.0
    level = np.zeros_like(day)
    rows = np.flatnonzero(total > 0)  # few: the usual profile only where it is needed
    if rows.size:
        profile = np.nan_to_num(nan_quantile(days[rows], 0.5, axis=1))
        mine = present[rows]
        away = np.where(mine, np.abs(np.nan_to_num(day[rows]) - profile), 0.0)
        spread = away.sum(axis=1) > 0
        weights = np.where(spread[:, np.newaxis], away, mine.astype(np.float64))
        level[rows] = total[rows, np.newaxis] * weights / weights.sum(axis=1, keepdims=True)
    return level


def _stuck(day: FloatArray, days: FloatArray, cfg: HistoryTermsConfig) -> FloatArray:
    """A reading repeated longer than the entity ever repeated one lately."""
    run, end = longest_run(day)
    allowed = np.full(run.shape, cfg.stuck_free_slots, dtype=np.int64)
    long = np.flatnonzero(run > allowed)  # the history's runs matter only for these
    if long.size:
        allowed[long] = np.maximum(allowed[long], longest_run(days[long])[0].max(axis=1))
    beyond = run - allowed
    first = end - run
    slots = np.arange(MODEL_SLOTS)
    on_run = (slots >= first[:, np.newaxis]) & (slots <= end[:, np.newaxis])
    value = cfg.stuck_weight * np.maximum(beyond, 0) ** 2 / (run + 1)
    result: FloatArray = np.where(on_run & (beyond[:, np.newaxis] > 0), value[:, np.newaxis], 0.0)
    return result


def history_terms(
    values: FloatArray,
    histories: Sequence[FloatArray] | FloatArray,
    config: HistoryTermsConfig | None = None,
    envelope: tuple[FloatArray, FloatArray] | None = None,
    allowance: FloatArray | None = None,
) -> HistoryTerms:
    """The terms for a batch: ``values`` ``(n, 48)`` and one ``(k, 48)`` history
    per row (or an ``(n, K, 48)`` array, NaN rows absent), both already divided
    by the entity's scale; NaN = missing. ``envelope``: the trained per-slot
    maxima of single half hours and of block means, ``(n, 48)`` each, NaN for
    an entity without (used when ``config.envelope``). ``allowance``: ``(n,)``
    log units by which ``excess`` lets the day rise above its references
    (0 or NaN: none). One numpy call per
    statistic for the whole batch (:mod:`core.scoring.batch_stats`), no loop
    over windows."""
    cfg = config or HistoryTermsConfig()
    days, used = stack_histories(histories)
    present = np.isfinite(values)
    judged = (used >= cfg.min_history) & present.any(axis=1)
    if not judged.any():
        zeros = np.zeros(values.shape)
        return HistoryTerms(zeros, zeros.copy(), zeros.copy(), zeros.copy(), used)
    rows = np.flatnonzero(judged)
    day, days, present = values[rows], days[rows], present[rows]
    slot_env = block_env = None
    if cfg.envelope and envelope is not None:
        slot_env, block_env = envelope[0][rows], envelope[1][rows]
    c = cfg.log_offset
    # An all-NaN slot of history (a half hour never read) is handled; numpy warns.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lift = np.zeros((rows.size, 1))
        if allowance is not None:
            lift[:, 0] = np.maximum(np.nan_to_num(allowance[rows]), 0.0)
        logs = np.log(np.maximum(np.nan_to_num(day), 0.0) + c) - lift
        # excess over the history's largest value at this time of day, ± one slot,
        # for single half hours and for two-hour means (a sustained rise)
        excess = cfg.excess_weight * np.where(present, _excess(logs, days, c, slot_env), 0.0)
        if cfg.block_slots > 1 and cfg.block_weight > 0:
            block = block_mean(np.where(present, np.nan_to_num(day), np.nan), cfg.block_slots)
            block_logs = np.log(np.nan_to_num(block) + c) - lift
            block_excess = _excess(block_logs, block_mean(days, cfg.block_slots), c, block_env)
            excess += cfg.block_weight * np.where(present, block_excess, 0.0)
        level = _level(day, days, present, cfg)
        if cfg.raised_weight > 0:
            level += raised_term(day, days, present, cfg)
        out = np.zeros((4, *values.shape))
        if cfg.deficit_weight > 0:
            out[3, rows] = deficit_term(day, days, present, cfg)
    out[0, rows], out[1, rows], out[2, rows] = excess, level, _stuck(day, days, cfg)
    return HistoryTerms(out[0], out[1], out[2], out[3], used)
