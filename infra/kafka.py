"""Kafka connections from :class:`~schemas.settings.Settings`: client options, topics.

Every aiokafka client in the project (producers, consumers, the admin client)
gets its connection and security options from :func:`kafka_client_options`,
so SASL/SCRAM and TLS are configured in exactly one place.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context

from infra.exceptions import TopicSetupError
from schemas.settings import Settings

__all__ = ["ensure_topics", "kafka_client_options", "kafka_group_options", "kafka_ssl_context"]

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for ``SSL``/``SASL_SSL``; None for plaintext protocols.

    Without ``kafka_ssl_cafile`` the system CAs are trusted; a client
    certificate (mutual TLS) is loaded when ``kafka_ssl_certfile`` is set.
    Hostnames are always checked.
    """
    if not settings.kafka_uses_tls:
        return None
    key_password = settings.kafka_ssl_key_password
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
        password=key_password.get_secret_value() if key_password is not None else None,
    )
    return context


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin).

    The result holds the SASL password in clear, as aiokafka needs it: pass it
    on, never log it (log ``settings.safe_dump()`` instead).
    """
    options: dict[str, Any] = {
        "bootstrap_servers": [
            server.strip() for server in settings.kafka_bootstrap.split(",") if server.strip()
        ],
        "security_protocol": settings.kafka_security_protocol.value,
    }
    if settings.kafka_security_protocol.startswith("SASL"):
        # The settings validator guarantees both are present for SASL protocols.
        assert settings.kafka_sasl_password is not None
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism.value
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    context = kafka_ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    return options


def kafka_group_options(settings: Settings) -> dict[str, int]:
    """Group-membership timings for an aiokafka consumer with a ``group_id``.

    Kept apart from :func:`kafka_client_options` because producers and admin
    clients refuse these arguments.
    """
    return {
        "session_timeout_ms": round(settings.kafka_session_timeout_seconds * 1000),
        "heartbeat_interval_ms": round(settings.kafka_heartbeat_interval_seconds * 1000),
        "rebalance_timeout_ms": round(settings.kafka_rebalance_timeout_seconds * 1000),
    }


async def ensure_topics(
    settings: Settings,
    topics: Mapping[str, int],
    *,
    replication_factor: int = 1,
    topic_configs: Mapping[str, Mapping[str, str]] | None = None,
    max_wait_s: float = 30.0,
) -> dict[str, int]:
    """Create the topics that do not exist yet and wait until metadata shows them all.

    ``topics`` maps names to partition counts. Idempotent: existing topics are
    left as they are (also when another process creates one concurrently), so
    the returned ``{topic: partitions}`` — read back from the metadata — may
    differ from what was asked for an existing topic; callers that care compare.
    ``replication_factor`` is explicit because aiokafka's CreateTopics (v0-v3)
    cannot ask for the broker default; production passes its own. Raises
    :class:`~infra.exceptions.TopicSetupError` after ``max_wait_s``.
    """
    admin = AIOKafkaAdminClient(
        **kafka_client_options(settings),
        client_id="anomstream-admin",
        request_timeout_ms=max(1000, int(max_wait_s * 1000)),
    )
    try:
        async with asyncio.timeout(max_wait_s):
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [name for name in topics if name not in existing]
            if missing:
                configs = topic_configs or {}
                response = await admin.create_topics(
                    [
                        NewTopic(
                            name,
                            num_partitions=topics[name],
                            replication_factor=replication_factor,
                            topic_configs=dict(configs.get(name, {})),
                        )
                        for name in missing
                    ]
                )
                _raise_for_create_errors(response.topic_errors)
                log.info("created topics %s", {name: topics[name] for name in missing})
            return await _wait_until_listed(admin, topics, fresh=set(missing))
    except TimeoutError as exc:
        raise TopicSetupError(
            f"topics {sorted(topics)} not ready on {settings.kafka_bootstrap} "
            f"within {max_wait_s:g} s"
        ) from exc
    except KafkaError as exc:
        raise TopicSetupError(
            f"could not set up topics {sorted(topics)} on {settings.kafka_bootstrap}: {exc!r}"
        ) from exc
    finally:
        await admin.close()


def _raise_for_create_errors(topic_errors: list[tuple[Any, ...]]) -> None:
    # Each entry is (topic, error_code) or (topic, error_code, error_message) by version.
    failures = {
        entry[0]: (entry[1], entry[2] if len(entry) > 2 else None)
        for entry in topic_errors
        if entry[1] not in {0, _TOPIC_ALREADY_EXISTS}
    }
    if failures:
        detail = ", ".join(
            f"{topic}: error {code} ({message or 'no message'})"
            for topic, (code, message) in sorted(failures.items())
        )
        raise TopicSetupError(f"could not create topics: {detail}")


async def _wait_until_listed(
    admin: AIOKafkaAdminClient, topics: Mapping[str, int], *, fresh: set[str]
) -> dict[str, int]:
    """Poll the metadata until every topic has its partitions (the caller bounds the time)."""
    delay = 0.05
    while True:
        described = await admin.describe_topics(list(topics))
        counts = {
            entry["topic"]: len(entry["partitions"])
            for entry in described
            if entry["error_code"] == 0 and entry["partitions"]
        }
        if all(
            name in counts and (name not in fresh or counts[name] >= wanted)
            for name, wanted in topics.items()
        ):
            return counts
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)
