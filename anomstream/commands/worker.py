"""``anomstream worker``: one stream worker (a Faust worker) of the consumer group."""

from __future__ import annotations

from typing import Annotated

import typer

from anomstream.logs import configure_logging
from schemas.settings import load_settings

__all__ = ["worker"]


def worker(
    kafka_bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap servers")] = None,
    redis_url: Annotated[str | None, typer.Option(help="Redis URL")] = None,
    web_port: Annotated[int | None, typer.Option(help="Health/metrics port")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA zone of the day windows")] = None,
) -> None:
    """Run a stream worker against the configured Kafka and Redis."""
    import faust  # noqa: F401 - imported here: the CLI's other commands stay fast to start

    from stream.app import create_app

    settings = load_settings(
        kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, web_port=web_port, timezone=timezone
    )
    configure_logging(settings)
    import torch

    # one scoring thread: the worker shares its cores with Kafka, Redis and
    # Faust, and torch's default thread pool makes small batches far slower
    torch.set_num_threads(1)
    import uvloop

    # before the app: Faust takes the loop of the current policy
    uvloop.install()
    app = create_app(settings)
    from faust.worker import Worker

    # keep our structured logging: Faust would install its own formatter otherwise
    Worker(
        app, loglevel=settings.log_level, quiet=True, override_logging=False
    ).execute_from_commandline()
