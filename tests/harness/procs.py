"""Reading the process table from /proc (Linux), to prove that no child outlives us."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

SERVER_NAMES = ("tansu", "redis-server", "valkey-server")


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    state: str
    cmdline: str


def proc_info(pid: int) -> ProcInfo | None:
    """The process as the kernel sees it; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    state, ppid = stat.rpartition(")")[2].split()[:2]
    return ProcInfo(pid, int(ppid), state, raw.replace(b"\0", b" ").decode(errors="replace"))


def is_alive(pid: int) -> bool:
    """Running or sleeping; a zombie (dead, waiting to be reaped by init) counts as gone."""
    info = proc_info(pid)
    return info is not None and info.state not in {"Z", "X"}


def live_server_children(parent: int) -> set[int]:
    """Pids of live tansu / redis-server / valkey-server processes whose parent is ``parent``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        info = proc_info(int(entry.name))
        if (
            info is not None
            and info.ppid == parent
            and info.state not in {"Z", "X"}
            and any(name in info.cmdline for name in SERVER_NAMES)
        ):
            found.add(info.pid)
    return found


def wait_until_gone(pids: set[int], timeout: float) -> set[int]:
    """Wait up to ``timeout`` seconds; return the pids still alive then."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {pid for pid in pids if is_alive(pid)}
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)
