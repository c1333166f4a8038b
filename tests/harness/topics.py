"""Per-test topic names (uuid-suffixed) and their creation."""

from __future__ import annotations

import uuid
from dataclasses import astuple, dataclass, fields

from harness.settings import make_settings
from infra import ensure_topics

PARTITIONS = 4


@dataclass(frozen=True)
class TopicNames:
    """The six topics of one test, named like the defaults plus a shared suffix."""

    readings: str
    sales: str
    anomalies: str
    scores: str
    dead_letters: str
    model_updates: str

    @classmethod
    def unique(cls, suffix: str | None = None) -> TopicNames:
        tag = suffix or uuid.uuid4().hex[:12]
        return cls(
            readings=f"meter-readings-{tag}",
            sales=f"ticket-sales-{tag}",
            anomalies=f"anomalies-{tag}",
            scores=f"window-scores-{tag}",
            dead_letters=f"dead-letters-{tag}",
            model_updates=f"model-updates-{tag}",
        )

    def all(self) -> tuple[str, ...]:
        return astuple(self)

    def settings_values(self) -> dict[str, str]:
        """``topic_*`` keyword arguments for :class:`~schemas.settings.Settings`."""
        return {f"topic_{field.name}": getattr(self, field.name) for field in fields(self)}


async def create_topics(
    kafka_bootstrap: str, names: TopicNames, partitions: int = PARTITIONS
) -> dict[str, int]:
    settings = make_settings(kafka_bootstrap=kafka_bootstrap)
    return await ensure_topics(settings, dict.fromkeys(names.all(), partitions))
