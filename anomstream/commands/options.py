"""Command-line options that several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["Bootstrap"]

Bootstrap = Annotated[
    str | None,
    typer.Option(
        "--bootstrap",
        "--kafka-bootstrap",
        help="Kafka bootstrap servers (default: ANOMSTREAM_KAFKA_BOOTSTRAP).",
    ),
]
