"""Errors of :mod:`anomstream.replay`.

Tree::

    ReplayError             root: everything this package raises on purpose
    ├── BadArguments        the command line does not fit the file (exit 2):
    │                       an unknown column, a bad ``--map``, an unreadable file
    └── ProduceFailed       the broker refused or could not be reached (exit 3)

A row that fails the contract is none of these: it is *rejected* (counted,
with its reason, in :class:`~anomstream.replay.rejections.Rejections`) and the
replay goes on.
"""

from __future__ import annotations

__all__ = ["BadArguments", "ProduceFailed", "ReplayError"]


class ReplayError(Exception):
    """Root of the errors raised by :mod:`anomstream.replay`."""


class BadArguments(ReplayError):
    """The arguments do not fit the file; nothing (more) is sent."""


class ProduceFailed(ReplayError):
    """Kafka did not take the messages (unreachable, refused, timed out)."""
