"""A child process that cannot outlive us.

Three layers keep the process table clean:

1. On Linux the child asks the kernel (``prctl(PR_SET_PDEATHSIG)``) for a
   signal when its parent dies, so even ``kill -9`` of the Python process takes
   the broker and Redis with it. The kernel ties that signal to the *thread*
   that forked, not the process, so children are always forked from the main
   thread or from a daemon thread that lives until the process ends (never
   from a short-lived worker thread, whose exit would kill them).
2. :meth:`ManagedProcess.stop` sends SIGTERM, waits, then SIGKILLs.
3. A :func:`weakref.finalize` stops a child whose owner forgot to, at garbage
   collection or interpreter exit.

Each child runs in its own process group, so a Ctrl-C in the terminal reaches
only the Python parent, which then stops the children in order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from anomstream.embedded.exceptions import ServiceStartError

__all__ = ["ManagedProcess"]

_PR_SET_PDEATHSIG = 1
_IS_LINUX = sys.platform.startswith("linux")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # tansu colours its log lines


def _death_signal_preexec(sig: signal.Signals) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel signal the child when we die (Linux only)."""
    if not _IS_LINUX:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: no imports in the child
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # We may have died between fork and prctl: then no signal would ever come.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


class _Spawner:
    """A daemon thread that forks children on behalf of non-main threads.

    It lives until the process exits, so PDEATHSIG fires exactly then.
    """

    _lock = threading.Lock()
    _instance: _Spawner | None = None

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[
            tuple[Sequence[str], dict[str, Any], Future[subprocess.Popen[bytes]]]
        ] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="anomstream-spawner", daemon=True).start()

    @classmethod
    def get(cls) -> _Spawner:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _run(self) -> None:
        while True:
            argv, kwargs, future = self._jobs.get()
            try:
                future.set_result(subprocess.Popen(argv, **kwargs))  # noqa: S603 - argv is ours
            except BaseException as exc:  # handed back to the caller's thread
                future.set_exception(exc)

    def popen(self, argv: Sequence[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((argv, kwargs, future))
        return future.result()


def _popen(argv: Sequence[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(argv, **kwargs)  # noqa: S603 - argv is ours
    return _Spawner.get().popen(argv, kwargs)


def _terminate(popen: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM, wait up to ``timeout``, then SIGKILL; always reaps. Returns the exit code."""
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            popen.send_signal(signal.SIGTERM)
        try:
            return popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                popen.kill()
    return popen.wait()


class ManagedProcess:
    """One child process with its output appended to a log file; restartable, killable."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_timeout: float = 10.0,
        death_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.death_signal = death_signal
        self._popen: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # --- state ----------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    # --- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            self._popen = _popen(
                self.argv,
                {
                    "stdin": subprocess.DEVNULL,
                    "stdout": log,
                    "stderr": subprocess.STDOUT,
                    "env": self.env,
                    "cwd": self.cwd,
                    "close_fds": True,
                    "process_group": 0,
                    "preexec_fn": _death_signal_preexec(self.death_signal),
                },
            )
        if self._finalizer is not None:
            self._finalizer.detach()  # the previous child, if any, is gone
        self._finalizer = weakref.finalize(self, _terminate, self._popen, self.stop_timeout)

    def stop(self, timeout: float | None = None) -> int | None:
        """Stop gracefully (SIGTERM), SIGKILL after ``timeout``; None if never started."""
        if self._popen is None:
            return None
        if self._finalizer is not None:
            self._finalizer.detach()
        return _terminate(self._popen, self.stop_timeout if timeout is None else timeout)

    def kill(self) -> int | None:
        """SIGKILL now (a crash, for fault tests) and reap."""
        if self._popen is None:
            return None
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.kill()
        return self._popen.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- readiness and diagnostics ----------------------------------------------
    def wait_ready(self, probe: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll ``probe`` until it returns True; fail early if the child exits."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            if self.returncode is not None:
                raise ServiceStartError(
                    f"{self.name} exited with code {self.returncode} before {what}; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            if probe():
                return
            if time.monotonic() >= deadline:
                raise ServiceStartError(
                    f"{self.name} (pid {self.pid}) did not {what} within {timeout:g} s; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log written)"
        return "\n".join(_ANSI_ESCAPE.sub("", text).splitlines()[-lines:])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited({self.returncode})"
        return f"<ManagedProcess {self.name} pid={self.pid} {state}>"
