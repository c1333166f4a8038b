"""File timestamps -> the contract's RFC 3339 instants (UTC, ``Z``), a chunk at a time.

Files say time in many ways: ``2013-01-01 00:00:00`` (naive, the London
data), ``2013-01-01 00:00:00.0000000``, ``2024-05-01T18:03:12+02:00``, or a
Parquet timestamp column with or without a zone. Aware values keep their
instant. Naive values are wall-clock times in the replay's time zone
(``ANOMSTREAM_TIMEZONE`` or ``--timezone``), and two wall-clock times need a
rule because the clock is not a bijection:

* a time the clocks skip (spring forward, e.g. 01:30 on 2013-03-31 in
  London) does not exist: the row is rejected, saying so;
* a time the clocks repeat (fall back, 01:00-01:59 on 2013-10-27 in London)
  happens twice: the first row of an entity with that wall-clock time is
  read as summer time and the next one as winter time, which is how a file
  written in time order per entity lists them. Files with offsets (or in
  UTC) need no such rule.

Everything is vectorised (pandas/numpy per chunk); only the repeated-hour
rows, a few per entity and year, go through Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["UNREADABLE", "ConvertedTimes", "TimestampReader", "is_time_type"]

UNREADABLE: Final = "ts: cannot be read as a date and time"

# An offset at the end of the text: Z, +01:00, -0500.
_OFFSET_RE: Final = r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})$"
# The range numpy nanoseconds can hold. Values outside it are clipped to it:
# the schema then rejects them with its own words ("must not be before
# 2000-01-01", "must not be more than 2 days in the future").
_LOW: Final = np.datetime64("1678-01-01T00:00:00", "s")
_HIGH: Final = np.datetime64("2261-12-31T00:00:00", "s")
_NS_PER_S: Final = 1_000_000_000


def is_time_type(data_type: pa.DataType) -> bool:
    """Whether a column of this Arrow type can hold the timestamps (text or timestamps)."""
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    return bool(
        pa.types.is_timestamp(data_type)
        or pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
    )


@dataclass(frozen=True, slots=True)
class ConvertedTimes:
    """One chunk's timestamps as contract text, and the rows that had none."""

    text: pa.Array
    """``2013-01-01T00:00:00Z`` per row; null where the value is missing or rejected."""
    problems: list[tuple[str, np.ndarray]]
    """(reason, boolean row mask) for the rows rejected here, not by the schema."""


class TimestampReader:
    """Converts timestamp columns chunk by chunk; remembers repeated wall-clock hours.

    One reader per replay: the "first occurrence is summer time" rule spans
    chunks.
    """

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._utc = timezone in {"UTC", "Etc/UTC", "Etc/Zulu", "Zulu", "GMT", "Etc/GMT"}
        self._seen_repeated: set[tuple[str | None, int]] = set()

    def convert(self, values: pa.Array, entities: pa.Array) -> ConvertedTimes:
        """``values`` (text or timestamps) -> RFC 3339 text; ``entities`` of the same rows."""
        n = len(values)
        unreadable = np.zeros(n, dtype=bool)
        skipped = np.zeros(n, dtype=bool)
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        if pa.types.is_timestamp(values.type):
            stamps = _to_ns(values.to_numpy(zero_copy_only=False))
            if values.type.tz is None:
                stamps = self._wall_to_utc(stamps, entities, skipped)
        else:
            text = values.cast(pa.string())
            aware = _mask(pc.match_substring_regex(text, _OFFSET_RE))
            naive = _mask(text.is_valid()) & ~aware
            stamps = np.full(n, np.datetime64("NaT", "ns"))
            for rows, utc in ((aware, True), (naive, False)):
                if rows.any():
                    parsed = _parse(text, rows, utc=utc)
                    stamps[rows] = parsed
                    unreadable[np.flatnonzero(rows)[np.isnat(parsed)]] = True
            if naive.any():
                wall = np.where(naive, stamps, np.datetime64("NaT", "ns"))
                stamps = np.where(naive, self._wall_to_utc(wall, entities, skipped), stamps)
        valid = ~np.isnat(stamps)
        problems = [(UNREADABLE, unreadable)]
        if skipped.any():
            problems.append(
                (f"ts: does not exist in {self.timezone} (the clocks skip it)", skipped)
            )
        return ConvertedTimes(_format(stamps.view(np.int64), valid), problems)

    def _wall_to_utc(self, wall: np.ndarray, entities: pa.Array, skipped: np.ndarray) -> np.ndarray:
        """Wall-clock datetime64[ns] in the zone -> UTC; NaT (and ``skipped``) in a gap."""
        if self._utc:
            return wall
        rows = np.flatnonzero(~np.isnat(wall))
        index = pd.DatetimeIndex(wall[rows])
        ones = np.ones(len(rows), dtype=bool)
        summer = index.tz_localize(self.timezone, ambiguous=ones, nonexistent="NaT")
        winter = index.tz_localize(self.timezone, ambiguous=~ones, nonexistent="NaT")
        gap = np.asarray(summer.isna())
        summer_ns = summer.as_unit("ns").asi8.copy()
        winter_ns = winter.as_unit("ns").asi8
        repeated = np.flatnonzero(~gap & (summer_ns != winter_ns))
        if len(repeated):
            names = entities.take(pa.array(rows[repeated])).to_pylist()
            wall_ns = wall[rows].view(np.int64)
            for position, name in zip(repeated, names, strict=True):
                key = (None if name is None else str(name), int(wall_ns[position]))
                if key in self._seen_repeated:
                    summer_ns[position] = winter_ns[position]  # the second time round
                else:
                    self._seen_repeated.add(key)
        out = np.full(len(wall), np.datetime64("NaT", "ns"))
        out[rows] = summer_ns.view("datetime64[ns]")  # NaT stays NaT in a gap
        skipped[rows[gap]] = True
        return out


def _parse(text: pa.Array, mask: np.ndarray, *, utc: bool) -> np.ndarray:
    """The masked rows of ``text`` as datetime64[ns] (UTC when ``utc``), NaT if unreadable."""
    chosen = text.filter(pa.array(mask)).to_pandas()
    parsed = pd.to_datetime(chosen, format="ISO8601", utc=utc, errors="coerce")
    if utc:
        parsed = parsed.dt.tz_localize(None)
    return _to_ns(parsed.to_numpy())


def _mask(values: pa.Array) -> np.ndarray:
    """An Arrow boolean array -> numpy booleans, null as False."""
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _to_ns(stamps: np.ndarray) -> np.ndarray:
    """datetime64 of any unit -> datetime64[ns], clipping what nanoseconds cannot hold."""
    missing = np.isnat(stamps)
    seconds = stamps.astype("datetime64[s]")
    low, high = seconds < _LOW, seconds > _HIGH
    out = np.where(low | high, _LOW, stamps).astype("datetime64[ns]")
    out[high] = _HIGH
    out[missing] = np.datetime64("NaT")
    return out


def _format(utc_ns: np.ndarray, valid: np.ndarray) -> pa.Array:
    """UTC nanoseconds -> ``YYYY-MM-DDTHH:MM:SS[.fffffffff]Z``; null where not valid."""
    text = np.datetime_as_string(
        (utc_ns // _NS_PER_S).astype("datetime64[s]"), unit="s", timezone="UTC"
    )
    fractional = valid & (utc_ns % _NS_PER_S != 0)
    if fractional.any():
        # Kept exactly: a reading at 00:30:00.5 must be refused, not rounded.
        text = text.astype(object)
        text[fractional] = np.datetime_as_string(
            utc_ns[fractional].astype("datetime64[ns]"), unit="ns", timezone="UTC"
        )
    return pa.array(text, type=pa.string(), mask=~valid)
