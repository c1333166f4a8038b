"""bench/decode.py still runs and writes its JSON (a few messages, one run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_decode_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "decode.json"
    command = [
        sys.executable,
        "-m",
        "bench.decode",
        "--number",
        "40",
        "--repeat",
        "1",
        "--out",
        str(out),
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    paths = {(row["kind"], row["path"]) for row in report["results"]}
    assert ("meter", "schemas.decode") in paths
    assert ("ticket", "model_validate_json") in paths
    assert all(row["us_per_message"] > 0 for row in report["results"])
