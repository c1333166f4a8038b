"""Rejections remembered by payload: a flood of bad input repeats itself.

A broken producer or an attacker sends the same bad bytes again and again.
Deciding and wording each rejection through pydantic costs 3-10 µs (and
the fast path tried first up to 10 µs more), where looking the bytes up
costs a hash. What a payload's rejection says is a function of its bytes
alone, with one exception: "more than 2 days in the future", whose bound
moves on with the clock, so a payload rejected for it may pass later (and
one that fails an earlier field keeps failing it: fields are checked in
order, and every other rule stands still). Those are not remembered.

Exceptions kept here carry no traceback, cause or context: a traceback
holds the raising frames, which hold the batch, which holds the exception
(a cycle per rejected record, left to the collector, which then ran every
few hundred records of a flood).
"""

from __future__ import annotations

from typing import Final

from schemas import InvalidMessage

__all__ = ["Rejections", "bare"]

_MOVING_RULES: Final = frozenset({"far_future"})


def bare(error: InvalidMessage) -> InvalidMessage:
    """``error`` without the references that make cycles (see the module doc)."""
    error.__traceback__ = error.__cause__ = error.__context__ = None
    return error


class Rejections:
    """Payload bytes -> the rejection they always get; at most ``max_bytes`` of payloads."""

    def __init__(self, max_bytes: int = 8 << 20, max_entries: int = 20_000) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._known: dict[bytes, InvalidMessage] = {}
        self._bytes = 0

    def get(self, payload: bytes | None) -> InvalidMessage | None:
        return self._known.get(payload) if payload is not None else None

    def remember(self, payload: bytes | None, error: InvalidMessage) -> InvalidMessage:
        """Keep ``error`` (made :func:`bare`) for ``payload`` unless its rule moves."""
        bare(error)
        if payload is None or error.rule in _MOVING_RULES or len(payload) > self.max_bytes:
            return error
        if self._bytes + len(payload) > self.max_bytes or len(self._known) >= self.max_entries:
            self._known.clear()  # a new flood: start over (cheaper than an LRU per lookup)
            self._bytes = 0
        self._known[payload] = error
        self._bytes += len(payload)
        return error
