"""Alerts for people: entity, day, severity, score vs threshold, the half hours
that explain it, and a small chart of actual vs expected over the day."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

__all__ = ["render_alert", "sparkline"]

_BARS = "▁▂▃▄▅▆▇█"
_SEVERITY_STYLE = {"low": "yellow", "medium": "dark_orange", "high": "red", "critical": "bold red"}


def sparkline(values: Sequence[float | None], top: float) -> str:
    """One character per half hour, scaled to ``top``; a gap for a missing value."""
    out = []
    for value in values:
        if value is None or math.isnan(value):
            out.append(" ")
            continue
        level = 0 if top <= 0 else min(int(value / top * (len(_BARS) - 1) + 0.5), len(_BARS) - 1)
        out.append(_BARS[max(level, 0)])
    return "".join(out)


def render_alert(alert: dict[str, Any]) -> Panel:
    actual = alert["actual"]
    expected = alert["expected"]
    top = max([v for v in [*actual, *expected] if v is not None] or [1.0])
    marked = {s["index"] for s in alert["slots"]}
    marks = "".join("^" if i in marked else " " for i in range(len(actual)))
    unit = "kWh" if alert["kind"] == "meter" else "amount"
    lines = [
        Text.assemble(
            ("actual   ", "bold"), (sparkline(actual, top), "cyan"), f"  max {top:.2f} {unit}"
        ),
        Text.assemble(("expected ", "bold"), (sparkline(expected, top), "green")),
        Text("         " + marks, style="red"),
        Text("         00:00       06:00       12:00       18:00     23:30", style="dim"),
    ]
    for slot in alert["slots"][:4]:
        start = slot["start"][11:16]
        shown = "missing" if slot["actual"] is None else f"{slot['actual']:.2f}"
        lines.append(
            Text(
                f"  {start}  actual {shown:>7}  expected {slot['expected']:.2f}"
                f"  share {slot['contribution'] / max(alert['score'], 1e-12):.0%}"
            )
        )
    revision = f" rev {alert['revision']}" if alert["revision"] else ""
    retracted = " RETRACTED" if alert.get("retracted") else ""
    title = (
        f"[{_SEVERITY_STYLE.get(alert['severity'], 'red')}]{alert['severity'].upper()}[/] "
        f"{alert['kind']} {alert['entity_id']} {alert['day']}{revision}{retracted}"
    )
    subtitle = (
        f"score {alert['score']:.2f} / threshold {alert['threshold']:.2f} · "
        f"{alert['detector']} {alert['model_version']}"
    )
    return Panel(Group(*lines), title=title, subtitle=subtitle, expand=False)
