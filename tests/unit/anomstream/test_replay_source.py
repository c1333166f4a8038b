"""Reading files in chunks: CSV (plain, gzip) and Parquet, positions, malformed lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anomstream.replay.errors import BadArguments
from anomstream.replay.fields import KIND_FIELDS
from anomstream.replay.rejections import Rejections
from anomstream.replay.source import CsvSource, ParquetSource, open_source

METER_SPECS = {spec.name: spec for spec in KIND_FIELDS["meter"]}
COLUMNS = {"meter_id": "id", "ts": "time", "kwh": "energy"}


def read_all(path: Path) -> tuple[dict[str, list[object]], list[int], Rejections]:
    source = open_source(path)
    rejections = Rejections()
    values: dict[str, list[object]] = {name: [] for name in COLUMNS}
    rows: list[int] = []
    for chunk in source.chunks(COLUMNS, rejections):
        for name, array in chunk.columns.items():
            values[name] += array.to_pylist()
        rows += chunk.rows.tolist()
    return values, rows, rejections


def test_csv_gz_is_read_with_physical_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "readings.csv.gz"
    path.write_bytes(gzip.compress(b"id,time,energy,extra\nm1,2013-01-01 00:00:00,0.5,x\nm2,,,y\n"))
    source = open_source(path)
    assert isinstance(source, CsvSource)
    assert source.columns == ["id", "time", "energy", "extra"]
    values, rows, rejections = read_all(path)
    assert values == {
        "meter_id": ["m1", "m2"],
        "ts": ["2013-01-01 00:00:00", None],  # empty cells are missing values
        "kwh": ["0.5", None],
    }
    assert rows == [2, 3]
    assert rejections.total == 0


def test_malformed_and_blank_lines_keep_the_numbering(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "id,time,energy\n"
        "m1,t1,1\n"  # line 2
        "m2,t2\n"  # line 3: a field short
        "\n"  # line 4: blank: rejected, and counted as a line
        "m5,t5,5\n"
        "m6,t6,6,extra\n"  # line 6: a field too many
        "m7,t7,7\n"
    )
    values, rows, rejections = read_all(path)
    assert values["meter_id"] == ["m1", "m5", "m7"]
    assert rows == [2, 5, 7]
    assert {entry.reason: entry.first_rows for entry in rejections.top()} == {
        "malformed CSV line: 2 fields, expected 3": [3],
        "malformed CSV line: 4 fields, expected 3": [6],
        "empty row: no value in any column read": [4],
    }


def test_numbering_spans_many_chunks(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    lines = [f"m{i},t,{i}" if i % 1000 else f"m{i},t" for i in range(1, 300_001)]
    path.write_text("id,time,energy\n" + "\n".join(lines) + "\n")
    values, rows, rejections = read_all(path)
    assert rejections.total == 300
    assert len(rows) == 300_000 - 300
    # row "m{i}" is on line i + 1 throughout, though the reader went block by block
    assert all(f"m{line - 1}" == name for line, name in zip(rows, values["meter_id"], strict=True))


def test_parquet_rows_are_counted_from_one(tmp_path: Path) -> None:
    path = tmp_path / "readings.parquet"
    table = pa.table({"id": ["m1", "m2", "m3"], "time": ["a", "b", "c"], "energy": [1.0, 2.0, 3.0]})
    pq.write_table(table, path, row_group_size=2)
    source = open_source(path)
    assert isinstance(source, ParquetSource)
    assert source.total == 3
    values, rows, _ = read_all(path)
    assert rows == [1, 2, 3]
    assert values["kwh"] == [1.0, 2.0, 3.0]


def test_parquet_column_types_are_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table({"id": ["m1"], "time": pa.array([3], pa.int64()), "energy": [1.0]}), path
    )
    with pytest.raises(BadArguments, match="'time' \\(int64\\) cannot hold 'ts'"):
        open_source(path).check_types(COLUMNS, METER_SPECS)


@pytest.mark.parametrize("name", ["readings.json", "readings", "readings.gz"])
def test_unknown_formats_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("x")
    with pytest.raises(BadArguments, match="cannot tell the format"):
        open_source(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadArguments, match="no such file"):
        open_source(tmp_path / "nope.csv")


def test_progress_counts_compressed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "progress.csv.gz"
    rng = np.random.default_rng(0)
    body = "".join(f"m{i},t,{rng.random()}\n" for i in range(50_000))
    path.write_bytes(gzip.compress(("id,time,energy\n" + body).encode()))
    source = open_source(path)
    assert source.total == path.stat().st_size
    for _ in source.chunks(COLUMNS, Rejections()):
        assert 0 < source.done <= path.stat().st_size


@pytest.mark.parametrize(("suffix", "compress"), [(".bz2", "bz2"), (".xz", "lzma")])
def test_other_compressions_by_suffix(tmp_path: Path, suffix: str, compress: str) -> None:
    module = __import__(compress)
    path = tmp_path / f"readings.csv{suffix}"
    path.write_bytes(module.compress(b"id,time,energy\nm1,t,1\nm2,t,2\n"))
    values, rows, _ = read_all(path)
    assert values["meter_id"] == ["m1", "m2"]
    assert rows == [2, 3]


def test_bytes_that_are_not_utf8_reject_their_row_only(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,time,energy\nm1,t,1\nm\xe92,t,2\nm3,t,3\n")
    values, rows, rejections = read_all(path)
    assert values["meter_id"] == ["m1", "m3"]
    assert rows == [2, 4]
    assert {entry.reason: entry.first_rows for entry in rejections.top()} == {
        "column 'id': not valid UTF-8 text": [3]
    }
