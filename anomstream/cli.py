"""The ``anomstream`` command line: one sub-command per module in ``anomstream.commands``.

Heavy imports (torch, faust) happen inside the commands that need them, so
``anomstream --help`` answers at once.
"""

from __future__ import annotations

import typer

from anomstream.commands.alerts import alerts
from anomstream.commands.bench import bench
from anomstream.commands.demo import demo
from anomstream.commands.evaluate import evaluate
from anomstream.commands.models import models
from anomstream.commands.replay import replay
from anomstream.commands.schemas import schemas
from anomstream.commands.services import services
from anomstream.commands.train import train, trainer
from anomstream.commands.worker import worker

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Streaming anomaly detection for half-hourly meter readings and ticket sales.",
)
app.command()(demo)
app.command()(services)
app.command()(worker)
app.command()(train)
app.command()(trainer)
app.command()(models)
app.command()(schemas)
app.command()(replay)
app.command()(alerts)
app.command()(evaluate)
app.command()(bench)


def main() -> None:
    app()
