"""The watermark rule, without any store (see stream/watermark.py)."""

from __future__ import annotations

from stream.watermark import PartitionMark, watermark

NOW = 10_000.0


def wm(marks: dict[int, PartitionMark], partitions: int = 2) -> float | None:
    return watermark(marks, partitions, now=NOW, idle_s=30, report_ttl_s=5)


def busy(time: float | None) -> PartitionMark:
    return PartitionMark(time, NOW - 1, caught_up=False, reported_at=NOW - 1)


def quiet(time: float | None) -> PartitionMark:
    return PartitionMark(time, NOW - 60, caught_up=True, reported_at=NOW - 1)


def test_min_over_partitions_that_are_still_delivering() -> None:
    assert wm({0: busy(1000), 1: busy(2000)}) == 1000


def test_a_partition_nobody_reported_holds_everything() -> None:
    assert wm({0: busy(1000)}) is None  # partition 1 unknown


def test_caught_up_and_quiet_no_longer_holds_back() -> None:
    assert wm({0: quiet(1000), 1: busy(2000)}) == 2000


def test_caught_up_but_recently_active_still_holds() -> None:
    recent = PartitionMark(1000, NOW - 1, caught_up=True, reported_at=NOW - 1)
    assert wm({0: recent, 1: busy(2000)}) == 1000


def test_a_dead_owners_partition_holds_at_its_last_time() -> None:
    stale = PartitionMark(1000, NOW - 60, caught_up=True, reported_at=NOW - 60)
    assert wm({0: stale, 1: busy(2000)}) == 1000


def test_all_quiet_means_everything_arrived() -> None:
    assert wm({0: quiet(1000), 1: quiet(2000)}) == 2000


def test_empty_partitions_that_are_caught_up_do_not_hold() -> None:
    assert wm({0: quiet(None), 1: busy(2000)}) == 2000
    assert wm({0: quiet(None), 1: quiet(None)}) is None
