"""``anomstream alerts`` against the session's broker: readable panels, raw JSON lines,
filters, and the ways it stops (``--max``, ``--timeout``)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import Result
from harness.groups import FAST_GROUP_SETTINGS
from harness.kafka_io import produce
from harness.topics import TopicNames
from typer.testing import CliRunner

from anomstream.cli import app
from anomstream.commands import alerts as alerts_command
from schemas import Alert, SlotExplanation
from schemas.settings import Settings


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shell's ANOMSTREAM_* must not leak in, and logging stays the test's: the
    command's set-up (structlog, root handlers on the runner's captured streams) is
    process-wide and would outlive the test."""
    for name in list(os.environ):
        if name.startswith("ANOMSTREAM_"):
            monkeypatch.delenv(name)
    for name, value in FAST_GROUP_SETTINGS.items():  # a group joins in seconds on tansu
        monkeypatch.setenv(f"ANOMSTREAM_{name.upper()}", str(value))
    monkeypatch.setattr(alerts_command, "configure_logging", lambda _settings: None)
    monkeypatch.setattr(alerts_command, "_quiet_kafka_client", lambda _settings: None)


def make_alert(entity: str, severity: str, score: float, peak_slot: int) -> Alert:
    start = datetime(2013, 3, 5, tzinfo=UTC)
    actual = [0.2] * 48
    actual[peak_slot] = 2.1
    slot = SlotExplanation(
        index=peak_slot,
        start=start + timedelta(minutes=30 * peak_slot),
        actual=2.1,
        expected=0.3,
        contribution=score * 0.8,
    )
    return Alert(
        alert_id=f"alert-{entity}",
        revision=0,
        kind="meter",
        entity_id=entity,
        day=date(2013, 3, 5),
        timezone="Europe/London",
        window_start=start,
        window_end=start + timedelta(days=1),
        score=score,
        threshold=0.41,
        severity=severity,  # type: ignore[arg-type]
        detector="autoencoder",
        model_version="meter-20130301T0400-3",
        actual=actual,
        expected=[0.3] * 48,
        slots=[slot],
        missing_slots=[],
        detected_at=datetime(2026, 11, 22, 10, tzinfo=UTC),
    )


ALERTS = [
    make_alert("MAC000003", "high", 0.93, peak_slot=36),  # 18:00
    make_alert("MAC000009", "critical", 2.6, peak_slot=14),  # 07:00
]


@pytest.fixture
async def published(settings: Settings, topics: TopicNames) -> list[Alert]:
    """The two alerts on this test's anomalies topic, after a message that is none."""
    messages = [(b"junk", b'{"not": "an alert"}')]
    messages += [(a.entity_id.encode(), a.model_dump_json().encode()) for a in ALERTS]
    await produce(settings.kafka_bootstrap, topics.anomalies, messages)
    return ALERTS


async def alerts(settings: Settings, topics: TopicNames, *args: str) -> Result:
    argv = ["alerts", *args, "--topic", topics.anomalies, "--bootstrap", settings.kafka_bootstrap]
    return await asyncio.to_thread(CliRunner().invoke, app, argv)


async def test_alerts_are_printed_readably(
    settings: Settings, topics: TopicNames, published: list[Alert]
) -> None:
    result = await alerts(settings, topics, "--from-beginning", "--max", "2")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "HIGH meter MAC000003 2013-03-05" in out
    assert "CRITICAL meter MAC000009 2013-03-05" in out
    assert "score 0.93 / threshold 0.41" in out
    assert "18:00  actual    2.10  expected 0.30" in out  # the slot that explains it
    assert "07:00" in out
    assert "█" in out  # the day's sparkline
    assert "not an alert" in result.stderr  # the junk message: reported, skipped


async def test_json_prints_one_raw_alert_per_line(
    settings: Settings, topics: TopicNames, published: list[Alert]
) -> None:
    result = await alerts(settings, topics, "--from-beginning", "--max", "2", "--json")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    shown = sorted((Alert.model_validate_json(line) for line in lines), key=lambda a: a.score)
    assert shown == published
    assert json.loads(lines[0])["schema_version"] == 1


async def test_filters_and_idle_timeout(
    settings: Settings, topics: TopicNames, published: list[Alert]
) -> None:
    result = await alerts(
        settings, topics, "--from-beginning", "--json", "--min-severity", "critical",
        "--timeout", "1",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert [json.loads(line)["entity_id"] for line in result.stdout.splitlines()] == ["MAC000009"]

    nothing = await alerts(
        settings, topics, "--from-beginning", "--entity", "MAC999999", "--timeout", "1"
    )
    assert nothing.exit_code == 0, nothing.output
    assert nothing.stdout == ""


async def test_a_group_commits_so_it_resumes_after_what_it_saw(
    settings: Settings, topics: TopicNames, published: list[Alert]
) -> None:
    group = f"alerts-test-{topics.anomalies}"
    first = await alerts(
        settings, topics, "--from-beginning", "--json", "--group", group, "--max", "2"
    )
    assert first.exit_code == 0, first.output
    assert len(first.stdout.splitlines()) == 2

    again = await alerts(
        settings, topics, "--from-beginning", "--json", "--group", group, "--timeout", "1"
    )
    assert again.exit_code == 0, again.output
    assert again.stdout == ""  # the group's committed offsets win over --from-beginning
