"""Consumer-group timings for tests.

On tansu a group join takes about half of the session timeout, and a join
right after another member left about twice it (see
:mod:`anomstream.embedded.kafka`): with 2 s sessions joins take 1 to 4 s
instead of 5 to 18 s with aiokafka's default 10 s. Kafka refuses sessions
shorter than ``group.min.session.timeout.ms`` (6 s by default): the Docker
harness lowers it to 1 s, and an external test Kafka must allow 2 s too.
"""

from __future__ import annotations

from typing import Any

from schemas.settings import Settings

FAST_GROUP_SETTINGS: dict[str, Any] = {
    "kafka_session_timeout_seconds": 2.0,
    "kafka_heartbeat_interval_seconds": 0.2,
    "kafka_rebalance_timeout_seconds": 2.0,
}


def with_fast_groups(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST_GROUP_SETTINGS)
