"""Connection factories for Kafka and Redis, built from the settings.

Used by the stream worker, the trainer and CLI commands, so that security
options (SASL/SCRAM, TLS, Redis ACL users) are applied the same way
everywhere. Nothing here reads the environment; everything comes from a
:class:`~schemas.settings.Settings`.
"""

from __future__ import annotations

from infra.exceptions import InfraConfigError, InfraError, TopicSetupError
from infra.kafka import (
    ensure_topics,
    kafka_client_options,
    kafka_group_options,
    kafka_ssl_context,
)
from infra.redis import redis_client, redis_client_options

__all__ = [
    "InfraConfigError",
    "InfraError",
    "TopicSetupError",
    "ensure_topics",
    "kafka_client_options",
    "kafka_group_options",
    "kafka_ssl_context",
    "redis_client",
    "redis_client_options",
]
