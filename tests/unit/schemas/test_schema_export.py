"""The committed JSON Schemas are exactly what the models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anomstream.cli import app
from schemas.export import MESSAGES, write_json_schemas

COMMITTED = Path(__file__).resolve().parents[3] / "schemas" / "json"


def test_committed_schemas_are_up_to_date(tmp_path: Path) -> None:
    written = write_json_schemas(tmp_path)
    fresh = {path.name: path.read_text(encoding="utf-8") for path in written}
    committed = {path.name: path.read_text(encoding="utf-8") for path in COMMITTED.glob("*.json")}
    assert fresh == committed, "schemas/json is stale: run `make schemas`"


def test_output_is_stable_and_tidy(tmp_path: Path) -> None:
    first = [path.read_bytes() for path in write_json_schemas(tmp_path / "a")]
    second = [path.read_bytes() for path in write_json_schemas(tmp_path / "b")]
    assert first == second
    for content in first:
        assert content.endswith(b"}\n")
        schema = json.loads(content)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert list(schema) == sorted(schema)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_carries_schema_version(name: str) -> None:
    schema = MESSAGES[name].model_json_schema()
    assert schema["properties"]["schema_version"]["const"] == 1


def test_cli_command_writes_the_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schemas", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{name}.schema.json" for name in MESSAGES
    )
