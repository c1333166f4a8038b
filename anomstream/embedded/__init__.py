"""Embedded services: a Kafka-compatible broker (tansu) and Redis as child processes.

For ``anomstream demo``, ``anomstream services`` and the test harness: no
Docker, nothing to install beyond the wheel. Children die with the Python
process, even when it is SIGKILLed (see :mod:`anomstream.embedded.process`);
what the broker supports is written down in :mod:`anomstream.embedded.kafka`.
"""

from __future__ import annotations

from anomstream.embedded.exceptions import (
    BinaryNotFoundError,
    EmbeddedServiceError,
    PortInUseError,
    ServiceStartError,
)
from anomstream.embedded.kafka import KafkaBroker, resolve_tansu_bin
from anomstream.embedded.ports import free_port, port_is_free
from anomstream.embedded.process import ManagedProcess
from anomstream.embedded.redis import RedisServer, resolve_redis_server_bin
from anomstream.embedded.stack import EmbeddedServices

__all__ = [
    "BinaryNotFoundError",
    "EmbeddedServiceError",
    "EmbeddedServices",
    "KafkaBroker",
    "ManagedProcess",
    "PortInUseError",
    "RedisServer",
    "ServiceStartError",
    "free_port",
    "port_is_free",
    "resolve_redis_server_bin",
    "resolve_tansu_bin",
]
