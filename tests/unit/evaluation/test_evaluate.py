"""A small evaluation end to end: the real model, every baseline, both kinds."""

from __future__ import annotations

import json
from pathlib import Path

from harness.london import london_dir

from evaluation.run import EvaluationConfig, run_evaluation, write_report


def test_a_small_evaluation_reports_every_detector_and_type(tmp_path: Path) -> None:
    cfg = EvaluationConfig(data_dir=london_dir(), households=4, shows=3, max_epochs=3)
    results, seconds = run_evaluation(cfg)
    page = tmp_path / "QUALITY.md"
    page.write_text("# Quality\n\nhand-written analysis\n", "utf-8")
    document = write_report(
        results,
        seconds,
        cfg,
        "anomstream evaluate",
        json_path=tmp_path / "q.json",
        markdown_path=page,
    )
    assert json.loads((tmp_path / "q.json").read_text()) == json.loads(json.dumps(document))
    detectors = {"model", "daily_total_z", "isolation_forest", "case_study_ae", "profile_mad"}
    for kind, types in (("meter", 7), ("ticket", 3)):
        report = document["kinds"][kind]
        assert set(report["detectors"]) == detectors
        assert len(report["scenarios"]) == 3 * types
        assert all(s["positives"] > 0 for s in report["scenarios"])
        assert set(document["verdicts"][kind]) == {s["anomaly"] for s in report["scenarios"]}
    meter = document["kinds"]["meter"]
    dead = [s for s in meter["scenarios"] if s["anomaly"] == "dead_meter" and s["level"] == "high"]
    assert dead[0]["results"]["model"]["recall"] >= 0.5  # whole days of zeros or flat lines
    text = page.read_text()
    assert text.startswith("# Quality\n\nhand-written analysis")
    assert "| dead_meter |" in text and "model beats every baseline" in text
