"""Errors of the embedded services.

Tree::

    EmbeddedServiceError
    ├── BinaryNotFoundError   no broker / redis-server executable could be located
    ├── PortInUseError        the requested port is already taken (by another server)
    └── ServiceStartError     the child exited early or never answered in time
"""

from __future__ import annotations

__all__ = ["BinaryNotFoundError", "EmbeddedServiceError", "PortInUseError", "ServiceStartError"]


class EmbeddedServiceError(Exception):
    """Root of every error raised by :mod:`anomstream.embedded`."""


class BinaryNotFoundError(EmbeddedServiceError):
    """No executable for a service could be located."""


class PortInUseError(EmbeddedServiceError):
    """The requested port is already bound by some other process."""

    def __init__(self, service: str, host: str, port: int) -> None:
        self.service = service
        self.host = host
        self.port = port
        super().__init__(f"{service}: port {host}:{port} is already in use")


class ServiceStartError(EmbeddedServiceError):
    """A child process exited early or did not answer before the deadline."""
