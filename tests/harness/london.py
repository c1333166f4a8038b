"""Where the real London smart-meter files are, for the tests that use them.

``shared/`` lies beside the repository (``../shared/data``), also in CI;
``ANOMSTREAM_TEST_LONDON_DATA`` points elsewhere. Without the files those
tests skip with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]


def london_dir() -> Path:
    candidates = [
        os.environ.get("ANOMSTREAM_TEST_LONDON_DATA", ""),
        str(_REPO.parent / "shared" / "data" / "london_smart_meters"),
        str(_REPO / "shared" / "data" / "london_smart_meters"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "readings_2013.csv.gz").exists():
            return Path(candidate)
    pytest.skip("London smart-meter data not found (../shared/data or ANOMSTREAM_TEST_LONDON_DATA)")
