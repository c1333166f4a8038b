"""Chunk -> contract JSON: what is sent decodes as the worker decodes it; the rest is
rejected with the worker's own reasons."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from anomstream.replay.encode import ChunkEncoder
from anomstream.replay.rejections import Rejections
from schemas import decode_reading, decode_sale


def encode(
    kind: str, columns: dict[str, list[object]], zone: str = "UTC"
) -> tuple[list[tuple[bytes, bytes]], Rejections]:
    arrays = {name: pa.array(values) for name, values in columns.items()}
    count = len(next(iter(arrays.values())))
    rejections = Rejections()
    records = ChunkEncoder(kind, zone).encode(  # type: ignore[arg-type]
        arrays, np.arange(2, count + 2), rejections
    )
    return records, rejections


def reasons(rejections: Rejections) -> dict[str, list[int]]:
    return {entry.reason: entry.first_rows for entry in rejections.top()}


def test_good_readings_become_contract_messages_keyed_by_meter() -> None:
    records, rejections = encode(
        "meter",
        {
            "meter_id": ["MAC000002", "MAC000003"],
            "ts": ["2013-03-01 00:30:00", "2013-03-01 01:00:00.0000000"],
            "kwh": ["0.219", "1.9220001"],
        },
    )
    assert rejections.total == 0
    assert [key for key, _ in records] == [b"MAC000002", b"MAC000003"]
    assert json.loads(records[0][1]) == {
        "meter_id": "MAC000002",
        "ts": "2013-03-01T00:30:00Z",
        "kwh": 0.219,
        "schema_version": 1,
    }
    second = decode_reading(records[1][1])
    assert second.kwh == 1.9220001  # the file's digits, exactly


def test_bad_rows_are_rejected_with_reasons_and_positions() -> None:
    records, rejections = encode(
        "meter",
        {
            "meter_id": ["m1", "m2", "m3", None, "m5", "m6", "m7", "m8"],
            "ts": [
                "2013-03-01 00:30:00",
                "2013-03-01 00:30:00",
                "2013-03-01 00:10:00",
                "2013-03-01 00:30:00",
                "2013-03-01 00:30:00",
                "2013-03-01 00:30:00",
                "not a time",
                "2013-03-01 00:30:00",
            ],
            "kwh": ["0.5", "-0.1", "0.5", "0.5", None, "abc", "0.5", "inf"],
        },
    )
    assert [key for key, _ in records] == [b"m1"]
    assert reasons(rejections) == {
        "kwh: must be >= 0": [3],
        "ts: must be the start of a half hour (:00 or :30 exactly, also in UTC)": [4],
        "meter_id: is required": [5],
        "kwh: is required": [6],
        "kwh: must be a number": [7],
        UNREADABLE_TS: [8],
        "kwh: must be a finite number": [9],
    }
    assert rejections.total == 7


UNREADABLE_TS = "ts: cannot be read as a date and time"


def test_optional_fields_are_sent_when_present() -> None:
    records, _ = encode(
        "meter",
        {
            "meter_id": ["m1", "m2"],
            "ts": ["2013-03-01 00:30:00"] * 2,
            "kwh": [0.5, 0.25],
            "temperature_c": [7.5, None],
        },
    )
    assert decode_reading(records[0][1]).temperature_c == 7.5
    assert "temperature_c" not in json.loads(records[1][1])


def test_ids_with_quotes_are_escaped_not_broken() -> None:
    records, rejections = encode(
        "meter",
        {"meter_id": ['say "hi"\\'], "ts": ["2013-03-01 00:30:00"], "kwh": ["1"]},
    )
    assert rejections.total == 0
    assert decode_reading(records[0][1]).meter_id == 'say "hi"\\'
    assert records[0][0] == b'say "hi"\\'


def test_control_characters_in_ids_are_the_schemas_to_refuse() -> None:
    _, rejections = encode(
        "meter", {"meter_id": ["a\nb"], "ts": ["2013-03-01 00:30:00"], "kwh": ["1"]}
    )
    assert reasons(rejections) == {"meter_id: must not contain control characters": [2]}


def test_sales_keyed_by_event_with_whole_quantities() -> None:
    records, rejections = encode(
        "ticket",
        {
            "sale_id": [1, 2, 3],  # integer ids (Parquet) become text
            "event_id": ["EVT-42", "EVT-42", "EVT-7"],
            "ts": ["2024-05-01T18:03:12+02:00", "2024-05-01 18:03:12.25", "2024-05-01 18:00:00"],
            "quantity": [2.0, 2.5, 1.0],  # a float column with a whole number is fine
            "amount": [119.8, 10.0, 5.0],
            "currency": ["EUR", None, "GBP"],
        },
    )
    assert reasons(rejections) == {"quantity: must be an integer": [3]}
    assert [key for key, _ in records] == [b"EVT-42", b"EVT-7"]
    sale = decode_sale(records[0][1])
    assert (sale.sale_id, sale.quantity, sale.currency) == ("1", 2, "EUR")
    assert json.loads(records[0][1])["ts"] == "2024-05-01T16:03:12Z"


def test_an_empty_chunk_is_nothing() -> None:
    records, rejections = encode("meter", {"meter_id": [], "ts": [], "kwh": []})
    assert records == []
    assert rejections.total == 0


@pytest.mark.parametrize("keep", [1, 3])
def test_the_tally_keeps_counts_but_only_the_first_positions(keep: int) -> None:
    rejections = Rejections(keep_rows=keep)
    rejections.add_many("kwh: must be >= 0", [5, 9, 12, 40])
    rejections.add("ts: is required", 2)
    top = rejections.top()
    assert [(entry.reason, entry.count) for entry in top] == [
        ("kwh: must be >= 0", 4),
        ("ts: is required", 1),
    ]
    assert top[0].first_rows == [5, 9, 12, 40][:keep]
    assert rejections.total == 5
