"""Reading a CSV (plain or compressed) or Parquet file in chunks of columns.

A year of half-hourly readings of thousands of households is tens of
gigabytes as text, so nothing holds the whole file: CSV goes through
Arrow's streaming reader (a few MB per block, only the needed columns, read
as bytes and then checked as UTF-8, so that one odd cell cannot break type
inference or decoding mid-file), Parquet
through its record batches. Each chunk carries each row's position in the
file, so a rejected row can be found again: the physical line for CSV
(header = line 1), the row number from 1 for Parquet.

A CSV line with the wrong number of fields is not an error of the whole
file: it is rejected like any bad row ("malformed CSV line") and the rest is
read; so is an empty line (blank lines are kept as rows, so that line
numbers stay exact), and a row with bytes that are not UTF-8. Line numbers
assume one line per row (no line breaks inside quotes).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from anomstream.replay.errors import BadArguments
from anomstream.replay.fields import FieldSpec
from anomstream.replay.rejections import Rejections
from anomstream.replay.timestamps import is_time_type

__all__ = ["Chunk", "CsvSource", "ParquetSource", "Source", "open_source"]

_COMPRESSION: Final = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
    ".zst": "zstd",
    ".lz4": "lz4",
}
_PARQUET: Final = {".parquet", ".pq"}
_CSV_BLOCK_BYTES: Final = 4 << 20  # ~100k London rows per chunk
_PARQUET_BATCH_ROWS: Final = 100_000


@dataclass(frozen=True, slots=True)
class Chunk:
    """Some consecutive rows: the mapped columns (by field name) and their positions."""

    columns: dict[str, pa.Array]
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


class Source:
    """A file to replay: its columns, then chunks of them, with read progress."""

    position_name = "row"
    """What ``Chunk.rows`` counts, for messages: ``line`` or ``row``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.columns: list[str] = []
        self.total: int | None = None
        """Progress units in the file (bytes or rows), when known."""

    @property
    def done(self) -> int:
        """Progress units read so far."""
        return 0

    def check_types(self, resolved: Mapping[str, str], specs: Mapping[str, FieldSpec]) -> None:
        """Refuse a column whose type cannot become its field (only Parquet has types)."""

    def chunks(self, resolved: Mapping[str, str], rejections: Rejections) -> Iterator[Chunk]:
        """The file's rows; ``resolved`` maps field -> column (from the header)."""
        raise NotImplementedError


def open_source(path: Path) -> Source:
    """A :class:`Source` for ``path`` by its suffix; :class:`BadArguments` if unusable."""
    if not path.is_file():
        raise BadArguments(f"{path}: no such file")
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in _PARQUET:
        return ParquetSource(path)
    plain = suffixes[:-1] if suffixes and suffixes[-1] in _COMPRESSION else suffixes
    if plain and plain[-1] in {".csv", ".txt"}:
        return CsvSource(path)
    raise BadArguments(
        f"{path}: cannot tell the format; name it .csv (also .csv.gz, .bz2, .xz, .zst) or .parquet"
    )


class CsvSource(Source):
    """A CSV file with a header line, maybe compressed (by its suffix)."""

    position_name = "line"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._codec = _COMPRESSION.get(path.suffix.lower())
        self.total = path.stat().st_size
        self._raw: BinaryIO | None = None
        try:
            with self._text() as stream:
                header = pcsv.open_csv(
                    stream,
                    read_options=pcsv.ReadOptions(block_size=1 << 16, use_threads=False),
                    parse_options=pcsv.ParseOptions(invalid_row_handler=lambda _row: "skip"),
                )
                self.columns = list(header.schema.names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise BadArguments(f"{path}: not a readable CSV file: {exc}") from exc

    @property
    def done(self) -> int:
        raw = self._raw
        return raw.tell() if raw is not None and not raw.closed else 0

    @contextmanager
    def _text(self) -> Iterator[pa.NativeFile]:
        """The decompressed text; ``self._raw`` is the file underneath (for progress).

        gzip, bz2 and xz are decompressed by Python's modules (C code, as fast
        as Arrow's here) because Arrow's decompressing stream buffers whole
        megabytes of the compressed file ahead, which makes the position of
        the file underneath useless as progress.
        """
        with self.path.open("rb") as raw:
            self._raw = raw
            decompressed = _python_decompressor(raw, self._codec)
            if decompressed is None:
                stream = pa.PythonFile(raw, mode="r")
                yield pa.CompressedInputStream(stream, self._codec) if self._codec else stream
                return
            with decompressed:
                yield pa.PythonFile(decompressed, mode="r")

    def chunks(self, resolved: Mapping[str, str], rejections: Rejections) -> Iterator[Chunk]:
        needed = sorted(set(resolved.values()))
        skipped: list[tuple[int | None, int, int]] = []

        def on_invalid(row: pcsv.InvalidRow) -> str:
            skipped.append((row.number, row.actual_columns, row.expected_columns))
            return "skip"

        try:
            with self._text() as stream:
                reader = pcsv.open_csv(
                    stream,
                    read_options=pcsv.ReadOptions(block_size=_CSV_BLOCK_BYTES, use_threads=False),
                    parse_options=pcsv.ParseOptions(
                        invalid_row_handler=on_invalid, ignore_empty_lines=False
                    ),
                    convert_options=pcsv.ConvertOptions(
                        include_columns=needed,
                        # bytes, not text: a bad byte rejects its row, not the file
                        column_types=dict.fromkeys(needed, pa.binary()),
                        strings_can_be_null=True,
                        null_values=[""],
                    ),
                )
                lines = _LineCounter()
                for batch in reader:
                    lines.skip([number for number, *_ in skipped])
                    for number, actual, expected in skipped:
                        rejections.add(
                            f"malformed CSV line: {actual} fields, expected {expected}", number
                        )
                    skipped.clear()
                    positions = lines.take(batch.num_rows)
                    texts, bad_utf8 = _as_text(batch, needed)
                    columns = {field: texts[column] for field, column in resolved.items()}
                    yield _without_bad_rows(Chunk(columns, positions), bad_utf8, rejections)
        except pa.ArrowInvalid as exc:
            raise BadArguments(f"{self.path}: cannot read it as CSV: {exc}") from exc
        for number, actual, expected in skipped:
            rejections.add(f"malformed CSV line: {actual} fields, expected {expected}", number)


def _python_decompressor(raw: BinaryIO, codec: str | None) -> io.BufferedIOBase | None:
    if codec == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if codec == "bz2":
        return bz2.BZ2File(raw, mode="rb")
    if codec == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    return None


EMPTY_ROW: Final = "empty row: no value in any column read"
_BAD_UTF8: Final = "column {column!r}: not valid UTF-8 text"


def _as_text(
    batch: pa.RecordBatch, columns: list[str]
) -> tuple[dict[str, pa.Array], dict[str, np.ndarray]]:
    """Each column as text, and per column the rows whose bytes are not UTF-8 (made null)."""
    texts: dict[str, pa.Array] = {}
    bad_utf8: dict[str, np.ndarray] = {}
    for column in columns:
        values = batch.column(column)
        try:
            texts[column] = values.cast(pa.string())
        except pa.ArrowInvalid:  # rare: find the cells, in Python
            cells = values.to_pylist()
            bad = np.zeros(len(cells), dtype=bool)
            for index, cell in enumerate(cells):
                try:
                    cells[index] = None if cell is None else cell.decode("utf-8")
                except UnicodeDecodeError:
                    cells[index], bad[index] = None, True
            texts[column] = pa.array(cells, pa.string())
            bad_utf8[column] = bad
    return texts, bad_utf8


def _without_bad_rows(
    chunk: Chunk, bad_utf8: Mapping[str, np.ndarray], rejections: Rejections
) -> Chunk:
    """Rejects rows with bytes that are not UTF-8, and rows with no value at all
    (blank lines, ``,,``), which are no message."""
    drop = np.zeros(len(chunk), dtype=bool)
    for column, bad in bad_utf8.items():
        rejections.add_many(_BAD_UTF8.format(column=column), chunk.rows[bad & ~drop].tolist())
        drop |= bad
    empty = ~drop
    for values in chunk.columns.values():
        empty &= np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    rejections.add_many(EMPTY_ROW, chunk.rows[empty].tolist())
    drop |= empty
    if not drop.any():
        return chunk
    keep = pa.array(~drop)
    return Chunk(
        {name: values.filter(keep) for name, values in chunk.columns.items()},
        chunk.rows[~drop],
    )


class _LineCounter:
    """Physical line numbers of the rows of consecutive batches, skipping malformed lines."""

    def __init__(self) -> None:
        self._next = 2  # line 1 is the header
        self._skipped: list[int] = []

    def skip(self, numbers: list[int | None]) -> None:
        self._skipped = sorted([*self._skipped, *(n for n in numbers if n is not None)])

    def take(self, count: int) -> np.ndarray:
        lines = np.arange(self._next, self._next + count, dtype=np.int64)
        while self._skipped and count and self._skipped[0] <= lines[-1]:
            bad = self._skipped.pop(0)
            lines[lines >= bad] += 1
        while self._skipped and self._skipped[0] < self._next + count:
            self._skipped.pop(0)  # defensive: a skipped line already counted past
        if count:
            self._next = int(lines[-1]) + 1
        return lines


class ParquetSource(Source):
    """A Parquet file, read by record batches of the needed columns."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise BadArguments(f"{path}: not a readable Parquet file: {exc}") from exc
        self._schema = self._file.schema_arrow
        self.columns = list(self._schema.names)
        self.total = self._file.metadata.num_rows
        self._done = 0

    @property
    def done(self) -> int:
        return self._done

    def check_types(self, resolved: Mapping[str, str], specs: Mapping[str, FieldSpec]) -> None:
        for field, column in resolved.items():
            data_type = self._schema.field(column).type
            if not _fits(specs[field], data_type):
                raise BadArguments(
                    f"column {column!r} ({data_type}) cannot hold {field!r}: "
                    f"expected {_EXPECTED[specs[field].type]}"
                )

    def chunks(self, resolved: Mapping[str, str], rejections: Rejections) -> Iterator[Chunk]:
        needed = sorted(set(resolved.values()))
        first = 1
        for batch in self._file.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=needed):
            positions = np.arange(first, first + batch.num_rows, dtype=np.int64)
            first += batch.num_rows
            self._done = first - 1
            columns = {field: batch.column(column) for field, column in resolved.items()}
            yield Chunk(columns, positions)


_EXPECTED: Final = {
    "timestamp": "timestamps or text",
    "number": "numbers or text",
    "integer": "numbers or text",
    "text": "text or integers",
}


def _fits(spec: FieldSpec, data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    text = pa.types.is_string(data_type) or pa.types.is_large_string(data_type)
    if spec.type == "timestamp":
        return is_time_type(data_type)
    if spec.type == "text":
        return bool(text or pa.types.is_integer(data_type))
    return bool(
        text
        or pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_decimal(data_type)
    )
