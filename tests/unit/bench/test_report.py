"""The suite's table from its results, and the helpers that read progress (no timing)."""

from __future__ import annotations

from bench.children import metric
from bench.report import NO_GPU, table


def _results() -> dict[str, object]:
    runs = {"a": [300_000.0], "b": [5_000.0], "b0": [15_000.0], "c": [60_000.0], "d": [90_000.0]}
    worker = {"events_per_s": 1.0, "round_trips_per_event": 0.002, "scores": 10, "alerts": 1}
    summary = {"n": 10, "p50_ms": 40.0, "p99_ms": 80.0, "max_ms": 90.0}
    return {
        "machine": {"platform": "Linux", "cpus": 2, "python": "3.11"},
        "dataset": {"readings": 480, "windows": 10},
        "throughput": {
            "events_per_s": {k: v[0] for k, v in runs.items()},
            "runs": runs,
            "ratio_c_a": 0.2,
            "ratio_c_b": 12.0,
            "ratio_d_a": 0.3,
            "worker": {"c": [worker], "d": [worker]},
        },
        "latency": {
            "rate": 5000,
            "score": summary,
            "alert": summary,
            "round_trips_per_event": 0.02,
        },
        "memory": {
            "open_windows": 100_000,
            "slots_filled": 24,
            "bytes_per_window": 900.0,
            "hash_encoding": "listpack",
        },
        "model": {
            "cuda": None,
            "inference": [{"device": "cpu", "batch": 64, "what": "score()", "windows_per_s": 5e4}],
            "training": [{"device": "cpu", "precision": "fp32", "windows_per_s": 8e5}],
        },
    }


def test_the_table_has_every_figure_the_issue_asks_for() -> None:
    text = table(_results())
    for needle in (
        "(a) ceiling",
        "(b) baseline",
        "(c) anomstream worker",
        "(d) anomstream worker, bulk",
        "ratio c/a 0.200",
        "ratio c/b 12.0",
        "p99",
        "Redis round trips/event",
        "900 bytes/window",
        "inference cpu  batch 64",
        "training  cpu  fp32",
        NO_GPU,
    ):
        assert needle in text, needle


def test_metric_reads_a_prometheus_sample() -> None:
    text = (
        "# HELP anomstream_events_in_total Input records consumed\n"
        'anomstream_events_in_total{topic="meter-readings"} 4800.0\n'
        "anomstream_redis_round_trips_total 12.0\n"
    )
    assert metric(text, "anomstream_events_in_total") == 4800.0
    assert metric(text, "anomstream_redis_round_trips_total") == 12.0
    assert metric(text, "anomstream_windows_scored_total") == 0.0
