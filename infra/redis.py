"""Redis connections from :class:`~schemas.settings.Settings`.

One factory so that every process talks to Redis the same way: bytes in and
out (our values are msgspec/JSON payloads, not text), bounded socket timeouts
so a hung server surfaces as an error instead of a stuck worker, a PING on
idle connections, and retries with jittered exponential backoff on
connection errors and timeouts (a Redis restart costs a few retries, not a
crash).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from infra.exceptions import InfraConfigError
from schemas.settings import Settings

__all__ = ["redis_client", "redis_client_options"]

# Enough retries to ride out a Redis restart (about 5 s with these backoffs).
_RETRIES = 8
_BACKOFF_BASE_S = 0.05
_BACKOFF_CAP_S = 2.0


def redis_client_options(
    settings: Settings,
    *,
    socket_timeout: float = 5.0,
    socket_connect_timeout: float = 5.0,
    health_check_interval: int = 30,
    retries: int = _RETRIES,
) -> dict[str, Any]:
    """Keyword arguments for ``redis.asyncio.Redis.from_url`` (the URL aside).

    Explicit username/password settings win over credentials in the URL. The
    result may hold the password in clear: pass it on, never log it.
    """
    options: dict[str, Any] = {
        "decode_responses": False,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_connect_timeout,
        "socket_keepalive": True,
        "health_check_interval": health_check_interval,
        "retry": Retry(
            ExponentialWithJitterBackoff(base=_BACKOFF_BASE_S, cap=_BACKOFF_CAP_S), retries
        ),
    }
    if settings.redis_username is not None:
        options["username"] = settings.redis_username
    if settings.redis_password is not None:
        options["password"] = settings.redis_password.get_secret_value()

    tls_files = {
        "ssl_ca_certs": settings.redis_ssl_ca_certs,
        "ssl_certfile": settings.redis_ssl_certfile,
        "ssl_keyfile": settings.redis_ssl_keyfile,
    }
    given = {key: str(path) for key, path in tls_files.items() if path is not None}
    if given:
        if urlsplit(settings.redis_url.get_secret_value()).scheme != "rediss":
            # redis:// makes a plain connection; silently ignoring the TLS files
            # would send credentials in clear to a server we meant to verify.
            raise InfraConfigError(
                "redis_ssl_* settings need a rediss:// redis_url (it is redis:// or unix://)"
            )
        options.update(given)
    return options


def redis_client(
    settings: Settings,
    *,
    socket_timeout: float = 5.0,
    socket_connect_timeout: float = 5.0,
    health_check_interval: int = 30,
    retries: int = _RETRIES,
) -> aioredis.Redis:
    """An asyncio Redis client for ``settings.redis_url`` (close it with ``aclose()``).

    No connection is made until the first command.
    """
    url = settings.redis_url.get_secret_value()
    if settings.redis_username is not None or settings.redis_password is not None:
        # redis-py lets URL credentials override keyword ones; we want the reverse.
        url = _without_credentials(url)
    return aioredis.Redis.from_url(
        url,
        **redis_client_options(
            settings,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            health_check_interval=health_check_interval,
            retries=retries,
        ),
    )


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
