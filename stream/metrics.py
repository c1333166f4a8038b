"""Prometheus metrics of a worker, on a registry of its own (tests run many)."""

from __future__ import annotations

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["WorkerMetrics"]


class WorkerMetrics:
    """Everything ``/metrics`` shows; names follow Prometheus conventions."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_in = Counter(
            "anomstream_events_in", "Input records consumed", ["topic"], registry=r
        )
        self.dead_letters = Counter(
            "anomstream_dead_letters", "Records sent to dead-letters", ["reason"], registry=r
        )
        self.open_windows = Gauge(
            "anomstream_open_windows", "Windows collecting readings", ["kind"], registry=r
        )
        self.windows_scored = Counter(
            "anomstream_windows_scored", "Window verdicts published", ["kind"], registry=r
        )
        self.windows_closed = Counter(
            "anomstream_windows_closed",
            "Windows closed, by how (complete or by the watermark)",
            ["kind", "how"],
            registry=r,
        )
        self.scoring_seconds = Histogram(
            "anomstream_scoring_seconds",
            "Load + score + commit + produce time of one scoring round",
            ["kind"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.alerts = Counter(
            "anomstream_alerts", "Alert revisions published", ["kind", "severity"], registry=r
        )
        self.watermark = Gauge(
            "anomstream_watermark_seconds", "Event-time watermark (unix s)", ["kind"], registry=r
        )
        self.consumer_lag = Gauge(
            "anomstream_consumer_lag",
            "Records behind the end of each assigned partition",
            ["topic", "partition"],
            registry=r,
        )
        self.model_version = Gauge(
            "anomstream_model_info", "Model in use (value 1)", ["kind", "version"], registry=r
        )
        self.model_refused = Counter(
            "anomstream_model_refused",
            "Model versions refused (corrupt, incompatible)",
            ["kind"],
            registry=r,
        )
        self.redis_round_trips = Counter(
            "anomstream_redis_round_trips",
            "Redis round trips (a command or a whole pipeline), see stream.redis_calls",
            registry=r,
        )
        self.redis_retries = Counter(
            "anomstream_redis_retries",
            "Batches retried after a Redis or Kafka error",
            ["stage"],
            registry=r,
        )

    def count_alert(self, kind: str, alert_json: bytes) -> None:
        severity = orjson.loads(alert_json).get("severity", "unknown")
        self.alerts.labels(kind=kind, severity=severity).inc()
