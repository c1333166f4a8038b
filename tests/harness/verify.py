"""The checks every fault test ends with: outputs read from the beginning, against the input.

1. **No window missing, none invented**: the (entity, day) pairs on
   ``window-scores`` are exactly the input's.
2. **Counted once**: the latest revision of every window carries exactly the
   values sent (a doubled or lost reading would show there).
3. **Never two contents under one id**: per (``alert_id``, ``revision``),
   ``window-scores`` and ``anomalies`` hold one content each (an identical
   re-publish after a crash is allowed: consumers deduplicate on that pair).
4. **Every invalid input dead-lettered, nothing else**: the dead letters'
   payloads are exactly the invalid ones sent, each from one input offset,
   each with a reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from harness.kafka_io import read_topic
from harness.workload import MeterWorkload
from schemas.settings import Settings

__all__ = ["Delivered", "assert_delivered", "read_outputs"]


@dataclass(frozen=True)
class Delivered:
    scores: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]

    def summary(self) -> str:
        windows = {(m["entity_id"], m["day"]) for m in self.scores}
        return (
            f"{len(self.scores)} scores of {len(windows)} windows, "
            f"{len(self.alerts)} alerts, {len(self.dead_letters)} dead letters"
        )


def _windows(messages: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(m["entity_id"], m["day"]) for m in messages}


async def read_outputs(
    settings: Settings, workload: MeterWorkload, *, timeout: float = 240.0
) -> Delivered:
    """Wait (up to ``timeout`` s per topic) until every expected window and dead
    letter is out, then read a little longer to catch unwanted extras."""
    bootstrap = settings.kafka_bootstrap
    expected = set(workload.expected)
    scores = await read_topic(
        bootstrap,
        settings.topic_scores,
        until=lambda seen: _windows(seen) >= expected,
        timeout=timeout,
        settle=3.0,
    )
    dead = await read_topic(
        bootstrap,
        settings.topic_dead_letters,
        until=lambda seen: {m["value"].encode() for m in seen} >= workload.invalid,
        timeout=timeout,
        settle=1.0,
    )
    # an alert goes out in the same acknowledged publish as its window's score
    alerts = await read_topic(
        bootstrap, settings.topic_anomalies, until=lambda _: True, timeout=timeout, settle=2.0
    )
    return Delivered(scores, alerts, dead)


def _contents(messages: list[dict[str, Any]]) -> dict[tuple[str, int], set[bytes]]:
    contents: dict[tuple[str, int], set[bytes]] = defaultdict(set)
    for m in messages:
        contents[(m["alert_id"], m["revision"])].add(orjson.dumps(m, option=orjson.OPT_SORT_KEYS))
    return contents


def _difference(score: dict[str, Any], sent: list[float]) -> str:
    actual = score["actual"]
    missing = [i for i, v in enumerate(actual) if v is None]
    other = [
        i for i, (v, w) in enumerate(zip(actual, sent, strict=True)) if v is not None and v != w
    ]
    return (
        f"{score['entity_id']} {score['day']} revision {score['revision']}: "
        f"slots missing {missing}, other values {other}"
    )


def _reasons(letters: Iterable[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(f"{m['error']['type']}: {m['error']['message'][:80]}" for m in letters))


def assert_delivered(out: Delivered, workload: MeterWorkload, *, context: str = "") -> None:
    """The four checks of the module docstring; ``context`` (log tails) goes with a failure."""
    expected = set(workload.expected)
    seen = _windows(out.scores)
    missing, extra = sorted(expected - seen), sorted(seen - expected)
    assert not missing, f"{len(missing)} windows never scored, e.g. {missing[:5]}\n{context}"
    assert not extra, f"windows nobody sent: {extra[:5]}"

    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for m in out.scores:
        key = (m["entity_id"], m["day"])
        if key not in latest or m["revision"] > latest[key]["revision"]:
            latest[key] = m
    wrong = [k for k, m in latest.items() if m["actual"] != workload.expected[k]]
    assert not wrong, (
        f"{len(wrong)} windows do not carry the values sent: "
        + "; ".join(_difference(latest[k], workload.expected[k]) for k in wrong[:5])
        + f"\n{context}"
    )

    for topic, messages in (("window-scores", out.scores), ("anomalies", out.alerts)):
        doubled = {k: len(c) for k, c in _contents(messages).items() if len(c) > 1}
        assert not doubled, f"{topic}: other content under one (alert_id, revision): {doubled}"

    letters = {m["value"].encode() for m in out.dead_letters}
    assert letters == workload.invalid, (
        f"{len(workload.invalid - letters)} invalid inputs not dead-lettered, "
        f"{len(letters - workload.invalid)} dead letters for valid ones: "
        f"{_reasons(m for m in out.dead_letters if m['value'].encode() not in workload.invalid)}"
    )
    sources = {(m["source_topic"], m["partition"], m["offset"]) for m in out.dead_letters}
    assert len(sources) == len(workload.invalid), "a dead letter per invalid input offset"
    assert all(m["error"]["type"] and m["error"]["message"] for m in out.dead_letters)
