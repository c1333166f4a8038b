"""File timestamps -> RFC 3339 UTC instants: zones, DST, precision, Parquet types."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from anomstream.replay.timestamps import UNREADABLE, TimestampReader

LONDON = "Europe/London"


def convert(
    values: list[str | None] | pa.Array, zone: str = LONDON, entity: str = "m1"
) -> tuple[list[str | None], dict[str, list[int]]]:
    array = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    converted = TimestampReader(zone).convert(array, pa.array([entity] * len(array)))
    problems = {reason: np.flatnonzero(mask).tolist() for reason, mask in converted.problems}
    return converted.text.to_pylist(), {k: v for k, v in problems.items() if v}


def test_naive_times_are_local_in_the_zone_winter_and_summer() -> None:
    text, problems = convert(["2013-01-15 12:00:00", "2013-07-15 12:00:00"])
    # GMT in January, BST (UTC+1) in July
    assert text == ["2013-01-15T12:00:00Z", "2013-07-15T11:00:00Z"]
    assert not problems


def test_naive_times_in_utc_are_kept() -> None:
    text, _ = convert(["2013-07-15 12:00:00", "2013-07-15T12:30:00"], zone="UTC")
    assert text == ["2013-07-15T12:00:00Z", "2013-07-15T12:30:00Z"]


def test_aware_times_keep_their_instant_whatever_the_zone() -> None:
    text, _ = convert(
        ["2024-05-01T18:03:12+02:00", "2013-07-15 12:00:00Z", "2013-07-15T12:00-0500"]
    )
    assert text == ["2024-05-01T16:03:12Z", "2013-07-15T12:00:00Z", "2013-07-15T17:00:00Z"]


def test_zero_fractions_vanish_and_real_fractions_are_kept() -> None:
    # the London files write "2013-01-01 00:00:00.0000000"; 00:30:00.5 must stay
    # unaligned so that the schema refuses it, never be rounded onto the slot
    text, _ = convert(["2013-01-01 00:00:00.0000000", "2013-01-01 00:30:00.5"], zone="UTC")
    assert text == ["2013-01-01T00:00:00Z", "2013-01-01T00:30:00.500000000Z"]


def test_a_skipped_local_time_is_rejected_with_the_reason() -> None:
    # 2013-03-31 01:00-01:59 does not exist in London (clocks go 01:00 GMT -> 02:00 BST)
    text, problems = convert(["2013-03-31 00:30:00", "2013-03-31 01:30:00", "2013-03-31 02:00:00"])
    assert text == ["2013-03-31T00:30:00Z", None, "2013-03-31T01:00:00Z"]
    assert problems == {"ts: does not exist in Europe/London (the clocks skip it)": [1]}


def test_a_repeated_local_hour_is_summer_time_first_then_winter_time() -> None:
    reader = TimestampReader(LONDON)
    first = reader.convert(
        pa.array(["2013-10-27 00:30:00", "2013-10-27 01:00:00", "2013-10-27 01:30:00"]),
        pa.array(["m1", "m1", "m1"]),
    )
    # the next chunk: the hour again for m1, and for the first time for m2
    second = reader.convert(
        pa.array(["2013-10-27 01:00:00", "2013-10-27 01:00:00", "2013-10-27 02:00:00"]),
        pa.array(["m1", "m2", "m1"]),
    )
    assert first.text.to_pylist() == [
        "2013-10-26T23:30:00Z",
        "2013-10-27T00:00:00Z",
        "2013-10-27T00:30:00Z",
    ]
    assert second.text.to_pylist() == [
        "2013-10-27T01:00:00Z",  # m1's second 01:00: GMT
        "2013-10-27T00:00:00Z",  # m2's first 01:00: BST
        "2013-10-27T02:00:00Z",
    ]


def test_unreadable_and_missing_values() -> None:
    text, problems = convert(["2013-13-01 00:00:00", "yesterday", None, ""])
    assert text == [None, None, None, None]
    # missing stays missing (the schema says "ts: is required"); text that is no time is ours
    assert problems == {UNREADABLE: [0, 1, 3]}


def test_values_beyond_nanoseconds_become_out_of_range_instants() -> None:
    # clipped, so that the schema refuses them for their range ("before 2000")
    text, _ = convert(["1200-01-01T00:00:00Z"])
    assert text == ["1678-01-01T00:00:00Z"]


def test_parquet_naive_timestamps_are_local() -> None:
    values = pa.array([datetime(2013, 7, 15, 12), None], pa.timestamp("us"))
    text, problems = convert(values)
    assert text == ["2013-07-15T11:00:00Z", None]
    assert not problems


def test_parquet_aware_timestamps_keep_their_instant() -> None:
    values = pa.array([datetime(2013, 7, 15, 12)], pa.timestamp("ns")).cast(
        pa.timestamp("ns", "Europe/Paris")
    )
    text, _ = convert(values)
    assert text == ["2013-07-15T12:00:00Z"]  # stored as UTC, whatever the zone shown


def test_dictionary_encoded_text_is_read_like_text() -> None:
    values = pa.array(["2013-07-15 12:00:00"]).dictionary_encode()
    text, _ = convert(values)
    assert text == ["2013-07-15T11:00:00Z"]


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC"])
def test_utc_needs_no_dst_rule(zone: str) -> None:
    text, problems = convert(["2013-03-31 01:30:00", "2013-10-27 01:30:00"], zone=zone)
    assert text == ["2013-03-31T01:30:00Z", "2013-10-27T01:30:00Z"]
    assert not problems
