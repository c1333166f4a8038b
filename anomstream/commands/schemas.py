"""``anomstream schemas DIR``: write the JSON Schema of every message to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.export import write_json_schemas

__all__ = ["schemas"]


def schemas(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder for the <message>.schema.json files (created if missing).",
            file_okay=False,
            dir_okay=True,
        ),
    ],
) -> None:
    """Write the JSON Schemas of every message (the repo keeps them in schemas/json)."""
    for path in write_json_schemas(directory):
        typer.echo(path)
