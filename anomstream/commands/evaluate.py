"""``anomstream evaluate``: detection quality on injected anomalies, baselines in the same run.

Writes the report as JSON (``--json``) and as the tables of a Markdown page
(``--markdown``, docs/QUALITY.md in the repo; its hand-written part above
the generated marker is kept). Offline: no broker, no Redis; the scoring
core is the worker's own (:mod:`evaluation`).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["evaluate"]


def evaluate(
    *,
    kind: Annotated[
        list[str] | None, typer.Option(help="meter and/or ticket (repeatable); default both.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(file_okay=False, help="The london_smart_meters folder.")
    ] = None,
    households: Annotated[
        int | None, typer.Option(min=2, help="Only the first N London households.")
    ] = None,
    shows: Annotated[int, typer.Option(min=2, help="Generated ticket shows.")] = 40,
    split_day: Annotated[str, typer.Option(help="First test day (ISO).")] = "2013-09-01",
    by_household: Annotated[
        bool, typer.Option(help="Test on entities no detector was trained on.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of injections, generator and models.")] = 7,
    rate: Annotated[float, typer.Option(min=0.001, max=0.2, help="Injected share.")] = 0.03,
    max_epochs: Annotated[int, typer.Option(min=1, help="Training epochs at most.")] = 300,
    device: Annotated[str, typer.Option(help="cpu, cuda or auto.")] = "cpu",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the report as JSON here.")
    ] = Path("out/evaluation.json"),
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="Rewrite this page's tables.")
    ] = None,
) -> None:
    """Inject documented anomalies into real (meter) and generated (ticket) days; score
    them with the model and the baselines; report precision, recall, F1, false alarms."""
    import torch

    from evaluation.data import default_london_dir
    from evaluation.run import EvaluationConfig, run_evaluation, write_report

    torch.set_num_threads(1)  # tiny model: threads cost more than they give (docs/MODEL.md)
    cfg = EvaluationConfig(
        data_dir=data or default_london_dir(),
        kinds=tuple(kind or ("meter", "ticket")),
        households=households,
        shows=shows,
        split_day=date.fromisoformat(split_day),
        by_household=by_household,
        seed=seed,
        rate=rate,
        max_epochs=max_epochs,
        device=device,
    )
    started = time.monotonic()

    def say(message: str) -> None:
        typer.echo(f"[{time.monotonic() - started:6.1f} s] {message}", err=True)

    results, seconds = run_evaluation(cfg, say)
    command = "anomstream evaluate " + " ".join(sys.argv[2:])
    document = write_report(
        results, seconds, cfg, command.strip(), json_path=json_out, markdown_path=markdown_out
    )
    for kind_name, judged in document["verdicts"].items():
        for anomaly, verdict in judged.items():
            mark = "beats" if verdict["model_beats_every_baseline"] else "does NOT beat"
            typer.echo(
                f"{kind_name} {anomaly}: model F1 {verdict['model_f1']:.2f} {mark} "
                f"{verdict['best_baseline']} {verdict['best_baseline_f1']:.2f}"
            )
    typer.echo(f"evaluated in {seconds:.0f} s; report: {json_out or '-'} {markdown_out or ''}")
