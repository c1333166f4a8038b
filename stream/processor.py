"""The worker's hot path, one micro-batch at a time, with no Faust in it.

For a batch of raw Kafka records of one kind::

    decode + validate ─► rejected ─────────────────────────────► dead-letters
          │
          ▼
    group by window ─► store.apply (one Lua call per shard) ─► claims (complete / changed)
          │                                    └─ retired windows ─► dead-letters
          ▼
    watermark advance ─► store.claim_due ─► claims (deadline passed)
          ▼
    load ─► score (one batched call per kind) ─► build outputs ─► store.commit (outbox)
          ▼
    produce (acks=all) ─► store.published (in the background)

The caller acknowledges the batch's offsets only after ``process`` returns:
every Redis write and every output of the batch is then durable. A crash at
any point leaves either unacknowledged input (redelivered; updates are
idempotent) or claims and outboxes that :meth:`WindowProcessor.tick` of any
worker recovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import structlog

from core.days import DayLayout, local_day
from core.scoring.base import Scorer
from schemas.settings import Settings
from stream.day_windows import to_day_windows
from stream.dead_letters import DeadLetters
from stream.grouping import Grouped, group_records
from stream.metrics import WorkerMetrics
from stream.outputs import (
    ROLE_ANOMALIES,
    ROLE_SCORES,
    Scored,
    build_round,
    validate_sample,
)
from stream.records import RawRecord, Record
from stream.retry import TRANSIENT_ERRORS
from stream.watermark import PartitionMark
from stream.watermark import watermark as compute_watermark
from stream.windows.base import (
    Claim,
    Commit,
    Outbox,
    UpdateOutcome,
    WindowStore,
)

__all__ = ["Publisher", "RawRecord", "ScorerSource", "Staged", "WindowProcessor"]

log = structlog.get_logger(__name__)

# A partition whose owner has not reported for this long holds the watermark
# (its worker may be dead): three housekeeping ticks plus slack.
REPORT_TTL_SECONDS = 5.0
_CLAIM_LIMIT = 10_000  # windows claimed per shard per claim_due call
_FORGETTING_MAX = 64  # rounds whose outboxes are being forgotten at once

KIND_METER = "meter"
KIND_TICKET = "ticket"


class Publisher(Protocol):
    async def publish(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        """Produce ``(topic, key, value)`` messages; return once all are acknowledged."""
        ...


class ScorerSource(Protocol):
    def scorer(self, kind: str) -> Scorer:
        """The scorer to use now for ``kind`` (swapped by model updates)."""
        ...


@dataclass(slots=True)
class BatchReport:
    records: int = 0
    accepted: int = 0
    dead_letters: int = 0
    scored: int = 0
    alerts: int = 0


@dataclass(slots=True)
class Staged:
    """A batch between :meth:`WindowProcessor.stage` and :meth:`WindowProcessor.finish`."""

    kind: str
    records: int
    grouped: Grouped
    late: DeadLetters  # readings of days already final
    claims: list[Claim]  # windows to score (emptied once committed)
    report: BatchReport = field(init=False)

    def __post_init__(self) -> None:
        self.report = BatchReport(records=self.records)


class WindowProcessor:
    """Turns batches of raw records into window state, verdicts and outputs."""

    def __init__(
        self,
        settings: Settings,
        store: WindowStore,
        scorers: ScorerSource,
        publisher: Publisher,
        metrics: WorkerMetrics,
        *,
        history_days: int = 28,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.scorers = scorers
        self.publisher = publisher
        self.metrics = metrics
        self.lease_seconds = settings.claim_lease_seconds
        self.history_days = history_days
        self.watermark_idle_seconds = settings.watermark_idle_seconds
        self._clock = clock
        self._topic_of_role = {
            ROLE_SCORES: settings.topic_scores,
            ROLE_ANOMALIES: settings.topic_anomalies,
        }
        self._watermarks: dict[str, float] = {}
        self._more_due: dict[str, bool] = {}  # claim_due stopped at its limit last time
        # input partitions per kind (from the broker at start; settings until then)
        self.partitions: dict[str, int] = {}
        self._lock = asyncio.Lock()  # one scoring round at a time per worker
        self._forgetting: set[asyncio.Future[None]] = set()  # store.published in flight
        self._last_publish: asyncio.Future[None] | None = None  # the latest round's outputs

    # --- the batch path -------------------------------------------------------

    async def process(
        self,
        kind: str,
        records: Sequence[Record],
        status: Mapping[int, bool] | None = None,
        *,
        grouped: Grouped | None = None,
    ) -> BatchReport:
        """Process one batch: :meth:`stage` then :meth:`finish`. ``status``: for the
        batch's partitions, whether the consumer had read everything after it (see
        :mod:`stream.watermark`). ``grouped``: the records already decoded and
        grouped (``group_records``)."""
        return await self.finish(await self.stage(kind, records, status, grouped=grouped))

    async def stage(
        self,
        kind: str,
        records: Sequence[Record],
        status: Mapping[int, bool] | None = None,
        *,
        grouped: Grouped | None = None,
    ) -> Staged:
        """A batch's state changes: its updates applied to the windows, the
        watermark advanced, the windows that are due claimed. Idempotent, so a
        retry after a Redis error repeats it. The consumer may stage the next
        batch while this one's :meth:`finish` runs (docs/DESIGN.md)."""
        settings = self.settings
        if grouped is None:
            grouped = group_records(
                kind,
                records,
                settings.timezone,
                settings.window_grace_seconds,
                settings.window_lateness_seconds,
            )
        rejected = grouped.rejected
        if rejected is None:
            topic = settings.topic_dead_letters
            rejected = grouped.rejected = DeadLetters.of(grouped, topic, self._clock())
        # A batch's rejections are known before its Redis work starts: they are
        # produced meanwhile (in a flood their acks took as long as the rest of
        # the batch), and awaited before the batch counts as processed. Once per
        # batch: a retry after a Redis error does not send them again.
        if rejected and not rejected.acked and grouped.sending is None:
            grouped.sending = asyncio.ensure_future(self._dead_letter(rejected))
        if records and not grouped.counted:
            grouped.counted = True
            self.metrics.events_in.labels(topic=records[0].topic).inc(len(records))
        late, claims = await self._update(kind, grouped, status)
        return Staged(kind, len(records), grouped, late, claims)

    async def finish(self, staged: Staged) -> BatchReport:
        """Score what the batch claimed, publish the outputs and the dead letters.
        Once this returns, every effect of the batch is durable: its offsets may
        be committed. A retry after an error repeats only what was not done."""
        if staged.claims:
            scored, alerts = await self._score(staged.claims)
            staged.claims = []  # committed: a retry must not score them again
            staged.report.scored += scored
            staged.report.alerts += alerts
        grouped = staged.grouped
        sending, grouped.sending = grouped.sending, None
        if sending is not None:
            await sending  # an error: the retry below sends them again
        rejected = grouped.rejected
        if rejected is not None and not rejected.acked:
            await self._dead_letter(rejected)
        await self._dead_letter(staged.late)
        report = staged.report
        report.dead_letters = len(rejected or ()) + len(staged.late)
        report.accepted = report.records - report.dead_letters
        return report

    async def _update(
        self, kind: str, grouped: Grouped, status: Mapping[int, bool] | None
    ) -> tuple[DeadLetters, list[Claim]]:
        """Apply the batch to its windows and claim what is due; returns the
        readings for days already final (``too_late``, to be dead-lettered) and
        the claims."""
        pending, partition_times = grouped.pending, grouped.partition_times
        late = DeadLetters(self.settings.topic_dead_letters, self._clock())
        claims: list[Claim] = []
        marks = None
        if pending:
            outcomes = await self.store.apply(
                [p.batch for p in pending.values()], self.lease_seconds
            )
            for key, (outcome, claim) in outcomes.items():
                if outcome is UpdateOutcome.LATE:
                    late.too_late(pending[key].records, key)
                elif claim is not None:
                    claims.append(claim)
            marks = await self.store.advance_watermark(kind, partition_times, status)
        known = self._watermarks.get(kind, -math.inf)
        late_opened = any(p.batch.deadline <= known for p in pending.values())
        claims += await self._claim_due(kind, force=late_opened, marks=marks)
        return late, claims

    async def _claim_due(
        self,
        kind: str,
        *,
        force: bool = False,
        marks: dict[int, PartitionMark] | None = None,
    ) -> list[Claim]:
        """Claim windows the watermark has passed: when it rose past a deadline,
        or when ``force`` (a window may open after the watermark already passed
        its deadline). ``marks``: the partition marks, when already read."""
        if marks is None:
            marks = await self.store.partition_marks(kind)
        watermark = compute_watermark(
            marks,
            self.partitions.get(kind, self.settings.topic_partitions),
            now=self._clock(),
            idle_s=self.watermark_idle_seconds,
            report_ttl_s=REPORT_TTL_SECONDS,
        )
        before = self._watermarks.get(kind, -math.inf)
        if watermark is None or (not force and watermark <= before):
            return []
        self._watermarks[kind] = max(watermark, before)
        self.metrics.watermark.labels(kind=kind).set(watermark)
        if (
            not force
            and not self._more_due.get(kind)
            and not self._passes_a_deadline(before, watermark)
        ):
            return []  # every deadline is a day's end + grace: none lies in (before, watermark]
        claims = await self.store.claim_due(kind, watermark, self.lease_seconds, limit=_CLAIM_LIMIT)
        self._more_due[kind] = len(claims) >= _CLAIM_LIMIT  # a shard had more than the limit
        return claims

    def _passes_a_deadline(self, before: float, after: float) -> bool:
        """Whether a window deadline (a local day's end + the grace period, the
        same for every window of a day) lies in ``(before, after]``: only then can
        the watermark's rise make a window due. Saves a scan of every shard's open
        index per batch (the watermark rises with nearly every batch)."""
        if before == -math.inf:
            return True
        grace, zone = self.settings.window_grace_seconds, self.settings.timezone
        first = local_day(datetime.fromtimestamp(before - grace, UTC), zone)
        return local_day(datetime.fromtimestamp(after - grace, UTC), zone) > first

    # --- scoring --------------------------------------------------------------

    async def _score(self, claims: list[Claim]) -> tuple[int, int]:
        """Score ``claims`` (and what changed while they were scored), one round at
        a time per worker, in the order rounds were asked for: a day sees the days
        committed before it in its history. A round's outputs are produced in the
        background, in order; the next round may start meanwhile, and this
        returns once they are all acknowledged."""
        publishing: list[asyncio.Future[None]] = []
        try:
            async with self._lock:
                scored, alerts = await self._rounds(claims, publishing)
        finally:
            for task in publishing:  # every one, even after an error: none left behind
                with contextlib.suppress(Exception):
                    await asyncio.shield(task)
        for task in publishing:
            task.result()  # an error: the caller retries; recovery re-publishes
        return scored, alerts

    async def _rounds(
        self, claims: list[Claim], publishing: list[asyncio.Future[None]]
    ) -> tuple[int, int]:
        scored = alerts = 0
        while claims:
            started = time.perf_counter()
            contents = await self.store.load(claims, self.history_days)
            by_kind: dict[str, list[int]] = defaultdict(list)
            for i, c in enumerate(contents):
                by_kind[c.claim.key.kind].append(i)
            commits: list[Commit] = []
            detected_at = datetime.fromtimestamp(self._clock(), UTC)
            for kind, indexes in by_kind.items():
                scorer = self.scorers.scorer(kind)
                mapped = to_day_windows(
                    [contents[i] for i in indexes], self.settings.timezone, self.history_days
                )
                windows = [window for window, _ in mapped]
                layouts = [layout for _, layout in mapped]
                verdicts = scorer.score(windows)
                round_windows = [
                    Scored(contents[i].claim, layout, window.values, verdict, window.temperature_c)
                    for i, verdict, window, layout in zip(
                        indexes, verdicts, windows, layouts, strict=True
                    )
                ]
                for scored_window, built in zip(
                    round_windows, build_round(round_windows, detected_at), strict=True
                ):
                    claim = scored_window.claim
                    if not commits:  # the models still check one window a round
                        validate_sample(built)
                    commits.append(
                        Commit(
                            claim=claim,
                            outbox=Outbox(claim.key, built.messages, claim.revision),
                            model_values=scored_window.actual,
                            alert_active=built.alert_active,
                            alert_published=built.alert_published,
                            retire_at=self._retire_at(scored_window.layout),
                        )
                    )
            closed: dict[tuple[str, str], int] = defaultdict(int)
            for commit in commits:
                how = "incomplete" if np.isnan(commit.model_values).any() else "complete"
                closed[(commit.claim.key.kind, how)] += 1
            for (kind, how), n in closed.items():
                self.metrics.windows_closed.labels(kind=kind, how=how).inc(n)
            outboxes, claims = await self.store.commit(
                commits, self.lease_seconds, self.history_days
            )
            publishing.append(self._publish_in_order(outboxes, started, list(by_kind)))
            scored += len(outboxes)
            alerts += sum(
                1 for o in outboxes for role, _, _ in o.messages if role == ROLE_ANOMALIES
            )
        return scored, alerts

    def _retire_at(self, layout: DayLayout) -> float:
        return (
            layout.end.timestamp()
            + self.settings.window_grace_seconds
            + self.settings.window_lateness_seconds
        )

    def _publish_in_order(
        self, outboxes: Sequence[Outbox], started: float, kinds: Sequence[str]
    ) -> asyncio.Future[None]:
        """Produce a committed round's outboxes after those of the rounds before
        (a window's revisions reach its partition in order), without holding the
        next round back: its outboxes are durable in Redis already."""
        before = self._last_publish

        async def publish() -> None:
            if before is not None:
                with contextlib.suppress(Exception):  # its own round reports its error
                    await asyncio.shield(before)
            await self._publish(outboxes)
            elapsed = time.perf_counter() - started
            for kind in kinds:
                self.metrics.scoring_seconds.labels(kind=kind).observe(elapsed)

        task = self._last_publish = asyncio.ensure_future(publish())
        return task

    async def _publish(self, outboxes: Sequence[Outbox]) -> None:
        if not outboxes:
            return
        messages = [
            (self._topic_of_role[role], key, value)
            for outbox in outboxes
            for role, key, value in outbox.messages
        ]
        await self.publisher.publish(messages)
        self._forget(outboxes)
        scored: dict[str, int] = defaultdict(int)  # one labels() lookup per kind, not per window
        for outbox in outboxes:
            kind = outbox.key.kind
            for role, _, value in outbox.messages:
                if role == ROLE_SCORES:
                    scored[kind] += 1
                else:
                    self.metrics.count_alert(kind, value)
        for kind, n in scored.items():
            self.metrics.windows_scored.labels(kind=kind).inc(n)

    def _forget(self, outboxes: Sequence[Outbox]) -> None:
        """Acknowledged outboxes are forgotten (``store.published``) off the latency
        path: the next round need not wait for it (2-20 ms at 5,000 readings/s).
        Until then a window's outbox stays in the inflight index under its lease;
        one never forgotten (an error, a crash) is re-published by recovery after
        the lease, the same bytes."""
        if len(self._forgetting) >= _FORGETTING_MAX:  # Redis is slow: wait for it
            task = asyncio.ensure_future(self._forget_after(list(self._forgetting), outboxes))
        else:
            task = asyncio.ensure_future(self._forget_now(outboxes))
        self._forgetting.add(task)
        task.add_done_callback(self._forgetting.discard)

    async def _forget_after(
        self, earlier: Sequence[asyncio.Future[None]], outboxes: Sequence[Outbox]
    ) -> None:
        await asyncio.gather(*earlier)
        await self._forget_now(outboxes)

    async def _forget_now(self, outboxes: Sequence[Outbox]) -> None:
        try:
            await self.store.published(outboxes)
        except TRANSIENT_ERRORS as exc:
            log.warning(
                "published outboxes not forgotten; recovery re-publishes them after the lease",
                windows=len(outboxes),
                error=f"{type(exc).__name__}: {exc}",
            )

    async def drain(self) -> None:
        """Wait until every acknowledged outbox is forgotten (on stop; in tests)."""
        while self._forgetting:
            await asyncio.gather(*self._forgetting)

    # --- housekeeping (a timer calls this on every worker) --------------------

    async def tick(
        self,
        kinds: Sequence[str] = (KIND_METER, KIND_TICKET),
        status: Mapping[str, Mapping[int, bool]] | None = None,
    ) -> None:
        """Report the assigned partitions (``status``: kind -> partition -> caught up),
        close windows the watermark has passed (also when input went quiet),
        recover dead workers' claims and outboxes, retire final windows."""
        await self.drain()  # what is still in flight is not for recovery
        for kind in kinds:
            if status and status.get(kind):
                await self.store.advance_watermark(kind, {}, status[kind])
            claims = await self._claim_due(kind, force=True)
            recovered, outboxes = await self.store.recover(kind, self.lease_seconds, limit=1000)
            if recovered or outboxes:
                log.warning(
                    "recovering windows of a stopped worker",
                    kind=kind,
                    claims=len(recovered),
                    outboxes=len(outboxes),
                )
            await self._publish(outboxes)
            await self._score(claims + recovered)
            watermark = self._watermarks.get(kind)
            if watermark is not None:
                await self.store.retire(kind, watermark, limit=1000)
            self.metrics.open_windows.labels(kind=kind).set(await self.store.open_windows(kind))

    # --- dead letters -----------------------------------------------------------

    async def _dead_letter(self, dead: DeadLetters) -> None:
        if not dead or dead.acked:
            return
        await self.publisher.publish(dead.messages)
        dead.acked = True
        for reason, n in dead.reasons.items():
            self.metrics.dead_letters.labels(reason=reason).inc(n)
