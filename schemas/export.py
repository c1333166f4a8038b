"""JSON Schemas of every message, as committed in ``schemas/json/``.

The files are generated from the models (``make schemas`` or ``anomstream
schemas DIR``) and a test fails when the committed ones differ, so the
published schemas cannot drift from the code. The output is byte-stable:
sorted keys, two-space indent, one trailing newline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel

from schemas.dead_letters import DeadLetter
from schemas.inputs import MeterReading, MeterReadingBatch, TicketSale
from schemas.model_updates import ModelUpdate
from schemas.outputs import Alert, WindowScore

__all__ = ["MESSAGES", "json_schema", "render_json_schema", "write_json_schemas"]

MESSAGES: Final[dict[str, type[BaseModel]]] = {
    "meter_reading": MeterReading,
    "meter_reading_batch": MeterReadingBatch,
    "ticket_sale": TicketSale,
    "alert": Alert,
    "window_score": WindowScore,
    "dead_letter": DeadLetter,
    "model_update": ModelUpdate,
}
"""File stem -> message model; ``<stem>.schema.json`` in the output folder."""

_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of ``model`` as accepted on input (validation mode)."""
    schema = model.model_json_schema(mode="validation")
    return {"$schema": _DIALECT, **schema}


def render_json_schema(model: type[BaseModel]) -> str:
    """The file content for ``model``: stable text, ending in a newline."""
    return json.dumps(json_schema(model), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json_schemas(directory: Path) -> list[Path]:
    """Write ``<name>.schema.json`` for every message into ``directory``.

    Creates the folder if needed and returns the paths written, sorted.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in sorted(MESSAGES.items()):
        path = directory / f"{name}.schema.json"
        path.write_text(render_json_schema(model), encoding="utf-8")
        written.append(path)
    return written
