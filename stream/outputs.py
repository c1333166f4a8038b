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

from core.days import DayLayout
from core.scoring.base import ConditionValue, Verdict
from schemas import SCHEMA_VERSION, Alert, WindowScore
from stream.rounding import rounded6
from stream.windows.base import Claim

__all__ = [
    "ROLE_ANOMALIES",
    "ROLE_SCORES",
    "BuiltOutputs",
    "NonFiniteOutput",
    "alert_id",
    "build_outputs",
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


def _finite_conditions(conditions: Mapping[str, ConditionValue]) -> dict[str, ConditionValue]:
    for name, value in conditions.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise NonFiniteOutput(f"condition {name!r} is {value}")
    return dict(conditions)


def _check_finite(actual: np.ndarray, verdict: Verdict) -> None:
    """What the models' FiniteFloat fields would refuse (NaN in ``actual`` is a missing slot)."""
    numbers = np.concatenate((verdict.expected, verdict.contributions, (verdict.score,)))
    if not (np.isfinite(numbers).all() and math.isfinite(verdict.threshold)):
        raise NonFiniteOutput(f"{verdict.detector} {verdict.model_version} gave a non-finite value")
    if np.isinf(actual).any():
        raise NonFiniteOutput("a slot value is infinite")


def _numpy_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()  # as pydantic's lax mode takes a numpy scalar
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json(fields: tuple[str, ...], values: Mapping[str, Any]) -> bytes:
    """The message's compact JSON in the model's field order (a missing field raises)."""
    return orjson.dumps({name: values[name] for name in fields}, default=_numpy_scalar)


_SCORE_FIELDS = tuple(WindowScore.model_fields)
_ALERT_FIELDS = tuple(Alert.model_fields)


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
    _check_finite(actual, verdict)
    key = claim.key
    zone_start, zone_end, starts = _frame(layout)
    is_anomaly = verdict.is_anomaly
    n = len(actual)
    # one rounding call for every number of the message
    values = rounded6(
        np.concatenate(
            (actual, verdict.expected, verdict.contributions, (verdict.score, verdict.threshold))
        )
    )
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
        for slot in verdict.top_slots(eligible=np.asarray(layout.first_real) >= 0)
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
        "missing_slots": np.flatnonzero(np.isnan(actual)).tolist(),
        "detected_at": _instant(detected_at),
        "schema_version": SCHEMA_VERSION,
    }
    entity_key = key.entity_id.encode()
    # the day's mean outside temperature goes with every score: the trainer
    # learns from window-scores, also from days the baseline judged
    conditions = _finite_conditions({"temperature_c": temperature_c, **verdict.conditions})
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
