"""The consumer's batch cutting (the fetch path itself runs in the integration tests)."""

from __future__ import annotations

from faust.types import TP

from stream.fetch import _chunks, _first_offsets
from stream.records import RawRecord


def test_the_consumer_cuts_batches_of_bulk_messages_by_size_in_order() -> None:
    bulk = b'{"meter_id": "M", "readings": [' + b" " * 300 + b"]}"
    records = [RawRecord("t", 0, n, None, bulk) for n in range(10)]
    chunks = list(_chunks(records, 3 * len(bulk)))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [r for c in chunks for r in c] == records


def test_any_other_record_counts_as_one_reading() -> None:
    """A large bad record costs no more than a small one: it is not a reason to cut."""
    records = [RawRecord("t", 0, n, None, b"M" * 10_000) for n in range(10)]
    records += [RawRecord("t", 0, 10 + n, None, b"x" * 40) for n in range(10)]
    assert [len(c) for c in _chunks(records, 128 * 5)] == [5, 5, 5, 5]


def test_dropped_records_rewind_to_the_first_of_each_partition() -> None:
    # a rebalance dropped these, merged from two fetches (the second after a reset)
    dropped = [RawRecord("t", 0, n, None, b"") for n in (3449, 3450, 4999)]
    dropped += [RawRecord("t", 1, n, None, b"") for n in (7, 8)]
    dropped += [RawRecord("t", 0, n, None, b"") for n in (0, 1)]
    assert _first_offsets(dropped) == {TP("t", 0): 0, TP("t", 1): 7}
