"""``anomstream trainer`` and ``anomstream train --once``: the trainer service, or one run of it.

Exit codes of ``train --once``:

* 0: trained: a new version was published, or the current one was kept
  because it is better on the same held-out days;
* 1: too little data (the message says how much there is and how much is needed);
* 3: ``window-scores`` could not be read, or a published version could not be
  announced on ``model-updates`` (it is current on disk regardless, so workers
  that share the model directory switch at their next pointer poll).

Without ``--kind``, every kind with windows is trained, and the run counts as
trained when at least one kind was.
"""

from __future__ import annotations

import asyncio
import contextlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from anomstream.logs import configure_logging
from schemas.settings import Settings, load_settings

# torch and the trainer are imported inside the commands: `anomstream --help`
# must answer without loading them.
if TYPE_CHECKING:
    from trainer.service import Decision, TrainerService

__all__ = ["EXIT_NOT_ENOUGH_DATA", "EXIT_UNAVAILABLE", "KindChoice", "train", "trainer"]

EXIT_NOT_ENOUGH_DATA = 1
EXIT_UNAVAILABLE = 3


class KindChoice(StrEnum):
    meter = "meter"
    ticket = "ticket"


KafkaOption = Annotated[str | None, typer.Option(help="Kafka bootstrap servers.")]
ModelDirOption = Annotated[
    Path | None, typer.Option(file_okay=False, help="Model registry directory.")
]
DeviceOption = Annotated[str | None, typer.Option(help="auto, cpu or cuda.")]
TimezoneOption = Annotated[str | None, typer.Option(help="IANA zone of the day windows.")]


def _settings(**flags: object) -> Settings:
    settings = load_settings(**flags)
    configure_logging(settings)
    if settings.train_cpu_threads is not None:
        import torch

        # Also for what runs outside fit(): scoring held-out days with both models.
        torch.set_num_threads(settings.train_cpu_threads)
    return settings


def _service(settings: Settings) -> TrainerService:
    from trainer.service import TrainerService

    return TrainerService(settings)


def trainer(
    *,
    kafka_bootstrap: KafkaOption = None,
    model_dir: ModelDirOption = None,
    device: DeviceOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Run the trainer service: retrain on a schedule, publish versions that win."""
    settings = _settings(
        kafka_bootstrap=kafka_bootstrap, model_dir=model_dir, device=device, timezone=timezone
    )
    # Ctrl-C stops at once, even mid-training: the checkpoint resumes it next time.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_service(settings).run_forever())


def train(
    *,
    once: Annotated[bool, typer.Option("--once", help="One training run now, then exit.")] = False,
    kind: Annotated[
        KindChoice | None, typer.Option(help="Train only this kind (default: every kind seen).")
    ] = None,
    kafka_bootstrap: KafkaOption = None,
    model_dir: ModelDirOption = None,
    device: DeviceOption = None,
    timezone: TimezoneOption = None,
    max_epochs: Annotated[
        int | None, typer.Option(min=1, help="Upper bound on training epochs.")
    ] = None,
) -> None:
    """Train from window-scores: ``--once`` for one run now; without it, the service."""
    if not once:
        trainer(
            kafka_bootstrap=kafka_bootstrap, model_dir=model_dir, device=device, timezone=timezone
        )
        return
    settings = _settings(
        kafka_bootstrap=kafka_bootstrap,
        model_dir=model_dir,
        device=device,
        timezone=timezone,
        train_max_epochs=max_epochs,
    )
    code = run_once(settings, [kind.value] if kind else None)
    if code:
        raise typer.Exit(code)


def run_once(
    settings: Settings,
    kinds: list[str] | None = None,
    *,
    service: TrainerService | None = None,
    console: Console | None = None,
) -> int:
    """One training run; prints what happened and returns the exit code."""
    from trainer.source import ScoresUnavailable

    service = service or _service(settings)
    out = console or Console()
    errors = Console(stderr=True)
    try:
        decisions = asyncio.run(service.run_once(kinds))
    except ScoresUnavailable as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_UNAVAILABLE
    out.print(_table(decisions))
    if not any(d.trained for d in decisions):
        needs = "; ".join(f"{d.kind}: {d.reason}" for d in decisions)
        errors.print(
            f"error: too little data to train ({needs}). Let the workers score more days "
            f"into {settings.topic_scores}, or lower ANOMSTREAM_TRAIN_MIN_WINDOWS.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_NOT_ENOUGH_DATA
    if service.pending_announcements:
        errors.print(
            f"warning: a published version could not be announced on "
            f"{settings.topic_model_updates}; it is current in {settings.model_dir} and "
            "workers sharing that directory switch at their next poll.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_UNAVAILABLE
    return 0


def _table(decisions: list[Decision]) -> Table:
    table = Table(title="training run", title_justify="left")
    for column in ("kind", "decision", "version", "windows", "held-out mean score", "reason"):
        table.add_column(column, no_wrap=column in {"kind", "version"})
    for d in decisions:
        score = d.metrics.get("holdout_mean_score")
        table.add_row(
            d.kind,
            d.action.replace("_", " ") + (" (first model)" if d.first else ""),
            d.version or "-",
            str(d.windows),
            "-" if score is None else f"{score:.4g}",
            d.reason,
        )
    return table
