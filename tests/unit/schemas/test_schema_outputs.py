"""Output messages: they round-trip, and the checks between fields hold."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from pydantic import ValidationError
from schema_examples import alert_example
from schema_strategies import PROPERTY, alerts, as_dict, window_scores

from schemas import Alert, WindowScore


@PROPERTY
@given(alerts())
def test_alert_round_trips(alert: Alert) -> None:
    assert Alert.model_validate_json(alert.model_dump_json()) == alert


@PROPERTY
@given(window_scores())
def test_window_score_round_trips(score: WindowScore) -> None:
    again = WindowScore.model_validate_json(score.model_dump_json())
    assert again == score
    # True stays true and 1 stays 1: the union keeps the given type.
    assert {k: type(v) for k, v in again.conditions.items()} == {
        k: type(v) for k, v in score.conditions.items()
    }


def test_window_score_has_every_alert_field() -> None:
    shared = set(Alert.model_fields) - {"retracted"}
    assert shared <= set(WindowScore.model_fields)
    assert set(WindowScore.model_fields) - shared == {"is_anomaly", "conditions"}


def _break(message: dict[str, Any], change: str) -> dict[str, Any]:
    broken = dict(message)
    if change == "47 actual values":
        broken["actual"] = broken["actual"][:47]
    elif change == "49 expected values":
        broken["expected"] = [*broken["expected"], 0.0]
    elif change == "null not listed as missing":
        broken["actual"] = [None, *broken["actual"][1:]]
        broken["missing_slots"] = [s for s in broken["missing_slots"] if s != 0]
    elif change == "missing slot with a value":
        broken["actual"] = [1.0 if v is None else v for v in broken["actual"]]
        broken["missing_slots"] = [0]
    elif change == "missing slot listed twice":
        broken["actual"] = [None, *broken["actual"][1:]]
        broken["missing_slots"] = [0, 0]
    elif change == "slot index 48":
        broken["missing_slots"] = [48]
    elif change == "slots not by contribution":
        slot = {"index": 1, "start": broken["window_start"], "actual": 1, "expected": 0}
        broken["slots"] = [{**slot, "contribution": 0.1}, {**slot, "contribution": 0.9}]
    elif change == "window ends before it starts":
        broken["window_end"] = broken["window_start"]
    elif change == "NaN score":
        broken["score"] = float("nan")
    elif change == "unknown severity":
        broken["severity"] = "catastrophic"
    elif change == "negative revision":
        broken["revision"] = -1
    elif change == "naive detected_at":
        broken["detected_at"] = "2026-11-22T10:00:00"
    return broken


CHANGES = [
    "47 actual values",
    "49 expected values",
    "null not listed as missing",
    "missing slot with a value",
    "missing slot listed twice",
    "slot index 48",
    "slots not by contribution",
    "window ends before it starts",
    "NaN score",
    "unknown severity",
    "negative revision",
    "naive detected_at",
]


@pytest.mark.parametrize("change", CHANGES)
@PROPERTY
@given(alert=alerts())
def test_broken_alerts_are_refused(change: str, alert: Alert) -> None:
    with pytest.raises(ValidationError):
        Alert.model_validate(_break(as_dict(alert), change))


def test_alert_needs_a_severity_and_a_window_score_only_when_anomalous() -> None:
    contract_alert = alert_example()
    without = {k: v for k, v in contract_alert.items() if k != "severity"}
    with pytest.raises(ValidationError, match="severity"):
        Alert.model_validate(without)
    WindowScore.model_validate({**without, "is_anomaly": False, "conditions": {}})
    with pytest.raises(ValidationError, match="severity is required"):
        WindowScore.model_validate({**without, "is_anomaly": True, "conditions": {}})


def test_retracted_is_an_optional_addition() -> None:
    contract_alert = alert_example()
    assert Alert.model_validate(contract_alert).retracted is False
    assert Alert.model_validate({**contract_alert, "retracted": True}).retracted is True
