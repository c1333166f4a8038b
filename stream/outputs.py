"""From a verdict to the messages of the contract: window-scores and anomalies.

Ids are deterministic: ``alert_id`` is a hash of (kind, entity, day), so a
redelivery, a restart or a second worker can never mint another id for the
same window. Revisions come from the window store's claim, never from a local
counter. The bytes built here are kept in the window's outbox before they are
produced, so a re-publish after a crash sends the very same bytes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from core.days import DayLayout
from core.scoring.base import Verdict
from schemas import Alert, SlotExplanation, WindowScore
from stream.windows.base import Claim

__all__ = ["ROLE_ANOMALIES", "ROLE_SCORES", "BuiltOutputs", "alert_id", "build_outputs"]

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


def _rounded(values: np.ndarray) -> list[float | None]:
    # over Python floats (tolist), not numpy scalars: 3x faster, the same numbers
    isnan = math.isnan
    return [None if isnan(v) else round(v, 6) for v in values.tolist()]


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
    key = claim.key
    zone_start = layout.start.astimezone(layout.real_start(0).tzinfo)
    zone_end = layout.end.astimezone(layout.real_start(0).tzinfo)
    is_anomaly = verdict.is_anomaly
    slots = [
        SlotExplanation(
            index=slot,
            start=start,
            actual=None if math.isnan(actual[slot]) else round(float(actual[slot]), 6),
            expected=round(float(verdict.expected[slot]), 6),
            contribution=round(float(verdict.contributions[slot]), 6),
        )
        for slot in verdict.top_slots(eligible=np.asarray(layout.first_real) >= 0)
        if (start := layout.model_slot_start(slot)) is not None
    ]
    common = {
        "alert_id": alert_id(key.kind, key.entity_id, key.day),
        "kind": key.kind,
        "entity_id": key.entity_id,
        "day": key.day,
        "timezone": layout.timezone,
        "window_start": zone_start,
        "window_end": zone_end,
        "score": round(verdict.score, 6),
        "threshold": round(verdict.threshold, 6),
        "severity": verdict.severity,
        "detector": verdict.detector,
        "model_version": verdict.model_version,
        "actual": _rounded(actual),
        "expected": _rounded(verdict.expected),
        "slots": slots,
        "missing_slots": [int(i) for i in np.flatnonzero(np.isnan(actual))],
        "detected_at": detected_at,
    }
    entity_key = key.entity_id.encode()
    score = WindowScore(
        **common,
        revision=claim.revision,
        is_anomaly=is_anomaly,
        # the day's mean outside temperature goes with every score: the trainer
        # learns from window-scores, also from days the baseline judged
        conditions={"temperature_c": temperature_c, **verdict.conditions},
    )
    messages: list[tuple[str, bytes, bytes]] = [
        (ROLE_SCORES, entity_key, score.model_dump_json().encode())
    ]
    retract = claim.alert_active and not is_anomaly
    if is_anomaly or retract:
        alert = Alert(
            **{**common, "severity": verdict.severity or "low"},
            revision=claim.alert_revision + 1,
            retracted=retract,
        )
        messages.append((ROLE_ANOMALIES, entity_key, alert.model_dump_json().encode()))
    return BuiltOutputs(
        tuple(messages), alert_active=is_anomaly, alert_published=is_anomaly or retract
    )


def count_roles(outputs: Sequence[BuiltOutputs], role: str) -> int:
    return sum(1 for built in outputs for r, _, _ in built.messages if r == role)
