"""Input timestamps: RFC 3339 with offset, plausible, and for meters a half-hour start.

The costliest field of a reading to check, so the checks run in
pydantic-core (Rust) as a chain of small steps, each with its own error;
only the "not too far in the future" step, whose bound moves, is Python.
pydantic's own datetime parsing is laxer than RFC 3339 (it takes unix
numbers, "1700000000", "+0200", no seconds), hence the patterns in front.
Measured (bench/decode.py): about 1 us per timestamp this way, against about
2.5 us with a regex, fromisoformat and range checks in Python validators,
most of which went into comparing datetimes whose tzinfo is pydantic's
(slow to call from Python).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from pydantic import WithJsonSchema
from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

__all__ = ["EARLIEST_INSTANT", "FUTURE_TOLERANCE", "HalfHourStart", "Timestamp", "check_datetime"]

# Input timestamps outside [EARLIEST_INSTANT, now + FUTURE_TOLERANCE] are
# rejected: they come from broken clocks or unit mix-ups (ms taken for s) and
# would open windows that never close.
EARLIEST_INSTANT: Final = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE: Final = timedelta(days=2)

# [0-9], not \d: in Python patterns \d also matches other scripts' digits.
_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
_OFFSET = r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
_MAYBE_NAIVE_PATTERN: Final = rf"^{_DATE_TIME}{_OFFSET}?$"
_RFC3339_PATTERN: Final = rf"^{_DATE_TIME}{_OFFSET}$"
# :00 or :30 with zero seconds (any zero fraction) as written, and an offset
# that is a whole number of half hours, so the slot starts on :00/:30 in UTC
# too (+05:45 would put a local :00 at :15 UTC, where no slot starts).
_HALF_HOUR_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[03]0:00(?:\.0{1,9})?(?:[Zz]|[+-][0-9]{2}:[03]0)$"
)

_RFC3339_RULE: Final = "must be an RFC 3339 timestamp with offset, e.g. 2013-03-01T00:30:00Z"
_NAIVE_RULE: Final = "must have a UTC offset (Z or +HH:MM); naive times are ambiguous"
_HALF_HOUR_RULE: Final = "must be the start of a half hour (:00 or :30 exactly, also in UTC)"
_ANCIENT_RULE: Final = "must not be before 2000-01-01T00:00:00Z"
_FAR_FUTURE_RULE: Final = "must not be more than 2 days in the future"


class _Horizon:
    """The latest acceptable instant, ``now + FUTURE_TOLERANCE``.

    Recomputed at most once a second: a bound a second stale is immaterial
    against two days, and building "now" per message is not free. It also
    keeps ``safe_day``, the last local calendar day (as "YYYY-MM-DD") that is
    before the limit whatever the UTC offset (offsets are under 24 h), so
    almost every timestamp is judged by comparing ten characters.
    """

    __slots__ = ("limit", "next_refresh", "safe_day")

    def __init__(self) -> None:
        self.next_refresh = 0.0
        self.limit = EARLIEST_INSTANT
        self.safe_day = ""

    def refresh(self, now: float) -> None:
        self.limit = datetime.fromtimestamp(now, UTC) + FUTURE_TOLERANCE
        self.safe_day = (self.limit.date() - timedelta(days=2)).isoformat()
        self.next_refresh = now + 1.0


_horizon: Final = _Horizon()
# Local day D at any offset (-24 h, +24 h) starts at or after 2000-01-01Z when
# D >= 2000-01-02; ends before the limit when D <= limit's day - 2.
_FIRST_SAFE_DAY: Final = "2000-01-02"


def _check_range(instant: datetime) -> None:
    if instant < EARLIEST_INSTANT:
        raise PydanticCustomError("ancient", _ANCIENT_RULE)
    now = time.time()
    if now >= _horizon.next_refresh:
        _horizon.refresh(now)
    if instant > _horizon.limit:
        raise PydanticCustomError("far_future", _FAR_FUTURE_RULE)


def _plausible_text(text: str) -> str:
    """Ancient / far-future check on RFC 3339 text, before it is parsed.

    Working on the text avoids touching the parsed value's tzinfo from Python,
    which costs more than the rest of the validation of a reading.
    """
    now = time.time()
    if now >= _horizon.next_refresh:
        _horizon.refresh(now)
    day = text[:10]
    if _FIRST_SAFE_DAY <= day <= _horizon.safe_day:
        return text
    try:  # near a bound: decide exactly
        instant = datetime.fromisoformat(text.upper())
    except ValueError:
        return text  # not a real date; the parsing step reports it
    _check_range(instant)
    return text


def _step(schema: cs.CoreSchema, error_type: str, message: str) -> cs.CoreSchema:
    return cs.custom_error_schema(
        schema, custom_error_type=error_type, custom_error_message=message
    )


def _text_chain(*, half_hour: bool) -> cs.CoreSchema:
    """RFC 3339 text -> aware datetime, one error type per broken rule."""
    steps = [
        _step(cs.str_schema(strict=True, pattern=_MAYBE_NAIVE_PATTERN), "rfc3339", _RFC3339_RULE),
        _step(cs.str_schema(pattern=_RFC3339_PATTERN), "offset_required", _NAIVE_RULE),
    ]
    if half_hour:
        steps.append(_step(cs.str_schema(pattern=_HALF_HOUR_PATTERN), "half_hour", _HALF_HOUR_RULE))
    steps += [
        cs.no_info_plain_validator_function(_plausible_text),
        _step(cs.datetime_schema(), "rfc3339", _RFC3339_RULE),  # e.g. 2013-02-30, 24:00:00
    ]
    return cs.chain_schema(steps)


def check_datetime(value: datetime, *, half_hour: bool) -> datetime:
    """The same rules for a datetime object built in Python (no text to match)."""
    offset = value.utcoffset()
    if offset is None:
        raise PydanticCustomError("offset_required", _NAIVE_RULE)
    # timedelta.seconds lies in [0, 86400), a multiple of 1800, so negative
    # offsets pass this test exactly when they are whole half hours.
    if half_hour and (
        value.minute % 30 or value.second or value.microsecond or offset.seconds % 1800
    ):
        raise PydanticCustomError("half_hour", _HALF_HOUR_RULE)
    _check_range(value)
    return value


@dataclass(frozen=True)
class _InputInstant:
    """Annotation marker: the core schema of an input timestamp.

    JSON input is always text and takes the Rust chain directly. Python input
    (``model_validate`` of a dict, or a constructor call) may be text or a
    datetime; text is sent through the very same chain, so each rule exists
    once for text.
    """

    half_hour: bool

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> cs.CoreSchema:
        text = _text_chain(half_hour=self.half_hour)
        text_validator = SchemaValidator(text)
        half_hour = self.half_hour

        def from_python(value: Any) -> datetime:
            if isinstance(value, datetime):
                return check_datetime(value, half_hour=half_hour)
            try:
                result: datetime = text_validator.validate_python(value)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise PydanticCustomError(first["type"], first["msg"]) from None
            return result

        return cs.json_or_python_schema(
            json_schema=text,
            python_schema=cs.no_info_plain_validator_function(from_python),
        )


# A plain-function schema has no JSON Schema of its own; the patterns carry
# the text rules to producers that validate before sending.
Timestamp = Annotated[
    datetime,
    _InputInstant(half_hour=False),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _RFC3339_PATTERN}),
]
"""An input instant: RFC 3339 with offset, from 2000-01-01 to two days ahead of now."""

HalfHourStart = Annotated[
    datetime,
    _InputInstant(half_hour=True),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _HALF_HOUR_PATTERN}),
]
"""A meter slot start: a :data:`Timestamp` that is also on :00 or :30, in UTC too."""
