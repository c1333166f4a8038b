"""``anomstream alerts``: follow the anomalies topic and show each alert readably.

A read-only follower by default: no consumer group, so nothing is committed
and any number of people can watch without taking alerts from the team's
real consumers. ``--group NAME`` joins a group instead (committed offsets,
shared partitions), for a consumer that should resume where it stopped.
``--from-beginning`` follows Kafka's console consumer: without a group it
reads the whole topic; with a group it applies only while the group has no
committed offsets.

Every message is checked against :class:`schemas.Alert` before it is shown;
one that is not an alert is reported on stderr and skipped (the topic is
someone else's input too). ``--json`` prints each alert as one JSON line on
stdout (for ``jq`` and scripts); progress notes go to stderr.

Exit codes: 0 (also after ``--max``, ``--timeout`` or Ctrl-C); 3 Kafka could
not be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Final

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console

from anomstream.commands.options import Bootstrap
from anomstream.commands.train import EXIT_UNAVAILABLE, KindChoice
from anomstream.logs import configure_logging
from schemas import Alert, InvalidMessage
from schemas.settings import Settings, load_settings

__all__ = ["AlertFilter", "SeverityChoice", "alerts", "follow_alerts"]

_POLL_MS: Final = 200
_CONNECT_TIMEOUT_S: Final = 30.0


class SeverityChoice(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


_RANK: Final[dict[str, int]] = {name.value: rank for rank, name in enumerate(SeverityChoice)}


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts to show: by kind, entity and least severity (None: any)."""

    kind: str | None = None
    entities: frozenset[str] | None = None
    min_severity: SeverityChoice | None = None

    def accepts(self, alert: Alert) -> bool:
        if self.kind is not None and alert.kind != self.kind:
            return False
        if self.entities is not None and alert.entity_id not in self.entities:
            return False
        return self.min_severity is None or _RANK[alert.severity] >= _RANK[self.min_severity]


class FollowFailed(Exception):
    """Kafka could not be reached or read."""


async def follow_alerts(
    settings: Settings,
    *,
    topic: str,
    show: Callable[[bytes, Alert], None],
    on_invalid: Callable[[str], None],
    selection: AlertFilter,
    from_beginning: bool = False,
    group: str | None = None,
    max_alerts: int | None = None,
    idle_timeout_s: float | None = None,
) -> int:
    """Show matching alerts until ``max_alerts`` or ``idle_timeout_s`` without one; the count.

    Raises :class:`FollowFailed` when Kafka cannot be reached.
    """
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import KafkaError

    from infra.kafka import kafka_client_options, kafka_group_options

    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings),
        **(kafka_group_options(settings) if group else {}),
        client_id="anomstream-alerts",
        group_id=group,
        enable_auto_commit=group is not None,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        async with asyncio.timeout(_CONNECT_TIMEOUT_S):
            await consumer.start()
        # Subscribed after start: start() would also wait for the group's
        # assignment, which may rightly take long, within the connect timeout.
        consumer.subscribe([topic])
    except (KafkaError, TimeoutError, OSError) as exc:
        await consumer.stop()
        detail = str(exc) or type(exc).__name__
        raise FollowFailed(
            f"cannot read {topic!r} from {settings.kafka_bootstrap}: {detail}"
        ) from exc
    shown = 0
    last_shown = time.monotonic()
    try:
        while max_alerts is None or shown < max_alerts:
            try:
                batch = await consumer.getmany(timeout_ms=_POLL_MS)
            except KafkaError as exc:
                raise FollowFailed(f"reading {topic!r} failed: {exc}") from exc
            for partition, records in batch.items():
                for record in records:
                    alert = _alert(record.value, partition.partition, record.offset, on_invalid)
                    if alert is None or not selection.accepts(alert):
                        continue
                    show(record.value, alert)
                    shown += 1
                    last_shown = time.monotonic()
                    if max_alerts is not None and shown >= max_alerts:
                        return shown
            if idle_timeout_s is not None and time.monotonic() - last_shown >= idle_timeout_s:
                break
    finally:
        await consumer.stop()
    return shown


def _alert(
    value: bytes | None, partition: int, offset: int, on_invalid: Callable[[str], None]
) -> Alert | None:
    try:
        return Alert.model_validate_json(value or b"")
    except ValidationError as exc:
        reason = InvalidMessage.from_validation_error(exc).message
        on_invalid(f"skipped partition {partition} offset {offset}: not an alert ({reason})")
        return None


def alerts(
    *,
    from_beginning: Annotated[
        bool,
        typer.Option(
            "--from-beginning", help="Start at the oldest alert (with --group: when it has none)."
        ),
    ] = False,
    kind: Annotated[KindChoice | None, typer.Option(help="Only this kind.")] = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(metavar="ID", help="Only this meter or event (repeatable)."),
    ] = None,
    min_severity: Annotated[
        SeverityChoice | None, typer.Option(help="Only alerts at least this severe.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="One raw JSON alert per line (for piping).")
    ] = False,
    max_alerts: Annotated[
        int | None, typer.Option("--max", min=1, help="Exit after N alerts.")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(min=0.0, metavar="SECONDS", help="Exit after this long without an alert."),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            help="Consumer group to join and commit to (default: none: a read-only follower)."
        ),
    ] = None,
    topic: Annotated[
        str | None, typer.Option(help="Topic (default: ANOMSTREAM_TOPIC_ANOMALIES).")
    ] = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Follow the anomalies topic and print each alert readably (--json: raw lines)."""
    from anomstream.alert_view import render_alert

    settings = load_settings(kafka_bootstrap=bootstrap)
    configure_logging(settings)
    _quiet_kafka_client(settings)
    console = Console(highlight=False)
    notes = Console(stderr=True, highlight=False, soft_wrap=True)
    source = topic or settings.topic_anomalies

    def show(raw: bytes, _alert: Alert) -> None:
        parsed = orjson.loads(raw)
        if json_output:
            typer.echo(orjson.dumps(parsed).decode())  # one line, whatever the producer wrote
        else:
            console.print(render_alert(parsed))

    selection = AlertFilter(
        kind=kind.value if kind else None,
        entities=frozenset(entity) if entity else None,
        min_severity=min_severity,
    )
    start = "the beginning" if from_beginning else "now"
    notes.print(
        f"following {source} on {settings.kafka_bootstrap} from {start}"
        f"{f' as group {group}' if group else ''} (Ctrl-C to stop)",
        markup=False,
        style="dim",
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way out
        try:
            asyncio.run(
                follow_alerts(
                    settings,
                    topic=source,
                    show=show,
                    on_invalid=lambda note: notes.print(note, markup=False, style="yellow"),
                    selection=selection,
                    from_beginning=from_beginning,
                    group=group,
                    max_alerts=max_alerts,
                    idle_timeout_s=timeout,
                )
            )
        except FollowFailed as exc:
            notes.print(f"error: {exc}", markup=False, style=None)
            raise typer.Exit(EXIT_UNAVAILABLE) from None


def _quiet_kafka_client(settings: Settings) -> None:
    """aiokafka's INFO lines (subscriptions, metadata) are noise in an interactive tool."""
    if settings.log_level == "INFO":
        logging.getLogger("aiokafka").setLevel(logging.WARNING)
