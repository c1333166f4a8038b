"""``anomstream replay FILE``: a CSV or Parquet file of readings or sales into Kafka.

Every row becomes one contract message, checked by the same decoders the
workers use, and is produced keyed by its entity (``meter_id`` or
``event_id``) with acks from all in-sync replicas. Rows that fail are not
sent; they are counted by reason and listed at the end with where they are.

Exit codes: 0 every row was sent; 1 some rows were rejected (the others were
sent); 2 bad arguments (unknown column, bad ``--map``, unreadable file, bad
time zone); 3 Kafka could not be reached or refused the messages; 130
interrupted.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from anomstream.commands.options import Bootstrap
from anomstream.commands.train import EXIT_UNAVAILABLE, KindChoice
from anomstream.logs import configure_logging
from schemas.settings import Settings, load_settings

if TYPE_CHECKING:
    from anomstream.replay import Replay, ReplayOptions, ReplayReport

__all__ = ["EXIT_BAD_ARGUMENTS", "EXIT_REJECTED", "replay"]

EXIT_REJECTED: Final = 1
EXIT_BAD_ARGUMENTS: Final = 2
EXIT_INTERRUPTED: Final = 130
_SHOWN_REASONS: Final = 10


def replay(
    file: Annotated[
        Path,
        typer.Argument(help="CSV (.csv, .csv.gz, .bz2, .xz, .zst) or Parquet (.parquet) file."),
    ],
    *,
    kind: Annotated[KindChoice, typer.Option(help="Readings (meter) or sales (ticket).")] = (
        KindChoice.meter
    ),
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="FIELD=COLUMN",
            help="Column of a message field, repeatable: --map meter_id=LCLid --map ts=tstp "
            "--map kwh=energy_kwh_hh. Unmapped fields come from same-named columns.",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(help="IANA zone of naive timestamps (default: ANOMSTREAM_TIMEZONE)."),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0.001, help="Messages per second, evenly spaced (default: as fast as possible)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N rows.")] = None,
    entities: Annotated[
        str | None,
        typer.Option(metavar="ID,ID", help="Only these meters (or events), comma-separated."),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(help="Target topic (default: ANOMSTREAM_TOPIC_READINGS or _SALES)."),
    ] = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Produce a file of readings or sales into Kafka, validated, with a progress bar."""
    from anomstream.replay import BadArguments, ProduceFailed, Replay, ReplayOptions

    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        settings = load_settings(kafka_bootstrap=bootstrap, timezone=timezone)
    except ValidationError as exc:
        errors.print(f"error: {_first_error(exc)}", markup=False)
        raise typer.Exit(EXIT_BAD_ARGUMENTS) from None
    configure_logging(settings)
    _quiet_kafka_client(settings)
    wanted = None
    if entities is not None:
        wanted = frozenset(name.strip() for name in entities.split(",") if name.strip())
    default_topic = settings.topic_readings if kind is KindChoice.meter else settings.topic_sales
    options = ReplayOptions(
        path=file,
        topic=topic or default_topic,
        timezone=settings.timezone,
        kind=kind.value,
        maps=tuple(maps or ()),
        rate=rate,
        limit=limit,
        entities=wanted,
    )
    try:
        job = Replay(options, settings)
    except BadArguments as exc:
        errors.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_ARGUMENTS) from None
    console = Console(highlight=False)
    try:
        report = _run_with_progress(job, console)
    except ProduceFailed as exc:
        errors.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except BadArguments as exc:  # the file turned out unreadable part way
        _summary(console, options, job.report)
        errors.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_ARGUMENTS) from None
    except KeyboardInterrupt:
        report = job.report
        _summary(console, options, report)
        errors.print("interrupted: the rows after those sent were not produced")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    _summary(console, options, report)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _run_with_progress(job: Replay, console: Console) -> ReplayReport:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from anomstream.replay import ReplayProgress

    limit = job.options.limit
    unit_total = limit if limit is not None else job.source.total
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:>11,} rows"),
        TextColumn("{task.fields[speed]:>8,.0f} rows/s"),
        TextColumn("[green]{task.fields[sent]:,} sent"),
        TextColumn("[red]{task.fields[rejected]:,} rejected"),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task(
        escape(job.options.path.name), total=unit_total, rows=0, speed=0.0, sent=0, rejected=0
    )

    def show(snapshot: ReplayProgress) -> None:
        if not progress.live.is_started:  # first call: connected, rows about to flow
            progress.start()
        progress.update(
            task,
            completed=snapshot.rows if limit is not None else snapshot.done,
            rows=snapshot.rows,
            speed=snapshot.rows / snapshot.elapsed_s if snapshot.elapsed_s > 0 else 0.0,
            sent=snapshot.sent,
            rejected=snapshot.rejected,
        )

    try:
        report = asyncio.run(job.run(show))
        progress.update(task, completed=unit_total)
    finally:
        progress.stop()
    return report


def _summary(console: Console, options: ReplayOptions, report: ReplayReport) -> None:
    speed = report.rows / report.elapsed_s if report.elapsed_s > 0 else 0.0
    key = "meter_id" if options.kind == "meter" else "event_id"
    console.print(
        f"Sent {report.sent:,} of {_rows(report.rows)} to {escape(report.topic)} (key = {key}) "
        f"in {report.elapsed_s:.1f} s, {speed:,.0f} rows/s."
    )
    if not report.rejected:
        return
    where = f"first {report.position_name}s"
    table = Table(title=None, box=None, pad_edge=False, show_edge=False)
    table.add_column("rows", justify="right")
    table.add_column("reason")
    table.add_column(where)
    top = report.rejections.top()
    for entry in top[:_SHOWN_REASONS]:
        table.add_row(
            f"{entry.count:,}",
            escape(entry.reason),
            ", ".join(str(row) for row in entry.first_rows),
        )
    console.print(
        f"[bold red]Rejected {_rows(report.rejected)}[/] (not sent; exit code "
        f"{EXIT_REJECTED}), by reason:"
    )
    console.print(table)
    if len(top) > _SHOWN_REASONS:
        console.print(f"... and {len(top) - _SHOWN_REASONS} more reasons")


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    return str(error["msg"]).removeprefix("Value error, ")


def _quiet_kafka_client(settings: Settings) -> None:
    """aiokafka's INFO lines (subscriptions, metadata) are noise in an interactive tool."""
    if settings.log_level == "INFO":
        logging.getLogger("aiokafka").setLevel(logging.WARNING)
