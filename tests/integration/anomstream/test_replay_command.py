"""``anomstream replay FILE`` against the session's broker: what arrives, keyed how,
and what is rejected. The pure parts are unit-tested in ``tests/unit/anomstream``."""

from __future__ import annotations

import asyncio
import gzip
import os
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from click.testing import Result
from harness.london import london_dir
from harness.topics import TopicNames
from typer.testing import CliRunner

from anomstream.cli import app
from anomstream.commands import replay as replay_command
from infra import kafka_client_options
from schemas import decode_reading, decode_sale
from schemas.settings import Settings

README_MAPS = ["--map", "meter_id=LCLid", "--map", "ts=tstp", "--map", "kwh=energy_kwh_hh"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shell's ANOMSTREAM_* must not leak in, and logging stays the test's: the
    command's set-up (structlog, root handlers on the runner's captured streams) is
    process-wide and would outlive the test."""
    for name in list(os.environ):
        if name.startswith("ANOMSTREAM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANOMSTREAM_KAFKA_IDEMPOTENT_PRODUCER", "false")  # tansu has none
    monkeypatch.setattr(replay_command, "configure_logging", lambda _settings: None)
    monkeypatch.setattr(replay_command, "_quiet_kafka_client", lambda _settings: None)


async def replay(settings: Settings, *args: str) -> Result:
    """The command as a user runs it, in a thread (it runs its own event loop)."""
    argv = ["replay", *args, "--bootstrap", settings.kafka_bootstrap]
    return await asyncio.to_thread(CliRunner().invoke, app, argv)


async def records_of(
    settings: Settings, topic: str, count: int, *, settle_s: float = 0.5
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` once ``count`` arrived (then ``settle_s`` for extras)."""
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(20):
            while len(seen) < count:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    seen += batch
        await asyncio.sleep(settle_s)
        for batch in (await consumer.getmany(timeout_ms=200)).values():
            seen += batch
    finally:
        await consumer.stop()
    return seen


@pytest.fixture(scope="module")
def london_slice(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The first 300 readings of four real households, as the file writes them."""
    head = pd.read_csv(london_dir() / "readings_2013.csv.gz", nrows=60_000, dtype=str)
    return head.groupby("LCLid", sort=False).head(300).reset_index(drop=True)


async def test_a_slice_of_the_london_file_arrives_keyed_by_meter(
    settings: Settings, topics: TopicNames, tmp_path: Path, london_slice: pd.DataFrame
) -> None:
    path = tmp_path / "london_slice.csv.gz"
    path.write_bytes(gzip.compress(london_slice.to_csv(index=False).encode()))

    result = await replay(
        settings, str(path), *README_MAPS, "--timezone", "UTC", "--topic", topics.readings
    )

    assert result.exit_code == 0, result.output
    assert f"Sent {len(london_slice):,} of {len(london_slice):,} rows" in result.output
    records = await records_of(settings, topics.readings, len(london_slice))
    assert len(records) == len(london_slice)
    readings = [decode_reading(record.value) for record in records]
    assert all(
        record.key == reading.meter_id.encode()
        for record, reading in zip(records, readings, strict=True)
    )
    # one partition per meter, and each meter's readings in file order there
    partitions: dict[bytes | None, set[int]] = defaultdict(set)
    by_meter: dict[str, list[str]] = defaultdict(list)
    for record, reading in sorted(
        zip(records, readings, strict=True), key=lambda pair: pair[0].offset
    ):
        partitions[record.key].add(record.partition)
        by_meter[reading.meter_id].append(reading.ts.strftime("%Y-%m-%d %H:%M:%S"))
    assert all(len(found) == 1 for found in partitions.values())
    expected = london_slice.groupby("LCLid")["tstp"].apply(list).to_dict()
    assert by_meter == {meter: [ts[:19] for ts in stamps] for meter, stamps in expected.items()}
    sent = {(r.meter_id, r.ts.strftime("%Y-%m-%d %H:%M:%S")): r.kwh for r in readings}
    assert sent == {
        (row.LCLid, row.tstp[:19]): float(row.energy_kwh_hh) for row in london_slice.itertuples()
    }


async def test_naive_times_shift_by_the_configured_zone(
    settings: Settings,
    topics: TopicNames,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "bst_readings.csv"
    path.write_text(
        "meter_id,ts,kwh\n"
        "m1,2013-06-01 12:00:00,0.5\n"  # BST: 11:00 UTC
        "m1,2013-06-01 12:30:00,0.6\n"
        "m1,2013-01-15 12:00:00,0.7\n"  # GMT: unchanged
    )
    monkeypatch.setenv("ANOMSTREAM_TIMEZONE", "Europe/London")  # no --timezone: the setting

    result = await replay(settings, str(path), "--topic", topics.readings)

    assert result.exit_code == 0, result.output
    records = await records_of(settings, topics.readings, 3)
    stamps = sorted(decode_reading(record.value).ts.isoformat() for record in records)
    assert stamps == [
        "2013-01-15T12:00:00+00:00",
        "2013-06-01T11:00:00+00:00",
        "2013-06-01T11:30:00+00:00",
    ]


async def test_bad_rows_are_reported_and_the_rest_sent(
    settings: Settings, topics: TopicNames, tmp_path: Path
) -> None:
    path = tmp_path / "bad_rows.csv"
    path.write_text(
        "meter_id,ts,kwh\n"
        "m1,2013-03-01 00:00:00,0.5\n"  # line 2: fine
        "m1,2013-03-01 00:30:00,-0.2\n"  # line 3: negative
        "m1,2013-03-01 00:45:00,0.1\n"  # line 4: not a half-hour start
        "m1,2013-03-01 01:00:00,\n"  # line 5: no value
        "m2,2013-03-01 00:00:00,1.5\n"  # line 6: fine
        "m2,2013-03-01 00:30:00\n"  # line 7: a field short
        "m2,2013-03-01 01:00:00,-1\n"  # line 8: negative
    )

    result = await replay(settings, str(path), "--timezone", "UTC", "--topic", topics.readings)

    assert result.exit_code == 1, result.output
    out = result.output
    assert "Sent 2 of 7 rows" in out
    assert "Rejected 5 rows" in out
    assert "kwh: must be >= 0" in out
    assert "3, 8" in out  # the first lines of the most frequent reason
    assert "ts: must be the start of a half hour" in out
    assert "kwh: is required" in out
    assert "malformed CSV line: 2 fields, expected 3" in out
    records = await records_of(settings, topics.readings, 2)
    assert sorted(decode_reading(r.value).kwh for r in records) == [0.5, 1.5]


async def test_sales_go_to_the_sales_topic_keyed_by_event(
    settings: Settings, topics: TopicNames, tmp_path: Path
) -> None:
    path = tmp_path / "ticket_sales.csv"
    path.write_text(
        "id,event,time,qty,price,currency,channel\n"
        "S-1,EVT-42,2024-05-01T18:03:12+02:00,2,119.80,EUR,web\n"
        "S-2,EVT-42,2024-05-01 18:10:00,1,59.90,EUR,\n"
        "S-3,EVT-7,2024-05-02 09:00:00,3,30,,box office\n"
    )
    maps = ["sale_id=id", "event_id=event", "ts=time", "quantity=qty", "amount=price"]

    result = await replay(
        settings,
        str(path),
        "--kind",
        "ticket",
        *[arg for spec in maps for arg in ("--map", spec)],
        "--timezone",
        "Europe/Berlin",
        "--topic",
        topics.sales,
    )

    assert result.exit_code == 0, result.output
    records = await records_of(settings, topics.sales, 3)
    sales = {decode_sale(r.value).sale_id: (r.key, decode_sale(r.value)) for r in records}
    assert {sale_id: key for sale_id, (key, _) in sales.items()} == {
        "S-1": b"EVT-42",
        "S-2": b"EVT-42",
        "S-3": b"EVT-7",
    }
    assert sales["S-2"][1].ts.isoformat() == "2024-05-01T16:10:00+00:00"  # CEST
    assert (sales["S-1"][1].quantity, sales["S-1"][1].channel) == (2, "web")
    assert sales["S-3"][1].currency is None


async def test_parquet_with_timestamps_and_temperature(
    settings: Settings, topics: TopicNames, tmp_path: Path
) -> None:
    path = tmp_path / "readings.parquet"
    table = pa.table(
        {
            "meter": ["p1", "p1", "p2"],
            "start": pa.array(
                [datetime(2013, 2, 1, 0, 0), datetime(2013, 2, 1, 0, 30), datetime(2013, 2, 1)],
                pa.timestamp("us"),
            ),
            "energy": [0.25, 0.5, 0.75],
            "temperature_c": [3.5, None, 4.0],
        }
    )
    pq.write_table(table, path)

    result = await replay(
        settings,
        str(path),
        "--map",
        "meter_id=meter",
        "--map",
        "ts=start",
        "--map",
        "kwh=energy",
        "--topic",
        topics.readings,
    )

    assert result.exit_code == 0, result.output
    records = await records_of(settings, topics.readings, 3)
    readings = sorted((decode_reading(r.value) for r in records), key=lambda r: r.kwh)
    assert [(r.meter_id, r.kwh, r.temperature_c) for r in readings] == [
        ("p1", 0.25, 3.5),
        ("p1", 0.5, None),
        ("p2", 0.75, 4.0),
    ]


async def test_rate_limit_and_filters_still_send_every_selected_row(
    settings: Settings, topics: TopicNames, tmp_path: Path
) -> None:
    path = tmp_path / "rated_readings.csv"
    rows = [f"m{i % 3},2013-03-01 {i // 2:02d}:{30 * (i % 2):02d}:00,0.{i}" for i in range(40)]
    path.write_text("meter_id,ts,kwh\n" + "\n".join(rows) + "\n")

    result = await replay(
        settings,
        str(path),
        "--rate",
        "500",
        "--entities",
        "m0,m2",
        "--limit",
        "20",
        "--topic",
        topics.readings,
    )

    assert result.exit_code == 0, result.output
    records = await records_of(settings, topics.readings, 20)
    assert len(records) == 20
    assert {record.key for record in records} == {b"m0", b"m2"}
