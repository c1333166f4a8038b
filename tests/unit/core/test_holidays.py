from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.exceptions import CalendarError
from core.holidays import HolidayCalendar, default_calendar, load_calendar

# The weekday each kind of English bank holiday falls on (0 = Monday).
_WEEKDAY = {
    "Good Friday": {4},
    "Easter Monday": {0},
    "Early May bank holiday": {0},
    "Spring bank holiday": {0},
    "Summer bank holiday": {0},
}


def test_shipped_calendar_has_the_corrected_dates() -> None:
    calendar = default_calendar()
    assert calendar.name(date(2013, 4, 1)) == "Easter Monday"  # the source said 2013-01-04
    assert calendar.name(date(2013, 5, 6)) == "Early May bank holiday"  # it said 2013-06-05
    assert calendar.is_holiday(date(2013, 12, 25))
    assert not calendar.is_holiday(date(2013, 1, 4))
    assert not calendar.is_holiday(date(2013, 6, 5))
    assert calendar.name(date(2013, 1, 1)) == "New Year's Day"


def test_every_shipped_holiday_falls_on_its_weekday() -> None:
    calendar = default_calendar()
    per_year: dict[int, int] = {}
    for day, name in calendar.holidays.items():
        per_year[day.year] = per_year.get(day.year, 0) + 1
        expected = _WEEKDAY.get(name)
        if expected is not None:
            assert day.weekday() in expected, f"{day} {name}"
        if "substitute" in name:
            assert day.weekday() in {0, 1}, f"{day} {name}"
    assert per_year == {2012: 9, 2013: 8, 2014: 8}


def test_load_calendar_reads_a_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "holidays.csv"
    path.write_text("date,name\n2026-12-25,Christmas\n\n2026-12-26\n", encoding="utf-8")
    calendar = load_calendar(path)
    assert calendar.name(date(2026, 12, 25)) == "Christmas"
    assert calendar.is_holiday(date(2026, 12, 26))
    assert calendar.covers(date(2026, 7, 1))
    assert not calendar.covers(date(2013, 7, 1))
    assert load_calendar(None) is default_calendar()


@pytest.mark.parametrize("text", ["date,name\n25/12/2026,Christmas\n", "", "date\n2026-13-01\n"])
def test_malformed_files_are_refused(text: str) -> None:
    with pytest.raises(CalendarError):
        HolidayCalendar.from_csv_text(text)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read"):
        load_calendar(tmp_path / "nope.csv")


def test_calendar_is_read_only() -> None:
    calendar = HolidayCalendar.from_rows([(date(2026, 1, 1), "New Year")])
    with pytest.raises(TypeError):
        calendar.holidays[date(2026, 1, 2)] = "x"  # type: ignore[index]
