"""``anomstream services``: the embedded broker and Redis in the foreground.

The defaults are the standard ports, because those are what the default
settings (``localhost:9092``, ``redis://localhost:6379/0``) point at. A taken
port is an error, not a silent move to another port: a Redis already on 6379
would otherwise receive every command meant for ours. ``--redis-port 0`` (or
``--kafka-port 0``) asks for a free port and prints the variables to export.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from anomstream.embedded import EmbeddedServiceError, EmbeddedServices, PortInUseError

__all__ = ["services"]

_CHECK_INTERVAL_S = 0.5


def services(
    kafka_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Broker port; 0 picks a free one.")
    ] = 9092,
    redis_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Redis port; 0 picks a free one.")
    ] = 6379,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="Where logs and Redis data go (default: a temporary directory, removed on exit).",
        ),
    ] = None,
    redis_aof: Annotated[
        bool, typer.Option(help="Keep a Redis append-only file in the run directory.")
    ] = False,
) -> None:
    """Start an embedded Kafka-compatible broker and Redis; stop them on Ctrl-C."""
    console = Console()
    errors = Console(stderr=True)
    stack = EmbeddedServices(
        kafka_port=kafka_port, redis_port=redis_port, run_dir=run_dir, redis_appendonly=redis_aof
    )
    try:
        stack.start()
    except PortInUseError as exc:
        option = "--kafka-port" if exc.service.startswith("kafka") else "--redis-port"
        errors.print(
            f"[bold red]error:[/] {exc} (another server is probably running there).\n"
            f"Use [bold]{option} 0[/] for a free port, or [bold]{option} N[/] for another one.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from exc
    except EmbeddedServiceError as exc:
        errors.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from exc

    stopping = threading.Event()
    code = 0
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        _print_banner(console, stack)
        while not stopping.wait(_CHECK_INTERVAL_S):
            for service in (stack.kafka, stack.redis):
                if service.process is not None and not service.running:
                    errors.print(
                        f"{service.process.name} exited unexpectedly "
                        f"(code {service.process.returncode}); last log lines:\n"
                        f"{service.process.log_tail()}",
                        markup=False,
                    )
                    code = 1
            if code:
                break
        console.print("stopping…")
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code:
        raise typer.Exit(code)
    console.print("stopped")


def _print_banner(console: Console, stack: EmbeddedServices) -> None:
    console.print("[bold green]anomstream services running[/] (Ctrl-C to stop)")
    console.print(f"  Kafka-compatible broker (tansu)  [bold]{stack.kafka_bootstrap}[/]")
    console.print(f"  Redis                            [bold]{stack.redis_url}[/]")
    console.print(f"  logs                             {stack.run_dir}", highlight=False)
    console.print("Point anomstream at them:")
    for name, value in stack.env().items():
        # Plain text, no wrapping, so the lines can be copied into a shell.
        console.print(f"export {name}={value}", markup=False, highlight=False, soft_wrap=True)
