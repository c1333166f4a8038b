"""The alerts page: alerts from the topic, in a real browser, served by a real worker.

Readings in → the worker alerts → its ``/alerts`` page, rendered by headless
Chromium, shows each alert with its chart: the explaining half hours marked,
the missing ones as gaps. Chromium is driven as a plain subprocess
(``--dump-dom`` once the page's script ran, ``--screenshot``), so no driver
library is needed; without a browser that test skips and says why. The feed
that fills the page is tested on its own, with no browser.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from harness.days import LONDON, days, meter_day
from harness.kafka_io import produce, read_topic
from harness.workers import WorkerProcess

from schemas import Alert
from schemas.settings import Settings
from stream.recent_alerts import AlertFeed, RecentAlerts

pytestmark = pytest.mark.integration

NIGHT = dict.fromkeys(range(2, 10), 5.0)  # 01:00-05:00: a heater left on
GAP = {20, 21, 22}  # 10:00-11:30: a meter that did not report
SCREENSHOT = Path(__file__).parents[3] / "out" / "alerts-page.png"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # lets the page fetch /alerts.json and render before the DOM is taken
    "--virtual-time-budget=5000",
)


@pytest.fixture
def browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    pytest.skip(
        "no Chromium or Chrome on PATH (apt-get install chromium): "
        "the alerts page is checked in a real browser"
    )


def headless(browser: str, url: str, *flags: str) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run(
            [browser, *HEADLESS, f"--user-data-dir={profile}", *flags, url],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    return done.stdout


def attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w:-]+)="([^"]*)"', tag))


def rendered_alerts(dom: str) -> dict[str, str]:
    """``alert_id`` -> the inner HTML of its ``<article>`` (articles do not nest)."""
    found = re.findall(r'<article\b[^>]*data-alert-id="([^"]+)"[^>]*>(.*?)</article>', dom, re.S)
    return dict(found)


def marked(article: str, css_class: str) -> set[int]:
    rects = (attributes(tag) for tag in re.findall(r"<rect\b[^>]*>", article))
    return {int(a["data-slot"]) for a in rects if css_class in a.get("class", "").split()}


def wait_for_page_data(worker: WorkerProcess, alert_ids: set[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = orjson.loads(worker.get("/alerts.json"))
        if alert_ids <= {a["alert_id"] for a in body["alerts"]}:
            return
        time.sleep(0.3)
    raise AssertionError(f"/alerts.json never showed {alert_ids}:\n{worker.tail()}")


async def test_alerts_page_shows_every_alert_with_its_chart(
    settings: Settings, tmp_path: Path, browser: str
) -> None:
    settings = settings.model_copy(
        update={"timezone": LONDON, "consumer_group": f"g-{uuid.uuid4().hex[:8]}"}
    )
    night = date(2013, 3, 30)
    readings = []
    for meter, skip in (("M1", None), ("M2", GAP)):
        readings += [r for d in days(date(2013, 3, 20), 10) for r in meter_day(meter, d)]
        readings += meter_day(meter, night, extra=NIGHT, skip=skip)
        # the next night moves the watermark past the 30th + grace: M2's day closes
        readings += meter_day(meter, night + timedelta(days=1))[:8]
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.wait_until_serving()
        messages = [(r["meter_id"].encode(), orjson.dumps(r)) for r in readings]
        await produce(settings.kafka_bootstrap, settings.topic_readings, messages)
        alerts = await read_topic(
            settings.kafka_bootstrap,
            settings.topic_anomalies,
            until=lambda seen: {a["entity_id"] for a in seen} >= {"M1", "M2"},
        )
        by_entity = {a["entity_id"]: a for a in alerts if a["day"] == night.isoformat()}
        assert set(by_entity) == {"M1", "M2"}, worker.tail()
        assert by_entity["M2"]["missing_slots"] == sorted(GAP)
        await asyncio.to_thread(
            wait_for_page_data, worker, {a["alert_id"] for a in by_entity.values()}
        )

        url = f"http://127.0.0.1:{worker.port}/alerts"
        dom = await asyncio.to_thread(headless, browser, url, "--dump-dom")
        shown = rendered_alerts(dom)
        for entity, alert in by_entity.items():
            article = shown.get(alert["alert_id"])
            assert article is not None, f"{entity}'s alert is not on the page:\n{dom[-3000:]}"
            assert re.search(r'<svg\b[^>]*class="chart"', article)
            assert entity in article and alert["model_version"] in article
            assert marked(article, "slot-mark") == {s["index"] for s in alert["slots"]}
            assert marked(article, "missing-slot") == set(alert["missing_slots"])
        assert re.search(r'data-kind="meter">baseline-', dom), "model versions not at the top"

        shot = tmp_path / "alerts-page.png"
        await asyncio.to_thread(
            headless, browser, url, f"--screenshot={shot}", "--window-size=1200,900"
        )
        assert shot.read_bytes().startswith(b"\x89PNG")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
    finally:
        worker.stop()


def _alert(entity: str, revision: int, *, later_seconds: float = 0.0) -> Alert:
    start = datetime(2013, 3, 30, tzinfo=UTC)
    return Alert(
        alert_id=f"id-{entity}",
        revision=revision,
        kind="meter",
        entity_id=entity,
        day=start.date(),
        timezone="UTC",
        window_start=start,
        window_end=start + timedelta(days=1),
        score=2.0,
        threshold=1.0,
        severity="medium",
        detector="baseline",
        model_version="baseline-mad-7d",
        actual=[0.2] * 48,
        expected=[0.2] * 48,
        slots=[],
        missing_slots=[],
        detected_at=datetime.now(UTC) + timedelta(seconds=revision + later_seconds),
    )


async def test_feed_reads_the_recent_past_then_follows(settings: Settings) -> None:
    """Alerts published by any worker, before and after this one started."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    feed = AlertFeed(settings, recent := RecentAlerts(), backfill=2)
    try:

        async def send(alert: Alert, partition: int) -> None:
            value = alert.model_dump_json().encode()
            await producer.send_and_wait(settings.topic_anomalies, value, partition=partition)

        # partition 0: more than the backfill; partition 1: an older revision after a newer
        for alert in (_alert("A", 0), _alert("B", 0), _alert("C", 0)):
            await send(alert, 0)
        await send(_alert("D", 1), 1)
        await send(_alert("D", 0), 1)
        feed.start()
        await _until(lambda: feed.following and len(recent) == 3)
        held = {a.entity_id: a.revision for a in recent.newest_first()}
        assert held == {"B": 0, "C": 0, "D": 1}  # A lies before the backfill

        # detected after D's revision 1 (which is stamped a second ahead)
        await send(_alert("E", 0, later_seconds=5), 2)
        await _until(lambda: len(recent) == 4)
        assert recent.newest_first()[0].entity_id == "E"
    finally:
        await feed.stop()
        await producer.stop()
    assert not feed.following


async def _until(condition: object, timeout: float = 20.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)
