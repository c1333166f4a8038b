"""From a verdict to the messages of the contract: window-scores and anomalies.

Ids are deterministic: ``alert_id`` is a hash of (kind, entity, day), so a
redelivery, a restart or a second worker can never mint another id for the
same window. Revisions come from the window store's claim, never from a local
counter. The bytes built here are kept in the window's outbox before they are
produced, so a re-publish after a crash sends the very same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np

from core.days import DayLayout
from core.scoring.base import Verdict
from schemas import Alert, WindowScore
from stream.rounding import rounded6
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


@lru_cache(maxsize=1024)
def _frame(layout: DayLayout) -> tuple[datetime, datetime, tuple[datetime | None, ...]]:
    """A day's start and end in its zone and each model slot's start (days repeat
    across entities: computed once per day, not once per window)."""
    zone = layout.real_start(0).tzinfo
    starts = tuple(layout.model_slot_start(slot) for slot in range(len(layout.first_real)))
    return layout.start.astimezone(zone), layout.end.astimezone(zone), starts


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
    # dicts, validated as SlotExplanation inside the message's one validation call
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
    common = {
        "alert_id": alert_id(key.kind, key.entity_id, key.day),
        "kind": key.kind,
        "entity_id": key.entity_id,
        "day": key.day,
        "timezone": layout.timezone,
        "window_start": zone_start,
        "window_end": zone_end,
        "score": values[3 * n],
        "threshold": values[3 * n + 1],
        "severity": verdict.severity,
        "detector": verdict.detector,
        "model_version": verdict.model_version,
        "actual": actual_r,
        "expected": expected_r,
        "slots": slots,
        "missing_slots": np.flatnonzero(np.isnan(actual)).tolist(),
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
