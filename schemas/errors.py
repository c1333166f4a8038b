"""Exceptions raised by :mod:`schemas`, and pydantic's errors turned into ours.

Exception tree::

    SchemaError             root: everything this package raises on purpose
    └── InvalidMessage      an input to reject (it goes to dead-letters):
                            .type, .message, .field, .rule

``InvalidMessage`` is the "reject this input" path, distinct from a failure of
the worker: the caller dead-letters the message and goes on. Its ``message``
reads "<field>: <rule>", e.g. ``kwh: must be >= 0``; the field path joins
pydantic's location with dots (``readings.3.kwh``). pydantic's
``ValidationError`` is translated here, at the one boundary where it is met,
so nothing above this package depends on pydantic's error format.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas._common import PATTERN_RULES

__all__ = ["ErrorType", "InvalidMessage", "SchemaError", "describe_error"]

ErrorType = Literal["decode", "validation", "too_large"]
"""``decode``: not UTF-8, not JSON, or not a JSON object; ``validation``: a
field breaks a rule; ``too_large``: the payload exceeds the size limit."""


class SchemaError(Exception):
    """Root of the exceptions raised by :mod:`schemas`."""


class InvalidMessage(SchemaError):
    """An input message that must be rejected (sent to ``dead-letters``).

    ``field`` is the dotted path of the offending field, or ``None`` when the
    message as a whole is bad (not JSON, too large). ``rule`` is the machine
    name of the broken rule (pydantic's error type, or ours such as
    ``half_hour``), for metrics and tests; ``message`` is for people.
    """

    type: ErrorType
    message: str
    field: str | None
    rule: str | None

    def __init__(
        self,
        type: ErrorType,  # the contract calls it "type"; shadowing is local
        message: str,
        field: str | None = None,
        *,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.field = field
        self.rule = rule

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(type={self.type!r}, message={self.message!r}, "
            f"field={self.field!r}, rule={self.rule!r})"
        )

    @classmethod
    def from_validation_error(
        cls, exc: ValidationError, *, prefix: tuple[str | int, ...] = ()
    ) -> InvalidMessage:
        """The first of pydantic's errors, as an :class:`InvalidMessage`.

        ``prefix`` is prepended to the error location: a bulk message
        validates its readings separately and passes ``("readings", index)``.
        """
        error = exc.errors(include_url=False, include_context=True, include_input=False)[0]
        kind = error["type"]
        if kind == "json_invalid":
            detail = (error.get("ctx") or {}).get("error", "")
            return cls("decode", f"not valid JSON: {detail}".rstrip(": "), rule=kind)
        location = prefix + tuple(error["loc"])
        if not location and kind in _NOT_AN_OBJECT:
            return cls("decode", "must be a JSON object", rule=kind)
        field = ".".join(str(part) for part in location) or None
        rule = describe_error(error)
        message = f"{field}: {rule}" if field else rule
        return cls("validation", message, field, rule=kind)


_NOT_AN_OBJECT: Final = frozenset({"model_type", "model_attributes_type", "dict_type"})

# Rules that read the same whatever the field: pydantic error type -> text.
_FIXED_RULES: Final[dict[str, str]] = {
    "missing": "is required",
    "finite_number": "must be a finite number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
    "datetime_type": "must be an RFC 3339 timestamp with offset",
    "datetime_parsing": "must be an RFC 3339 timestamp with offset",
    "datetime_from_date_parsing": "must be an RFC 3339 timestamp with offset",
    "datetime_object_invalid": "must be an RFC 3339 timestamp with offset",
    "timezone_aware": "must have a UTC offset (Z or +HH:MM)",
    "frozen_instance": "cannot be changed",
}

# Rules with a bound: pydantic error type -> template over its context.
_BOUND_RULES: Final[dict[str, str]] = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "string_too_long": "must have at most {max_length} characters",
    "too_long": "must have at most {max_length} items",
    "literal_error": "must be {expected}",
}


def _plain(value: Any) -> str:
    """A bound as people write it: 0 not 0.0, 1000000 not 1e6."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def describe_error(error: ErrorDetails) -> str:
    """The rule an error breaks, in words: ``must be >= 0``, ``is required``."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    fixed = _FIXED_RULES.get(kind)
    if fixed is not None:
        return fixed
    template = _BOUND_RULES.get(kind)
    if template is not None:
        return template.format_map({key: _plain(value) for key, value in ctx.items()})
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must have at least {minimum} characters"
    if kind == "too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must have at least {minimum} items"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return PATTERN_RULES.get(pattern, f"must match {pattern}")
    # Our own rules (PydanticCustomError) already carry the text; for any
    # other pydantic error its message is the best there is.
    return error["msg"]
