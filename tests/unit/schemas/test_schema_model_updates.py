"""model-updates: versions, hashes and paths a worker can trust."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas import ModelUpdate

VALID: dict[str, Any] = {
    "kind": "meter",
    "version": "meter-20130301T0400-3",
    "action": "publish",
    "created_at": "2026-11-22T10:00:00Z",
    "sha256": "a" * 64,
    "path": "meter/meter-20130301T0400-3.safetensors",
    "threshold": 0.41,
    "metrics": {"held_out_loss": 0.012, "auc": 0.93},
}


def test_a_valid_update_round_trips() -> None:
    update = ModelUpdate.model_validate(VALID)
    assert update.detector == "autoencoder"
    assert update.schema_version == 1
    assert ModelUpdate.model_validate_json(update.model_dump_json()) == update
    assert (
        ModelUpdate.model_validate({**VALID, "action": "rollback", "metrics": None}).metrics is None
    )


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("version", "meter-2013-3", "string_pattern_mismatch"),
        ("version", "ticket-20130301T0400-3", "version_kind"),
        ("sha256", "A" * 64, "string_pattern_mismatch"),
        ("sha256", "a" * 63, "string_pattern_mismatch"),
        ("path", "../../etc/passwd", "relative_path"),
        ("path", "meter/../../x", "relative_path"),
        ("path", "./x", "relative_path"),
        ("path", "/etc/passwd", "string_pattern_mismatch"),
        ("path", "C:\\models\\x", "string_pattern_mismatch"),
        ("path", "meter//x", "string_pattern_mismatch"),
        ("path", "", "string_too_short"),
        ("action", "delete", "literal_error"),
        ("kind", "gas", "literal_error"),
        ("threshold", float("nan"), "finite_number"),
        ("metrics", {"auc": float("inf")}, "finite_number"),
        ("created_at", "2026-11-22T10:00:00", "timezone_aware"),
        ("schema_version", 2, "schema_version"),
    ],
)
def test_untrustworthy_updates_are_refused(field: str, value: Any, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelUpdate.model_validate({**VALID, field: value})
    assert caught.value.errors()[0]["type"] == rule
