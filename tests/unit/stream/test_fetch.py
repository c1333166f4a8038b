"""The consumer's batch cutting (the fetch path itself runs in the integration tests)."""

from __future__ import annotations

from stream.fetch import _chunks
from stream.records import RawRecord


def test_the_consumer_cuts_batches_by_size_in_order() -> None:
    records = [RawRecord("t", 0, n, None, b"x" * 40) for n in range(10)]
    chunks = list(_chunks(records, 100))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [r for c in chunks for r in c] == records
