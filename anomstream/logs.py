"""Structured logs for every anomstream process, configured once at the entry point.

structlog renders JSON lines (``ANOMSTREAM_LOG_FORMAT=json``, for collectors) or
readable console lines; the standard library's records (Faust, aiokafka,
redis) go through the same renderer. As a last line of defence every rendered
line is scrubbed of the configured secrets' values, so not even a library that
logs its connection arguments can leak one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import structlog
from pydantic import SecretStr

from schemas.settings import Settings

__all__ = ["configure_logging", "secret_values"]


def secret_values(settings: Settings) -> list[str]:
    """The clear text of every secret in ``settings`` (to scrub, never to print)."""
    values = [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]
    url = settings.redis_url.get_secret_value()
    if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
        values.append(url.split("@", 1)[0].split("//", 1)[-1].split(":", 1)[1])
    return [v for v in values if len(v) >= 4]


class _Scrub:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def __call__(self, _logger: Any, _name: str, rendered: Any) -> Any:
        # runs after the renderer: receives and returns the rendered line
        for secret in self._secrets:
            if secret in rendered:
                rendered = rendered.replace(secret, "**********")
        return rendered


def configure_logging(settings: Settings) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # JSON lines carry a crash's traceback as text (the console renderer draws its own)
    tracebacks = [structlog.processors.format_exc_info] if settings.log_format == "json" else []
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *tracebacks,
            renderer,
            _Scrub(secret_values(settings)),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
