"""``anomstream demo``: the main job on the embedded default, in under three minutes."""

from __future__ import annotations

import typer

__all__ = ["demo"]


def demo() -> None:
    """Start an embedded broker and Redis, a worker and the trainer; replay real
    London readings with injected anomalies; show alerts live; summarise."""
    from anomstream.demo.run import run_demo

    raise typer.Exit(run_demo())
