"""Output messages: ``anomalies`` (:class:`Alert`) and ``window-scores`` (:class:`WindowScore`).

A window score carries every field of an alert plus the verdict and the
model's conditions; both share :class:`_ScoredWindow` so no field is written
twice. The checks between fields (48 values, nulls exactly at the missing
slots, slots ordered by contribution) catch a scorer bug before the message
leaves the worker rather than in a consumer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas._common import (
    SCHEMA_VERSION,
    EntityId,
    FiniteFloat,
    Kind,
    Message,
    SchemaVersion,
    Severity,
)

__all__ = ["SLOTS_PER_DAY", "Alert", "ConditionValue", "SlotExplanation", "WindowScore"]

SLOTS_PER_DAY = 48
"""The model input is always 48 half-hour slots, also on daylight-saving days."""

SlotIndex = Annotated[int, Field(strict=True, ge=0, le=SLOTS_PER_DAY - 1)]
ConditionValue = FiniteFloat | int | bool | str | None
"""A model condition: day of week, month, holiday flag, temperature, ..."""


class SlotExplanation(Message):
    """One half hour that explains the score."""

    index: SlotIndex
    start: AwareDatetime
    actual: FiniteFloat | None = Field(description="Null when the slot is missing.")
    expected: FiniteFloat
    contribution: FiniteFloat = Field(description="This slot's share of the score.")


class _ScoredWindow(Message):
    """The fields an alert and a window score have in common (contract order)."""

    alert_id: EntityId = Field(
        description="Deterministic in (kind, entity_id, day): a redelivery keeps the id."
    )
    revision: int = Field(strict=True, ge=0, description="Grows when a late reading re-scores.")
    kind: Kind
    entity_id: EntityId
    day: date = Field(description="Local calendar day in `timezone`.")
    timezone: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)] = Field(
        description="IANA time zone name of the day."
    )
    window_start: AwareDatetime
    window_end: AwareDatetime
    score: FiniteFloat
    threshold: FiniteFloat
    severity: Severity | None = None
    detector: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)] = Field(
        description='"autoencoder", or "baseline" when no model is available.'
    )
    model_version: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128)]
    actual: list[FiniteFloat | None] = Field(
        min_length=SLOTS_PER_DAY,
        max_length=SLOTS_PER_DAY,
        description="Observed slot values; null exactly at the missing slots.",
    )
    expected: list[FiniteFloat] = Field(min_length=SLOTS_PER_DAY, max_length=SLOTS_PER_DAY)
    slots: list[SlotExplanation] = Field(
        max_length=SLOTS_PER_DAY, description="Explaining slots, largest contribution first."
    )
    missing_slots: list[SlotIndex] = Field(max_length=SLOTS_PER_DAY)
    detected_at: AwareDatetime
    schema_version: SchemaVersion = SCHEMA_VERSION

    @model_validator(mode="after")
    def _consistent(self) -> _ScoredWindow:
        if self.window_end <= self.window_start:
            raise PydanticCustomError("window_order", "window_end must be after window_start")
        nulls = [index for index, value in enumerate(self.actual) if value is None]
        if sorted(self.missing_slots) != nulls:
            raise PydanticCustomError(
                "missing_slots",
                "actual must be null exactly at the missing_slots, each listed once",
            )
        contributions = [slot.contribution for slot in self.slots]
        if contributions != sorted(contributions, reverse=True):
            raise PydanticCustomError(
                "slot_order", "slots must be ordered by contribution, largest first"
            )
        return self


class Alert(_ScoredWindow):
    """One anomalous window, on ``anomalies`` (key: entity_id).

    A re-score (a late reading) publishes the same ``alert_id`` with a higher
    ``revision``; when the window is no longer anomalous that revision has
    ``retracted: true`` (an optional field added to the contract).
    """

    severity: Severity  # required on an alert; optional on a WindowScore
    retracted: bool = Field(
        default=False,
        strict=True,
        description="True when a re-score withdrew this alert: the window is not anomalous now.",
    )


class WindowScore(_ScoredWindow):
    """Every scored window, anomalous or not, on ``window-scores`` (key: entity_id).

    The audit trail and the trainer's training data. ``severity`` is null
    when the window is not anomalous.
    """

    is_anomaly: bool = Field(strict=True)
    conditions: dict[str, ConditionValue] = Field(
        description="The conditions the model was given (day of week, temperature, ...)."
    )

    @model_validator(mode="after")
    def _severity_when_anomalous(self) -> WindowScore:
        if self.is_anomaly and self.severity is None:
            raise PydanticCustomError("severity", "severity is required when is_anomaly is true")
        return self
