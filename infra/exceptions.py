"""Errors of the connection layer.

Tree::

    InfraError
    ├── InfraConfigError   settings that cannot make a working client (e.g. TLS files with redis://)
    └── TopicSetupError    a topic could not be created or did not show up in metadata in time
"""

from __future__ import annotations

__all__ = ["InfraConfigError", "InfraError", "TopicSetupError"]


class InfraError(Exception):
    """Root of every error raised by :mod:`infra`."""


class InfraConfigError(InfraError, ValueError):
    """The settings describe a connection that cannot work."""


class TopicSetupError(InfraError):
    """Creating topics failed, or they did not appear in the metadata in time."""
