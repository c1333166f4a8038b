"""Rows that could not become valid messages: counted per reason, never dropped silently.

A year of readings may hold thousands of bad rows with a handful of causes,
so the tally keeps a count per reason and only the first few positions of
each (enough to find them in the file), in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["ReasonCount", "Rejections"]


@dataclass(slots=True)
class ReasonCount:
    """How often one reason occurred, and where first."""

    reason: str
    count: int = 0
    first_rows: list[int] = field(default_factory=list)


class Rejections:
    """The tally of rejected rows, by reason (e.g. ``kwh: must be >= 0``)."""

    def __init__(self, *, keep_rows: int = 5) -> None:
        self._keep = keep_rows
        self._by_reason: dict[str, ReasonCount] = {}
        self.total = 0

    def add(self, reason: str, row: int | None) -> None:
        """Count one rejected row; ``row`` is its position in the file (None if unknown)."""
        entry = self._by_reason.get(reason)
        if entry is None:
            entry = self._by_reason[reason] = ReasonCount(reason)
        entry.count += 1
        if row is not None and len(entry.first_rows) < self._keep:
            entry.first_rows.append(row)
        self.total += 1

    def add_many(self, reason: str, rows: Iterable[int]) -> None:
        """Count several rows with the same reason."""
        for row in rows:
            self.add(reason, row)

    def top(self, limit: int | None = None) -> list[ReasonCount]:
        """Reasons, most frequent first (ties: the earliest in the file first)."""
        ranked = sorted(
            self._by_reason.values(),
            key=lambda entry: (-entry.count, entry.first_rows[0] if entry.first_rows else 0),
        )
        return ranked[:limit]

    def __len__(self) -> int:
        return len(self._by_reason)
