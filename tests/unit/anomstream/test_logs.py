"""Log lines: a crash logged as JSON keeps its traceback, scrubbed of secrets like the rest."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from harness.settings import make_settings

from anomstream.logs import configure_logging

SECRET = "redis-s3cret-in-a-traceback"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def _json_logging() -> None:
    # in the test: the handler writes to the sys.stderr of this moment (capsys')
    configure_logging(make_settings(log_format="json", redis_password=SECRET))


def _crash(message: str) -> None:
    raise RuntimeError(message)


def test_a_library_crash_keeps_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    _json_logging()
    try:
        _crash(f"server:NoScriptError while using {SECRET}")
    except RuntimeError:  # what faust does with an agent's exception
        logging.getLogger("faust.transport.consumer").error("Crashed", exc_info=True)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "Crashed"
    assert "Traceback (most recent call last)" in line["exception"]
    assert "in _crash" in line["exception"]
    assert "RuntimeError: server:NoScriptError" in line["exception"]
    assert SECRET not in json.dumps(line)


def test_our_own_exceptions_keep_their_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    _json_logging()
    try:
        _crash("boom")
    except RuntimeError:
        structlog.get_logger("stream.app").exception("batch failed", what="meter batch")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["what"] == "meter batch"
    assert "RuntimeError: boom" in line["exception"]
