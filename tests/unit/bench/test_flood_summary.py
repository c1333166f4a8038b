"""The flood benchmark's summary: medians of the repeats and both slowdowns, no timing asserted."""

from __future__ import annotations

from bench.bad_flood import flooded, summary


def test_the_summary_names_both_measurements_with_medians() -> None:
    result = {
        "backlog": {
            "valid_readings": 48_000,
            "bad_messages": 100_000,
            "clean_seconds": [0.3, 0.2, 0.25],
            "flooded_seconds": [1.0, 2.0, 1.5],
            "slowdown": 6.0,
        },
        "live": {
            "rate": 5000,
            "bad_messages": 105_600,
            "clean_p50_ms": [30.0, 40.0, 35.0],
            "flooded_p50_ms": [45.0, 40.0, 50.0],
            "clean_p99_ms": [80.0, 90.0, 70.0],
            "flooded_p99_ms": [90.0, 95.0, 85.0],
            "slowdown_p50": 45 / 35,
            "slowdown_p99": 90 / 80,
        },
    }
    text = summary(result)
    assert "clean 0.25 s, flooded 1.50 s, slowdown 6.00x" in text
    assert "p50 clean   35.0 ms, flooded   45.0 ms, slowdown 1.29x" in text
    assert "p99 clean   80.0 ms, flooded   90.0 ms, slowdown 1.12x" in text
    assert summary({"live": result["live"]}).startswith("live: 5,000 valid readings/s")


def test_the_flood_spreads_its_bad_messages_among_the_valid_ones() -> None:
    valid = [(b"k", b"v%d" % n) for n in range(10)]
    messages = list(flooded(valid, 20))
    assert len(messages) == 30
    assert [m for m in messages if m[0] == b"k"] == valid  # in order, none lost
    assert messages[1][0] == b"BAD"  # interleaved, not appended
