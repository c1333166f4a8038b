"""``anomstream bench``: the benchmark suite (also ``make bench``), see docs/BENCHMARKS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["bench"]


def bench(
    out: Annotated[Path, typer.Option(help="Write the results as JSON here.")] = Path(
        "out/bench.json"
    ),
    quick: Annotated[
        bool, typer.Option(help="A smoke test: small data, one repeat (about a minute).")
    ] = False,
    repeats: Annotated[
        int | None, typer.Option(min=1, help="Repeats of the throughput runs (default 3).")
    ] = None,
    section: Annotated[
        list[str] | None,
        typer.Option(help="Only these sections: throughput, latency, memory, model."),
    ] = None,
) -> None:
    """Measure the worker against a raw consumer and a plain Faust agent, in one run."""
    from dataclasses import replace

    from bench.report import table
    from bench.suite import SECTIONS, SuiteConfig, run_suite

    unknown = set(section or ()) - set(SECTIONS)
    if unknown:
        raise typer.BadParameter(f"unknown section(s) {sorted(unknown)}; choose from {SECTIONS}")
    config = SuiteConfig.quick() if quick else SuiteConfig()
    if repeats is not None:
        config = replace(config, repeats=repeats)
    results = run_suite(config, sections=set(section) if section else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    typer.echo("")
    typer.echo(table(results))
    typer.echo(f"\nwrote {out}")
