"""Public holidays, a model condition: a holiday looks like a Sunday, not like a Tuesday.

A :class:`HolidayCalendar` is read from a CSV file with a header row, the
date in the first column as ISO ``YYYY-MM-DD`` and an optional name in the
second (the layout of the London data set's ``uk_bank_holidays.csv``).
Dates are read strictly: an unreadable one is an error, never a guess.

The shipped ``core/data/uk_bank_holidays.csv`` holds the bank holidays of
England and Wales, 2012–2014 (the years of the bundled data). It is a
*corrected* copy of the data set's file, in which every date whose day was
12 or less had day and month swapped (``2013-01-04,Easter Monday`` for
1 April) and apostrophes were lost; each corrected date was checked
against its weekday (Easter Monday is a Monday, Good Friday a Friday, ...),
and a test keeps it so. Deployments outside those years or countries pass
their own file (``load_calendar(path)``); a day the calendar does not cover
is simply not a holiday, which :meth:`HolidayCalendar.covers` makes visible.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from core.exceptions import CalendarError

__all__ = ["DEFAULT_CALENDAR_FILE", "HolidayCalendar", "default_calendar", "load_calendar"]

DEFAULT_CALENDAR_FILE = "uk_bank_holidays.csv"


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """A set of holiday dates with their names; immutable and cheap to share."""

    holidays: Mapping[date, str] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "empty"

    def __post_init__(self) -> None:
        # A read-only view, so a shared calendar cannot be changed under a scorer.
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays

    def name(self, day: date) -> str | None:
        return self.holidays.get(day)

    def covers(self, day: date) -> bool:
        """Whether ``day``'s year is within the years the file lists at all."""
        return any(holiday.year == day.year for holiday in self.holidays)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[date, str]], source: str = "rows") -> HolidayCalendar:
        return cls(dict(rows), source)

    @classmethod
    def from_csv_text(cls, text: str, source: str = "text") -> HolidayCalendar:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise CalendarError(f"{source}: empty holiday file (a header row is expected)")
        rows: dict[date, str] = {}
        for line_no, row in enumerate(reader, start=2):
            if not row or not row[0].strip():
                continue
            try:
                day = date.fromisoformat(row[0].strip())
            except ValueError as exc:
                raise CalendarError(
                    f"{source}:{line_no}: {row[0]!r} is not an ISO date (YYYY-MM-DD)"
                ) from exc
            rows[day] = row[1].strip() if len(row) > 1 else "holiday"
        return cls(rows, source)


def load_calendar(path: Path | str | None = None) -> HolidayCalendar:
    """The calendar in ``path``; the shipped UK bank holidays when ``None``."""
    if path is None:
        return default_calendar()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(f"cannot read holiday file {path}: {exc}") from exc
    return HolidayCalendar.from_csv_text(text, source=str(path))


@lru_cache(maxsize=1)  # immutable, so one shared copy is safe
def default_calendar() -> HolidayCalendar:
    """The shipped bank holidays of England and Wales, 2012–2014."""
    text = resources.files("core.data").joinpath(DEFAULT_CALENDAR_FILE).read_text("utf-8")
    return HolidayCalendar.from_csv_text(text, source=DEFAULT_CALENDAR_FILE)
