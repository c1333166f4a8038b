"""Synchronous "does it answer?" checks for a Kafka broker and a Redis server.

Synchronous on purpose: they run while starting services from plain code,
pytest fixtures or an already running event loop alike. The Kafka probe speaks
the wire protocol directly (one Metadata v1 request) instead of starting an
aiokafka client, which would need an event loop and logs every refused
connection at ERROR while the broker boots.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping
from typing import Any, NamedTuple

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["KafkaBrokerAddress", "kafka_metadata_brokers", "redis_answers"]

_METADATA_API_KEY = 3
_METADATA_VERSION = 1
_CORRELATION_ID = 0x616E6F6D  # "anom"
_CLIENT_ID = b"anomstream-probe"


class KafkaBrokerAddress(NamedTuple):
    node_id: int
    host: str
    port: int


def _metadata_request() -> bytes:
    # Request header v1 (api_key, api_version, correlation_id, client_id) and a
    # Metadata v1 body with an empty topic array: "no topics, just the brokers".
    body = struct.pack(
        f">hhih{len(_CLIENT_ID)}si",
        _METADATA_API_KEY,
        _METADATA_VERSION,
        _CORRELATION_ID,
        len(_CLIENT_ID),
        _CLIENT_ID,
        0,
    )
    return struct.pack(">i", len(body)) + body


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks += chunk
    return bytes(chunks)


def kafka_metadata_brokers(
    host: str, port: int, *, timeout: float = 1.0
) -> list[KafkaBrokerAddress] | None:
    """The brokers a Kafka-compatible server advertises, or None if it does not answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(_metadata_request())
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            payload = _recv_exact(sock, size)
    except OSError:
        return None
    try:
        return _parse_brokers(payload)
    except (struct.error, UnicodeDecodeError, ValueError):
        return None


def _parse_brokers(payload: bytes) -> list[KafkaBrokerAddress]:
    correlation_id, count = struct.unpack_from(">ii", payload, 0)
    if correlation_id != _CORRELATION_ID:
        raise ValueError("not a response to our request")
    offset = 8
    brokers = []
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", payload, offset)
        offset += 6
        host = payload[offset : offset + host_len].decode()
        offset += host_len
        (port, rack_len) = struct.unpack_from(">ih", payload, offset)
        offset += 6 + max(rack_len, 0)
        brokers.append(KafkaBrokerAddress(node_id, host, port))
    return brokers


def redis_answers(
    host: str, port: int, *, timeout: float = 1.0, client_kwargs: Mapping[str, Any] | None = None
) -> bool:
    """Whether a Redis server answers on ``host:port``.

    An authentication error counts as an answer: the server is up and
    speaking RESP, only our probe lacks the credentials.
    """
    client = redis.Redis(
        host=host,
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # the caller polls; one quick try each time
        **dict(client_kwargs or {}),
    )
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return True
    except redis.ResponseError as exc:
        return str(exc).startswith("NOAUTH")
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        # BusyLoadingError (AOF replay after a restart) is a ConnectionError: not ready yet.
        return False
    finally:
        client.close()
