"""Container healthcheck of the anomstream image; standard library only, so it
answers in milliseconds instead of paying for torch and Faust imports.

``anomstream-healthcheck worker``   GET /health on ``ANOMSTREAM_WEB_PORT``: healthy
                                    on 200 (runtime ready and Redis answering).
``anomstream-healthcheck trainer``  an ``anomstream trainer`` (or ``train``) process runs,
                                    the model directory is writable, and the first Kafka
                                    bootstrap server accepts a connection.
``anomstream-healthcheck kafka``    the first Kafka bootstrap server accepts a connection
                                    (producers such as ``anomstream replay``).

Exit 0 healthy, 1 unhealthy (the reason on stderr, which Docker keeps in
``docker inspect``). Secrets are never printed.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

_TIMEOUT_S = 4.0


def worker() -> str | None:
    port = int(os.environ.get("ANOMSTREAM_WEB_PORT", "6066"))
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            return None if response.status == 200 else f"/health answered {response.status}"
    except urllib.error.HTTPError as exc:  # 503: not ready yet, or Redis down
        return f"/health answered {exc.code}: {exc.read(500).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as exc:
        return f"/health unreachable on port {port}: {exc}"


def kafka() -> str | None:
    first = os.environ.get("ANOMSTREAM_KAFKA_BOOTSTRAP", "localhost:9092").split(",")[0].strip()
    host, _, port = first.rpartition(":")
    try:
        with socket.create_connection((host or "localhost", int(port)), timeout=_TIMEOUT_S):
            return None
    except (OSError, ValueError) as exc:
        return f"Kafka bootstrap {first} unreachable: {exc}"


def _trainer_running() -> bool:
    """A process of ``anomstream trainer`` (or ``train``) exists in this container.

    Scans /proc rather than reading PID 1: with ``init: true`` PID 1 is tini.
    """
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == me:
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # exited meanwhile, or not ours to read
            continue
        launched = any(arg.endswith(b"anomstream") for arg in args)
        if launched and {b"trainer", b"train"} & set(args):
            return True
    return False


def trainer() -> str | None:
    if not _trainer_running():
        return "no `anomstream trainer` process is running"
    model_dir = os.environ.get("ANOMSTREAM_MODEL_DIR", "models")
    if not os.access(model_dir, os.W_OK | os.X_OK):
        return f"model directory {model_dir} is not writable"
    return kafka()


CHECKS = {"worker": worker, "trainer": trainer, "kafka": kafka}


def main(argv: list[str]) -> int:
    name = argv[1] if len(argv) > 1 else "worker"
    check = CHECKS.get(name)
    if check is None:
        sys.stderr.write(f"unknown check {name!r}; one of {', '.join(CHECKS)}\n")
        return 2
    problem = check()
    if problem is not None:
        sys.stderr.write(f"unhealthy: {problem}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
