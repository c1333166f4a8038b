# ruff: noqa: E501 - copied verbatim from shared/CONTRACT.md, long lines included
"""The JSON examples of ``shared/CONTRACT.md``, copied verbatim.

Only where the contract abbreviates ("[48 numbers]", "c1f0...") is the text
made concrete, and that is done by substitution below, not by editing it.
"""

from __future__ import annotations

import json
from typing import Any

METER_READING = """{"meter_id": "MAC000002", "ts": "2013-03-01T00:30:00Z", "kwh": 0.219, "temperature_c": 7.5}"""

TICKET_SALE = """{"sale_id": "S-000123", "event_id": "EVT-42", "ts": "2024-05-01T18:03:12+02:00", "quantity": 2, "amount": 119.80, "currency": "EUR", "channel": "web"}"""

DEAD_LETTER = """{"source_topic": "meter-readings", "partition": 3, "offset": 1882, "key": "MAC000002",
 "value": "<original payload as text, or value_b64 if not UTF-8>",
 "error": {"type": "validation", "message": "kwh: must be >= 0", "field": "kwh"},
 "received_at": "2026-11-22T10:00:00+00:00"}"""

ALERT = """{
  "alert_id": "c1f0...",            "revision": 0,
  "kind": "meter",                  "entity_id": "MAC000002",
  "day": "2013-03-01",              "timezone": "Europe/London",
  "window_start": "2013-03-01T00:00:00+00:00", "window_end": "2013-03-02T00:00:00+00:00",
  "score": 0.93,  "threshold": 0.41,  "severity": "high",
  "detector": "autoencoder",        "model_version": "meter-20130301T0400-3",
  "actual": [48 numbers],           "expected": [48 numbers],
  "slots": [{"index": 14, "start": "2013-03-01T07:00:00+00:00", "actual": 2.1, "expected": 0.3, "contribution": 0.62}],
  "missing_slots": [],              "detected_at": "2026-11-22T10:00:00.123+00:00"
}"""


def alert_example() -> dict[str, Any]:
    """The alert example with its 48-number lists spelled out (slot 14 is the 2.1 quoted)."""
    actual = [0.2] * 48
    actual[14] = 2.1
    text = ALERT.replace('"actual": [48 numbers]', f'"actual": {json.dumps(actual)}')
    text = text.replace('"expected": [48 numbers]', f'"expected": {json.dumps([0.3] * 48)}')
    result: dict[str, Any] = json.loads(text)
    return result
