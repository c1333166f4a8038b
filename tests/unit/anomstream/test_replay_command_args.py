"""``anomstream replay`` refuses bad arguments (exit 2) before it touches Kafka,
and says so when Kafka cannot be reached (exit 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anomstream.cli import app
from anomstream.commands import replay as replay_command

NO_BROKER = "127.0.0.1:1"  # refused at once


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shell's ANOMSTREAM_* must not leak in, and logging stays the test's: the
    command's set-up (structlog, root handlers on the runner's captured streams) is
    process-wide and would outlive the test."""
    for name in list(os.environ):
        if name.startswith("ANOMSTREAM_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(replay_command, "configure_logging", lambda _settings: None)
    monkeypatch.setattr(replay_command, "_quiet_kafka_client", lambda _settings: None)


@pytest.fixture
def readings_csv(tmp_path: Path) -> Path:
    path = tmp_path / "args_readings.csv"
    path.write_text("LCLid,tstp,energy_kwh_hh\nMAC000002,2013-01-01 00:00:00,0.2\n")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["replay", *args, "--bootstrap", NO_BROKER])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "meter_id=LCLID"], "the file has no column 'LCLID'"),
        (["--map", "meter_id"], "write FIELD=COLUMN"),
        (["--map", "energy=energy_kwh_hh"], "'energy' is not a field of a meter message"),
        (["--map", "meter_id=LCLid"], "no column for the field 'ts'"),
        (["--timezone", "Europe/Londn"], "not an IANA time zone name"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(
    readings_csv: Path, args: list[str], message: str
) -> None:
    code, output = run(str(readings_csv), *args)
    assert code == 2
    assert message in output


def test_an_unknown_kind_is_a_usage_error(readings_csv: Path) -> None:
    code, _ = run(str(readings_csv), "--kind", "water")
    assert code == 2


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, output = run(str(tmp_path / "nowhere.csv"))
    assert code == 2
    assert "no such file" in output


def test_an_unreachable_broker_exits_3(readings_csv: Path) -> None:
    code, output = run(
        str(readings_csv),
        "--map",
        "meter_id=LCLid",
        "--map",
        "ts=tstp",
        "--map",
        "kwh=energy_kwh_hh",
    )
    assert code == 3
    assert f"cannot produce to 'meter-readings' on {NO_BROKER}" in output
