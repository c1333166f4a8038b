"""Local TCP ports: find a free one, or tell whether a given one is taken."""

from __future__ import annotations

import errno
import socket

__all__ = ["free_port", "port_is_free"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now.

    Another process may grab it before our child binds it; callers that chose
    the port this way retry with a fresh one when the child fails to start.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now.

    Binding (not connecting) is the honest test: it also catches a server bound
    to ``0.0.0.0`` that would refuse our bind on ``127.0.0.1``. With
    ``SO_REUSEADDR``, as the servers themselves bind: connections in TIME_WAIT
    (left by a server we just killed) do not count, a listener does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in {errno.EADDRINUSE, errno.EACCES}:
                return False
            raise
    return True
