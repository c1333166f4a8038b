"""``anomstream models``: the model versions per kind; ``--rollback VERSION`` to go back.

A rollback makes ``VERSION`` current in the registry (refused unless it
loads cleanly) and announces it on ``model-updates`` with action
``rollback``, so running workers switch at once; workers that share the
model directory would also see the pointer move at their next poll.

Exit codes: 0 done; 1 no such version, or it is refused; 3 the rollback is
done on disk but could not be announced (run it again to announce).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from anomstream.commands.train import EXIT_UNAVAILABLE, KindChoice
from anomstream.logs import configure_logging
from schemas.settings import Settings, load_settings

# The registry (torch) is imported inside the command: `anomstream --help`
# must answer without loading it.
if TYPE_CHECKING:
    from core.registry import ModelRegistry

__all__ = ["describe_versions", "models"]

_KINDS = ("meter", "ticket")


def models(
    *,
    kind: Annotated[KindChoice | None, typer.Option(help="Only this kind.")] = None,
    rollback: Annotated[
        str | None,
        typer.Option(metavar="VERSION", help="Make this earlier version current and announce it."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine-readable output (one JSON document).")
    ] = False,
    model_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Model registry directory.")
    ] = None,
    kafka_bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers (for --rollback).")
    ] = None,
) -> None:
    """List model versions (* = current): data range, windows, metrics, threshold."""
    from core.holidays import load_calendar
    from core.registry import ModelRegistry

    settings = load_settings(model_dir=model_dir, kafka_bootstrap=kafka_bootstrap)
    configure_logging(settings)
    registry = ModelRegistry(
        settings.model_dir, device="cpu", calendar=load_calendar(settings.holidays_path)
    )
    if rollback is not None:
        code = _rollback(settings, registry, rollback, json_output)
        if code:
            raise typer.Exit(code)
        return
    kinds = [kind.value] if kind else sorted(set(_KINDS) | set(registry.kinds()))
    rows = describe_versions(registry, kinds)
    if json_output:
        typer.echo(json.dumps({"model_dir": str(settings.model_dir), "versions": rows}, indent=2))
        return
    console = Console()
    for name in kinds:
        mine = [r for r in rows if r["kind"] == name]
        if mine:
            console.print(_table(name, mine))
        else:
            console.print(f"{name}: no model yet (the baseline scores)")


def describe_versions(registry: ModelRegistry, kinds: list[str]) -> list[dict[str, Any]]:
    """One plain dict per version (oldest first); a refused one carries ``error``."""
    from core.exceptions import CoreError

    rows: list[dict[str, Any]] = []
    for kind in kinds:
        current = registry.current(kind)
        for version in registry.list_versions(kind):
            row: dict[str, Any] = {"kind": kind, "version": version, "current": version == current}
            try:
                record = registry.describe(kind, version)
            except CoreError as exc:
                rows.append({**row, "error": str(exc)})
                continue
            meta = record.metadata
            rows.append(
                {
                    **row,
                    "created": record.created.isoformat(),
                    "data_first_day": meta.data_first_day.isoformat(),
                    "data_last_day": meta.data_last_day.isoformat(),
                    "n_train": meta.n_train,
                    "n_valid": meta.n_valid,
                    "threshold": meta.threshold.value,
                    "threshold_method": str(meta.threshold.method),
                    "metrics": dict(meta.metrics),
                    "training": dict(meta.training),
                    "sha256": record.sha256,
                }
            )
    return rows


def _rollback(settings: Settings, registry: ModelRegistry, version: str, json_output: bool) -> int:
    from core.exceptions import CoreError
    from core.registry import parse_version
    from trainer.announce import AnnounceFailed, Announcer, model_update

    errors = Console(stderr=True)
    try:
        kind = parse_version(version)[0]
        before = registry.current(kind)
        registry.rollback(kind, version)
        update = model_update(registry, kind, version, "rollback")
    except CoreError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    try:
        asyncio.run(Announcer(settings).announce(update))
    except AnnounceFailed as exc:
        errors.print(
            f"warning: {kind} is now at {version} in {settings.model_dir}, but {exc}. "
            "Workers sharing that directory switch at their next poll; run the rollback "
            "again to announce it.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_UNAVAILABLE
    if json_output:
        typer.echo(json.dumps({"kind": kind, "current": version, "previous": before}))
    else:
        Console().print(
            f"{kind}: current is now [bold]{version}[/] (was {before or 'none'}); "
            f"announced on {settings.topic_model_updates}"
        )
    return 0


def _table(kind: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{kind} models", title_justify="left")
    columns = ("", "version", "created UTC", "data", "windows", "val loss", "threshold")
    for column in (*columns, "held-out score mean / p99"):
        table.add_column(column, no_wrap=column == "version")
    for row in rows:
        marker = "[bold green]*[/]" if row["current"] else ""
        if "error" in row:
            table.add_row(marker, row["version"], f"[red]refused: {row['error']}[/]", *[""] * 5)
            continue
        metrics = row["metrics"]
        table.add_row(
            marker,
            row["version"],
            row["created"][:16].replace("T", " "),
            f"{row['data_first_day']} → {row['data_last_day']}",
            f"{row['n_train']} + {row['n_valid']} held out",
            _number(metrics.get("valid_loss")),
            f"{_number(row['threshold'])} ({row['threshold_method']})",
            f"{_number(metrics.get('holdout_mean_score'))} / "
            f"{_number(metrics.get('holdout_p99_score'))}",
        )
    return table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
