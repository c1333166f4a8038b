"""From a verdict to the messages of the contract: window-scores and anomalies.

Ids are deterministic: ``alert_id`` is a hash of (kind, entity, day), so a
redelivery, a restart or a second worker can never mint another id for the
same window. Revisions come from the window store's claim, never from a local
counter. The bytes built here are kept in the window's outbox before they are
produced, so a re-publish after a crash sends the very same bytes.

The bytes are written with orjson from dicts in the models' field order, not
by building and dumping :class:`~schemas.WindowScore` and
:class:`~schemas.Alert` (half of a scoring round's worker time went there):
they are exactly the bytes ``model_dump_json`` gives (orjson formats floats
as pydantic does; instants are formatted by pydantic itself, once per
distinct value), which the unit tests check by validating and re-dumping
generated messages. What the models' validation would catch from a scorer —
a non-finite number — is checked on the arrays, and the first message of
every scoring round is still validated by the models (:func:`validate_sample`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
from pydantic import AwareDatetime, TypeAdapter

from core.days import MODEL_SLOTS, DayLayout
from core.scoring.base import ConditionValue, Verdict
from schemas import SCHEMA_VERSION, Alert, WindowScore
from stream.rounding import rounded6
from stream.windows.base import Claim

__all__ = [
    "ROLE_ANOMALIES",
    "ROLE_SCORES",
    "BuiltOutputs",
    "NonFiniteOutput",
    "Scored",
    "alert_id",
    "build_outputs",
    "build_round",
    "top_slots",
    "validate_sample",
]

ROLE_SCORES = "scores"
ROLE_ANOMALIES = "anomalies"


def alert_id(kind: str, entity_id: str, day: date) -> str:
    """Deterministic in (kind, entity, day): 32 hex characters."""
    digest = hashlib.sha256(f"{kind}\x1f{entity_id}\x1f{day.isoformat()}".encode())
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class BuiltOutputs:
    messages: tuple[tuple[str, bytes, bytes], ...]  # (role, key, value)
    alert_active: bool  # an alert for this window stands after publishing these
    alert_published: bool  # these include a new alert revision


class NonFiniteOutput(ValueError):
    """A scorer produced a number the contract cannot carry (NaN or infinity)."""


_INSTANT = TypeAdapter(AwareDatetime)


@lru_cache(maxsize=4096)
def _instant(value: datetime) -> str:
    """``value`` as pydantic writes an aware datetime ('Z' for UTC, as in the models)."""
    return str(_INSTANT.dump_python(value, mode="json"))


@lru_cache(maxsize=1024)
def _frame(layout: DayLayout) -> tuple[str, str, tuple[str | None, ...]]:
    """A day's start and end in its zone and each model slot's start, as text
    (days repeat across entities: computed once per day, not once per window)."""
    zone = layout.real_start(0).tzinfo
    starts = tuple(
        None if (start := layout.model_slot_start(slot)) is None else _instant(start)
        for slot in range(len(layout.first_real))
    )
    return _instant(layout.start.astimezone(zone)), _instant(layout.end.astimezone(zone)), starts


def _conditions(
    temperature_c: float | None, conditions: Mapping[str, ConditionValue]
) -> dict[str, ConditionValue]:
    """The score's conditions; a non-finite number is refused as the model would."""
    out: dict[str, ConditionValue] = {"temperature_c": temperature_c, **conditions}
    floats = [v for v in out.values() if type(v) is float]
    if not math.isfinite(sum(floats)):  # one sum; the rare overflow is checked one by one
        for name, value in out.items():
            if type(value) is float and not math.isfinite(value):
                raise NonFiniteOutput(f"condition {name!r} is {value}")
    return out


def _numpy_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()  # as pydantic's lax mode takes a numpy scalar
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json(fields: tuple[str, ...], values: Mapping[str, Any]) -> bytes:
    """The message's compact JSON in the model's field order (a missing field raises)."""
    return orjson.dumps({name: values[name] for name in fields}, default=_numpy_scalar)


_SCORE_FIELDS = tuple(WindowScore.model_fields)
_ALERT_FIELDS = tuple(Alert.model_fields)


@dataclass(frozen=True, slots=True)
class Scored:
    """One window of a scoring round, as the processor hands it over."""

    claim: Claim
    layout: DayLayout
    actual: np.ndarray  # (48,) model slots, NaN = missing
    verdict: Verdict
    temperature_c: float | None = None


def build_outputs(
    claim: Claim,
    layout: DayLayout,
    actual: np.ndarray,
    verdict: Verdict,
    *,
    detected_at: datetime,
    temperature_c: float | None = None,
) -> BuiltOutputs:
    """The window-score, and an alert revision when the window is anomalous now
    or when an alert stood and the re-score no longer supports it (retraction)."""
    [built] = build_round([Scored(claim, layout, actual, verdict, temperature_c)], detected_at)
    return built


def build_round(windows: Sequence[Scored], detected_at: datetime) -> list[BuiltOutputs]:
    """:func:`build_outputs` for every window of a scoring round: the numbers of all
    windows are checked, rounded and ranked by one array call each, not per window."""
    if not windows:
        return []
    n = MODEL_SLOTS
    actual = np.stack([w.actual for w in windows])
    expected = np.stack([w.verdict.expected for w in windows])
    contributions = np.stack([w.verdict.contributions for w in windows])
    score_threshold = np.array([(w.verdict.score, w.verdict.threshold) for w in windows])
    finite = np.isfinite(np.concatenate((expected, contributions, score_threshold), axis=1))
    if not finite.all():
        bad = windows[int(np.flatnonzero(~finite.all(axis=1))[0])].verdict
        raise NonFiniteOutput(f"{bad.detector} {bad.model_version} gave a non-finite value")
    if np.isinf(actual).any():
        raise NonFiniteOutput("a slot value is infinite")
    # one rounding call for every number of the round
    width = 3 * n + 2
    values = rounded6(np.concatenate((actual, expected, contributions, score_threshold), axis=1))
    eligible = np.stack([_eligible(w.layout) for w in windows])
    ranked = top_slots(contributions, eligible)
    missing = np.isnan(actual)
    at = _instant(detected_at)
    built = []
    for i, w in enumerate(windows):
        row, gaps = values[i * width : (i + 1) * width], np.flatnonzero(missing[i]).tolist()
        built.append(_messages(w, row, ranked[i], gaps, at))
    return built


@lru_cache(maxsize=1024)
def _eligible(layout: DayLayout) -> np.ndarray:
    """Model slots that are real half hours (not skipped by a DST change)."""
    return np.asarray(layout.first_real) >= 0


def top_slots(
    contributions: np.ndarray,
    eligible: np.ndarray,
    limit: int = 12,
    share: float = 0.9,
) -> list[list[int]]:
    """:meth:`core.scoring.base.Verdict.top_slots` for many windows at once
    (rows of ``contributions`` and ``eligible``); the same slots, tested."""
    masked = np.where(eligible, contributions, 0.0)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :limit]
    chosen_masked = np.take_along_axis(masked, order, axis=1)
    covered = np.cumsum(np.take_along_axis(contributions, order, axis=1), axis=1)
    total = masked.sum(axis=1, keepdims=True)
    # slots are named while their contribution is positive, up to and including
    # the first that brings the covered share to ``share`` of the total
    width = order.shape[1]
    not_positive = chosen_masked <= 0
    done = (total > 0) & (covered >= share * total)
    first_not_positive = np.where(not_positive.any(axis=1), not_positive.argmax(axis=1), width)
    first_done = np.where(done.any(axis=1), done.argmax(axis=1) + 1, width)
    counts = np.minimum(first_not_positive, first_done)
    return [row[:k] for row, k in zip(order.tolist(), counts.tolist(), strict=True)]


def _messages(
    w: Scored, values: list[float | None], ranked: list[int], missing: list[int], detected_at: str
) -> BuiltOutputs:
    n = MODEL_SLOTS
    claim, layout, verdict = w.claim, w.layout, w.verdict
    key = claim.key
    zone_start, zone_end, starts = _frame(layout)
    is_anomaly = verdict.is_anomaly
    actual_r, expected_r = values[:n], values[n : 2 * n]
    contribution_r = values[2 * n : 3 * n]
    slots = [
        {
            "index": slot,
            "start": start,
            "actual": actual_r[slot],
            "expected": expected_r[slot],
            "contribution": contribution_r[slot],
        }
        for slot in ranked
        if (start := starts[slot]) is not None
    ]
    severity = verdict.severity
    common: dict[str, Any] = {
        "alert_id": alert_id(key.kind, key.entity_id, key.day),
        "kind": key.kind,
        "entity_id": key.entity_id,
        "day": key.day.isoformat(),
        "timezone": layout.timezone,
        "window_start": zone_start,
        "window_end": zone_end,
        "score": values[3 * n],
        "threshold": values[3 * n + 1],
        "severity": None if severity is None else severity.value,
        "detector": verdict.detector,
        "model_version": verdict.model_version,
        "actual": actual_r,
        "expected": expected_r,
        "slots": slots,
        "missing_slots": missing,
        "detected_at": detected_at,
        "schema_version": SCHEMA_VERSION,
    }
    entity_key = key.entity_id.encode()
    # the day's mean outside temperature goes with every score: the trainer
    # learns from window-scores, also from days the baseline judged
    conditions = _conditions(w.temperature_c, verdict.conditions)
    own = {"revision": claim.revision, "is_anomaly": is_anomaly, "conditions": conditions}
    score = {**common, **own}
    messages = [(ROLE_SCORES, entity_key, _json(_SCORE_FIELDS, score))]
    retract = claim.alert_active and not is_anomaly
    if is_anomaly or retract:
        alert = {
            **common,
            "severity": common["severity"] or "low",
            "revision": claim.alert_revision + 1,
            "retracted": retract,
        }
        messages.append((ROLE_ANOMALIES, entity_key, _json(_ALERT_FIELDS, alert)))
    return BuiltOutputs(
        tuple(messages), alert_active=is_anomaly, alert_published=is_anomaly or retract
    )


def validate_sample(built: BuiltOutputs) -> None:
    """Validate ``built``'s messages with the models (one window of each scoring
    round: the models' rules between fields stay checked on real output)."""
    for role, _, value in built.messages:
        model = WindowScore if role == ROLE_SCORES else Alert
        model.model_validate_json(value)


def count_roles(outputs: Sequence[BuiltOutputs], role: str) -> int:
    return sum(1 for built in outputs for r, _, _ in built.messages if r == role)
