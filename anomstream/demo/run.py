"""The demo, start to finish, on the embedded services.

1. start the embedded broker and Redis, and one worker process;
2. replay the first six weeks of the sample (the baseline detector judges them);
3. train the first autoencoder on those weeks and announce it: the worker
   switches to it without a restart;
4. replay the rest, with the injected anomalies, showing alerts as they come;
5. summarise which injected anomalies were found and what else was flagged.

Everything runs as the real product does: real Kafka protocol, real Redis,
the real worker process and trainer code. Nothing is left running afterwards.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from rich import box
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from anomstream.alert_view import render_alert
from anomstream.demo.sample import INJECTIONS, TRAIN_UNTIL, load_sample, readings
from anomstream.embedded import EmbeddedServices
from anomstream.embedded.ports import free_port
from anomstream.processes import WorkerProcess
from infra.kafka import ensure_topics
from schemas.settings import Settings, load_settings

__all__ = ["run_demo"]

_SHOWN = frozenset(
    {
        "anomstream_events_in_total",
        "anomstream_windows_scored_total",
        "anomstream_windows_closed_total",
        "anomstream_open_windows",
    }
)


def demo_settings(services: EmbeddedServices, workdir: Path) -> Settings:
    return load_settings(
        kafka_bootstrap=services.kafka_bootstrap,
        redis_url=services.redis_url,
        timezone="Europe/London",
        consumer_group="anomstream-demo",
        model_dir=workdir / "models",
        kafka_idempotent_producer=False,  # the embedded broker has no InitProducerId
        kafka_session_timeout_seconds=6.0,
        kafka_heartbeat_interval_seconds=1.0,
        kafka_rebalance_timeout_seconds=10.0,
        watermark_idle_seconds=3.0,
        train_min_windows=200,
    )


class Demo:
    def __init__(self, settings: Settings, worker: WorkerProcess, console: Console) -> None:
        self.settings = settings
        self.worker = worker
        self.console = console
        self.alerts: dict[str, dict[str, Any]] = {}  # alert_id -> latest revision
        self.sent = 0
        self.phase = "starting"
        self._last = (time.monotonic(), 0.0)  # for the processing rate

    # --- worker state, read from its /metrics and /health --------------------
    def stats(self) -> dict[str, float]:
        """The worker's counters, summed over labels, from its ``/metrics``."""
        values: dict[str, float] = {}
        try:
            text = self.worker.metrics()
        except OSError:
            return values
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in _SHOWN:
                    values[sample.name] = values.get(sample.name, 0.0) + sample.value
        return values

    def model_version(self) -> str:
        body = self.worker.health() or {}
        return str(body.get("models", {}).get("meter", "?"))

    # --- input ------------------------------------------------------------------
    async def replay(self, rows: Iterable[dict[str, Any]]) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap, linger_ms=20, acks="all"
        )
        await producer.start()
        futures = []
        try:
            for row in rows:
                futures.append(
                    await producer.send(
                        self.settings.topic_readings,
                        orjson.dumps(row),
                        key=str(row["meter_id"]).encode(),
                    )
                )
                self.sent += 1
                if len(futures) >= 5000:
                    await asyncio.gather(*futures)
                    futures.clear()
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    def status(self) -> Text:
        """One line: what was sent, what the worker did, which model judges."""
        stats = self.stats()
        now, processed = time.monotonic(), stats.get("anomstream_events_in_total", 0.0)
        last_time, last_processed = self._last
        rate = (processed - last_processed) / max(now - last_time, 1e-6)
        self._last = (now, processed)
        closed = stats.get("anomstream_windows_closed_total", 0.0)
        return Text.assemble(
            (f"{self.phase}: ", "dim"),
            f"{self.sent:,} sent · {processed:,.0f} processed ({rate:,.0f} events/s) · ",
            f"{stats.get('anomstream_open_windows', 0):,.0f} open / {closed:,.0f} closed days · ",
            f"{len(self.alerts)} alerts · model {self.model_version()}",
        )

    async def show_status(self, live: Live, stop: asyncio.Event) -> None:
        while not stop.is_set():
            live.update(self.status())
            await asyncio.sleep(0.5)

    async def wait_scored(self, count: int, limit_s: float = 90.0) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.stats().get("anomstream_windows_scored_total", 0) >= count:
                return
            await asyncio.sleep(0.5)
        self.console.print(f"[yellow]still waiting for days to be scored after {limit_s:.0f}s[/]")

    # --- output -------------------------------------------------------------------
    async def follow_alerts(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self.settings.topic_anomalies,
            bootstrap_servers=self.settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        alert = orjson.loads(record.value)
                        self.alerts[alert["alert_id"]] = alert
                        self.console.print(render_alert(alert))
        finally:
            await consumer.stop()

    async def train(self) -> str | None:
        from trainer.service import TrainerService

        service = TrainerService(self.settings)
        decisions = await service.run_once(["meter"])
        for decision in decisions:
            self.console.print(
                f"[bold]trainer:[/] {decision.action} {decision.version or ''} "
                f"on {decision.windows} days ({decision.reason})",
                highlight=False,
            )
        return next((d.version for d in decisions if d.version), None)

    async def wait_model(self, version: str, limit_s: float = 30.0) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.model_version() == version:
                return
            await asyncio.sleep(0.3)

    def summary(self) -> Table:
        # fits 80 columns unwrapped: whether it was found is the severity's column
        table = Table(
            title="Injected anomalies",
            box=box.SIMPLE_HEAD,
            padding=(0, 1),
            collapse_padding=True,
            pad_edge=False,
        )
        for column in ("anomaly", "household", "day", "change", "found", "score"):
            table.add_column(column, no_wrap=True)
        injected = {(i.meter_id, i.day.isoformat()) for i in INJECTIONS}
        by_day = {(a["entity_id"], a["day"]): a for a in self.alerts.values()}
        for injection in INJECTIONS:
            alert = by_day.get((injection.meter_id, injection.day.isoformat()))
            found = alert is not None and not alert.get("retracted")
            table.add_row(
                injection.name,
                injection.meter_id,
                injection.day.isoformat(),
                injection.change,
                f"[green]{alert['severity']}[/]" if found and alert else "[red]no[/]",
                f"{alert['score']:.1f}" if alert else "",
            )
        others = [a for key, a in by_day.items() if key not in injected]
        thresholds = sorted({f"{a['threshold']:.2f}" for a in by_day.values()})
        table.caption = (
            f"{len(others)} other household-days flagged (real, not injected); "
            f"thresholds {', '.join(thresholds) or '-'}"
        )
        return table


async def _run(settings: Settings, worker: WorkerProcess, console: Console) -> int:
    demo = Demo(settings, worker, console)
    frame = load_sample()
    early = frame[frame["day"] < TRAIN_UNTIL]
    late = frame[frame["day"] >= TRAIN_UNTIL]
    early_days = early.groupby(["LCLid", "day"]).size()
    complete_early = int((early_days >= 48).sum())
    stop = asyncio.Event()
    follower = asyncio.create_task(demo.follow_alerts(stop))
    with Live(demo.status(), console=console, refresh_per_second=4, transient=True) as live:
        status = asyncio.create_task(demo.show_status(live, stop))
        try:
            console.rule("1. six weeks of real readings; the baseline judges each household's days")
            demo.phase = "Jan 1 - Feb 14"
            await demo.replay(readings(early))
            await demo.wait_scored(complete_early)
            console.rule("2. the trainer learns the first model from those days")
            demo.phase = "training"
            version = await demo.train()
            if version:
                await demo.wait_model(version)
                console.print(f"worker now scores with [bold]{demo.model_version()}[/]")
            console.rule("3. six more weeks, with four injected anomalies")
            demo.phase = "Feb 15 - Mar 31"
            await demo.replay(readings(late))
            total_days = int((frame.groupby(["LCLid", "day"]).size() >= 48).sum())
            await demo.wait_scored(total_days)
            await asyncio.sleep(2.0)  # let the last alerts arrive
        finally:
            stop.set()
            await follower
            await status
    console.rule("summary")
    console.print(demo.summary())
    stats = demo.stats()
    console.print(
        f"{demo.sent:,} readings · {stats.get('anomstream_windows_scored_total', 0):,.0f} "
        f"household-days scored · {len(demo.alerts)} alerts · model {demo.model_version()}",
        highlight=False,
    )
    console.print(
        "Data: Low Carbon London smart-meter trial, UK Power Networks (London Datastore).",
        style="dim",
    )
    return 0


def run_demo(console: Console | None = None) -> int:
    console = console or Console()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="anomstream-demo-") as tmp:
        workdir = Path(tmp)
        console.print("starting the embedded broker and Redis ...")
        with EmbeddedServices(kafka_port=0, redis_port=0, run_dir=workdir / "services") as services:
            settings = demo_settings(services, workdir)
            asyncio.run(ensure_topics(settings, _demo_topics(settings)))
            worker = WorkerProcess(settings, workdir / "worker.log", free_port())
            worker.start()
            try:
                console.print("starting a worker ...")
                worker.wait_until_serving(timeout=90)
                code = asyncio.run(_run(settings, worker, console))
            finally:
                worker.stop()
    console.print(f"demo finished in {time.monotonic() - started:.0f} s; nothing left running.")
    return code


def _demo_topics(settings: Settings) -> dict[str, int]:
    names = (
        settings.topic_readings,
        settings.topic_sales,
        settings.topic_scores,
        settings.topic_anomalies,
        settings.topic_dead_letters,
    )
    return {**dict.fromkeys(names, settings.topic_partitions), settings.topic_model_updates: 1}
