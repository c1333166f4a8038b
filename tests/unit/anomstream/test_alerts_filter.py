"""Which alerts ``anomstream alerts`` shows: kind, entity and least severity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from anomstream.commands.alerts import AlertFilter, SeverityChoice
from schemas import Alert


def alert(kind: str = "meter", entity: str = "MAC000002", severity: str = "high") -> Alert:
    start = datetime(2013, 3, 1, tzinfo=UTC)
    return Alert(
        alert_id=f"{kind}-{entity}",
        revision=0,
        kind=kind,  # type: ignore[arg-type]
        entity_id=entity,
        day=date(2013, 3, 1),
        timezone="UTC",
        window_start=start,
        window_end=datetime(2013, 3, 2, tzinfo=UTC),
        score=1.0,
        threshold=0.5,
        severity=severity,  # type: ignore[arg-type]
        detector="baseline",
        model_version="baseline",
        actual=[0.1] * 48,
        expected=[0.1] * 48,
        slots=[],
        missing_slots=[],
        detected_at=start,
    )


def test_no_filter_shows_everything() -> None:
    assert AlertFilter().accepts(alert())


@pytest.mark.parametrize(
    ("selection", "shown"),
    [
        (AlertFilter(kind="meter"), True),
        (AlertFilter(kind="ticket"), False),
        (AlertFilter(entities=frozenset({"MAC000002", "X"})), True),
        (AlertFilter(entities=frozenset({"X"})), False),
        (AlertFilter(min_severity=SeverityChoice.medium), True),
        (AlertFilter(min_severity=SeverityChoice.high), True),
        (AlertFilter(min_severity=SeverityChoice.critical), False),
        (AlertFilter(kind="meter", min_severity=SeverityChoice.critical), False),
    ],
)
def test_filters(selection: AlertFilter, shown: bool) -> None:
    assert selection.accepts(alert(severity="high")) is shown


def test_severities_are_ordered() -> None:
    order = ["low", "medium", "high", "critical"]
    for rank, least in enumerate(order):
        selection = AlertFilter(min_severity=SeverityChoice(least))
        assert [selection.accepts(alert(severity=s)) for s in order] == [
            i >= rank for i in range(len(order))
        ]
