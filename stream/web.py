"""The worker's HTTP endpoints, on Faust's web server.

``/health`` and ``/metrics`` for operators and orchestrators; ``/alerts`` (a
self-contained page: inline script and styles, no CDN, since workers often
run without internet) and ``/alerts.json`` (what that page polls) for people.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream.recent_alerts import page_data

if TYPE_CHECKING:
    import faust

__all__ = ["register_views"]

NO_STORE = {"Cache-Control": "no-store"}


@cache
def alerts_html() -> str:
    """The alerts page, shipped as package data; it renders itself from ``/alerts.json``."""
    return resources.files("stream").joinpath("static/alerts.html").read_text(encoding="utf-8")


def register_views(app: faust.App) -> None:
    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        runtime = app.runtime  # type: ignore[attr-defined]
        redis_ok = False
        try:
            redis_ok = bool(await runtime.redis.ping())
        except Exception:
            redis_ok = False
        assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in app.consumer.assignment())
        ok = runtime.ready.is_set() and redis_ok
        body = {
            "status": "ok" if ok else "degraded",
            "redis": redis_ok,
            "ready": runtime.ready.is_set(),
            "assigned_partitions": assigned,
            "models": runtime.scorers.versions(),
        }
        return web.json(body, status=200 if ok else 503)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        runtime = app.runtime  # type: ignore[attr-defined]
        return web.bytes(
            generate_latest(runtime.metrics.registry),
            content_type=CONTENT_TYPE_LATEST.split(";")[0],
        )

    @app.page("/alerts")
    async def alerts(web: Any, request: Any) -> Any:
        return web.html(alerts_html(), headers=NO_STORE)

    @app.page("/alerts.json")
    async def alerts_json(web: Any, request: Any) -> Any:
        runtime = app.runtime  # type: ignore[attr-defined]
        body = page_data(
            runtime.recent_alerts,
            runtime.scorers.versions(),
            following=runtime.alert_feed.following,
        )
        return web.json(body, headers=NO_STORE)
