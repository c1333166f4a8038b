"""The trainer service: when to train, and what to do with the result.

``anomstream trainer`` calls :meth:`TrainerService.run_forever`; ``anomstream
train --once`` calls :meth:`TrainerService.run_once`. Every
``train_check_seconds`` the service reads the windows that arrived on
``window-scores`` (:mod:`trainer.source`) and trains a kind when

1. it has at least ``train_min_windows`` windows, and
2. something arrived (or was revised) since its last training, and
3. it has no model yet (cold start: the **first model** comes as soon as
   there is enough data), or ``train_min_new_windows`` arrived since the last
   training, or ``train_interval_seconds`` passed since it.

A published version is announced on ``model-updates``
(:mod:`trainer.announce`); an announcement that fails is retried at the
next check, and workers that share the model directory see the new
``CURRENT`` pointer regardless. Every decision is logged.

Training runs in the event loop's thread, blocking it, on purpose: the
service has nothing else to do meanwhile, holds no Kafka connection during
it (the reader and the announcer connect per use), and Ctrl-C or SIGTERM
stop it at once. Killed mid-training, it resumes from the checkpoint under
``<model_dir>/checkpoints/`` when restarted on the same data.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog

from core.exceptions import CoreError
from core.holidays import load_calendar
from core.registry import ModelRegistry
from core.scoring.base import DayWindow
from schemas.model_updates import ModelUpdate
from schemas.settings import Settings
from trainer.announce import AnnounceFailed, Announcer, model_update
from trainer.exceptions import NotEnoughData
from trainer.fit import FitConfig
from trainer.pipeline import TrainingPlan, TrainOutcome, train_and_publish
from trainer.source import ScoresReader, ScoresUnavailable

__all__ = ["KINDS", "Decision", "TrainerService", "plan_from_settings"]

log = structlog.get_logger(__name__)

KINDS: tuple[str, ...] = ("meter", "ticket")
Action = Literal["published", "kept_champion", "not_enough_data"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What one training attempt of one kind came to."""

    kind: str
    action: Action
    windows: int
    reason: str
    version: str | None = None  # the version published, or the champion kept
    metrics: dict[str, float] = field(default_factory=dict)
    first: bool = False  # the kind's first model (cold start over)

    @property
    def trained(self) -> bool:
        return self.action != "not_enough_data"


def plan_from_settings(settings: Settings) -> TrainingPlan:
    """The pipeline's plan with the deployment's limits: a fifth of
    ``train_min_windows`` must be held out, the rest trains."""
    holdout = max(1, settings.train_min_windows // 5)
    return TrainingPlan(
        fit=FitConfig(max_epochs=settings.train_max_epochs, cpu_threads=settings.train_cpu_threads),
        min_train_windows=settings.train_min_windows - holdout,
        min_holdout_windows=holdout,
    )


class TrainerService:
    """One trainer's state across checks: the windows read, and per kind when
    it last trained and how many windows it had then."""

    def __init__(
        self,
        settings: Settings,
        *,
        registry: ModelRegistry | None = None,
        plan: TrainingPlan | None = None,
        reader: ScoresReader | None = None,
        announcer: Announcer | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.registry = registry or ModelRegistry(
            settings.model_dir,
            device=settings.device,
            calendar=load_calendar(settings.holidays_path),
        )
        self.plan = plan or plan_from_settings(settings)
        self.reader = reader or ScoresReader(settings)
        self.announcer = announcer or Announcer(settings)
        self._clock = clock
        self._last_trained: dict[str, float] = {}  # kind -> wall clock of the last training
        self._changes_then: dict[str, int] = {}  # kind -> windows.changes at that training
        self._unannounced: list[ModelUpdate] = []
        self._caught_up = False  # whether the history has been read once

    @property
    def windows(self) -> int:
        return len(self.reader.windows)

    # --- the two entry points ------------------------------------------------
    async def run_once(self, kinds: Sequence[str] | None = None) -> list[Decision]:
        """Read everything, train each kind now (no schedule), announce; ``train --once``."""
        await self.reader.read()
        chosen = list(kinds) if kinds else (self.reader.windows.kinds() or list(KINDS))
        decisions = [self.train(kind, reason="requested") for kind in chosen]
        await self._announce_pending()
        return decisions

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Check, train what is due, announce; until ``stop`` is set."""
        stop = stop or asyncio.Event()
        log.info(
            "trainer started",
            model_dir=str(self.settings.model_dir),
            check_seconds=self.settings.train_check_seconds,
            interval_seconds=self.settings.train_interval_seconds,
            min_windows=self.settings.train_min_windows,
            min_new_windows=self.settings.train_min_new_windows,
            current={kind: self.registry.current(kind) for kind in KINDS},
        )
        while not stop.is_set():
            await self.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.train_check_seconds)
        log.info("trainer stopped")

    async def check(self) -> list[Decision]:
        """One check: read, train what is due, announce what is pending."""
        try:
            read = await self.reader.read()
        except ScoresUnavailable as exc:
            log.error("cannot read window-scores; will retry", error=str(exc))
            return []
        counts = {kind: self.reader.windows.count(kind) for kind in self.reader.windows.kinds()}
        if not self._caught_up:  # the first successful read: the whole history
            self._caught_up = True
            self._remember_current_models()
            log.info("window-scores read", messages=read, windows=counts)
        else:
            log.debug("window-scores read", messages=read, windows=counts)
        decisions = []
        for kind in self.reader.windows.kinds():
            reason = self.due(kind)
            if reason is not None:
                decisions.append(self.train(kind, reason=reason))
        await self._announce_pending()
        return decisions

    # --- deciding --------------------------------------------------------------
    def due(self, kind: str) -> str | None:
        """Why ``kind`` should train now, or ``None`` (see the module doc)."""
        windows = self.reader.windows
        total = windows.count(kind)
        new = windows.changes[kind] - self._changes_then.get(kind, 0)
        if total < self.settings.train_min_windows or new <= 0:
            return None
        if self.registry.current(kind) is None:
            return "no model yet"
        if new >= self.settings.train_min_new_windows:
            return f"{new} new windows"
        last = self._last_trained.get(kind)
        if last is None or self._clock() - last >= self.settings.train_interval_seconds:
            return "schedule"
        return None

    def _remember_current_models(self) -> None:
        """After a restart, count a current model's data as trained on: a restart
        alone is no reason to train again."""
        for kind in KINDS:
            version = self.registry.current(kind)
            if version is None:
                continue
            try:
                record = self.registry.describe(kind, version)
            except CoreError as exc:
                log.warning("current model unreadable", kind=kind, version=version, error=str(exc))
                continue
            last_day = record.metadata.data_last_day
            newer = sum(1 for w in self.reader.windows.windows(kind) if w.day > last_day)
            self._changes_then[kind] = self.reader.windows.changes[kind] - newer
            self._last_trained[kind] = record.created.timestamp()

    # --- training ----------------------------------------------------------------
    def train(self, kind: str, *, reason: str) -> Decision:
        """Train ``kind`` on every window read so far; publish if it wins; log it."""
        windows = self.reader.windows.windows(kind)
        self._changes_then[kind] = self.reader.windows.changes[kind]
        self._last_trained[kind] = self._clock()
        if len(windows) < self.settings.train_min_windows:
            return self._not_enough(
                kind,
                len(windows),
                f"{len(windows)} {kind} windows; need {self.settings.train_min_windows}",
            )
        log.info("training", kind=kind, reason=reason, windows=len(windows))
        checkpoint = self.checkpoint_path(kind)
        champion_before = self.registry.current(kind)
        try:
            outcome = train_and_publish(
                windows,
                kind=kind,
                registry=self.registry,
                plan=self.plan,
                device=self.settings.device,
                timezone=self.settings.timezone,
                checkpoint_path=checkpoint,
            )
        except NotEnoughData as exc:
            return self._not_enough(kind, len(windows), str(exc))
        checkpoint.unlink(missing_ok=True)  # finished: the next run is another run
        return self._record(kind, windows, outcome, first=champion_before is None)

    def checkpoint_path(self, kind: str) -> Path:
        return self.settings.model_dir / "checkpoints" / f"{kind}.safetensors"

    def _record(
        self, kind: str, windows: Sequence[DayWindow], outcome: TrainOutcome, *, first: bool
    ) -> Decision:
        facts = {
            "kind": kind,
            "windows": len(windows),
            "epochs": len(outcome.fit.history),
            "valid_loss": round(outcome.fit.best_valid_loss, 6),
            "holdout_mean_score": outcome.challenger_metrics.get("holdout_mean_score"),
        }
        if not outcome.published:
            log.info(
                "champion kept",
                **facts,
                champion=outcome.champion,
                champion_mean_score=(outcome.champion_metrics or {}).get("holdout_mean_score"),
                reason=outcome.reason,
            )
            return Decision(
                kind,
                "kept_champion",
                len(windows),
                outcome.reason,
                outcome.champion,
                outcome.challenger_metrics,
            )
        assert outcome.version is not None  # published means a version
        record = self.registry.describe(kind, outcome.version)
        meta = record.metadata
        log.info(
            "first model trained" if first else "model published",
            **facts,
            version=outcome.version,
            replaced=outcome.champion,
            n_train=meta.n_train,
            n_valid=meta.n_valid,
            first_day=meta.data_first_day.isoformat(),
            last_day=meta.data_last_day.isoformat(),
            threshold=meta.threshold.value,
            reason=outcome.reason,
        )
        self._unannounced.append(model_update(self.registry, kind, outcome.version, "publish"))
        return Decision(
            kind,
            "published",
            len(windows),
            outcome.reason,
            outcome.version,
            outcome.challenger_metrics,
            first=first,
        )

    def _not_enough(self, kind: str, windows: int, reason: str) -> Decision:
        log.info("not enough data", kind=kind, windows=windows, reason=reason)
        return Decision(kind, "not_enough_data", windows, reason)

    async def _announce_pending(self) -> None:
        while self._unannounced:
            update = self._unannounced[0]
            try:
                await self.announcer.announce(update)
            except AnnounceFailed as exc:
                log.error("model update not announced; will retry", error=str(exc))
                return
            self._unannounced.pop(0)
            log.info(
                "model update announced",
                kind=update.kind,
                version=update.version,
                action=update.action,
                topic=self.settings.topic_model_updates,
            )

    @property
    def pending_announcements(self) -> int:
        return len(self._unannounced)
