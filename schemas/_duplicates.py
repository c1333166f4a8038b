r"""Repeated keys in a JSON object: ``{"kwh": 1, "kwh": -1}``.

RFC 8259 leaves such objects' meaning open and every parser here keeps the
last value silently, so a consumer with another parser could read another
message than the one validated. They are rejected, in three steps, each
exact in the direction that matters (it never lets a repeat through):

1. **quotes** (one ``bytes.count``): every key and every string value of a
   JSON text is a token with two ``"``; the validated message says which
   known keys were given and which of their values were strings, so it
   gives the least number of ``"`` the text can have. Equal means there is
   no token beyond those: no repeat, no extra field, no escape.
2. **names** (when 1 fails: extra fields, escaped quotes): a known field's
   name can appear in the raw bytes only as ``"name"`` or with a ``\u``
   escape, so if no name occurs more often than the objects that hold it,
   and there is no backslash, no known key repeats.
3. **decide** (rare: a name also used as a value, e.g. a meter called
   "kwh", a nested extra object reusing a name, any escape): re-parse with
   :mod:`json`, whose ``object_pairs_hook`` sees each object's keys in order.

Repeats of unknown fields are left alone, like the fields themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

__all__ = ["first_repeated_key", "least_quotes", "quoted_names", "screen", "string_fields"]


def string_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields whose JSON value is a string whenever it is not null.

    Read from the JSON Schema, so it follows the models. Only sound for
    fields that accept nothing but a JSON string (strict), as inputs' are.
    """
    properties = model.model_json_schema()["properties"]

    def is_string(schema: dict[str, Any]) -> bool:
        options = schema.get("anyOf", [schema])
        types = {option.get("type") for option in options}
        return "string" in types and types <= {"string", "null"}

    return tuple(name for name, schema in properties.items() if is_string(schema))


def least_quotes(message: BaseModel, strings: tuple[str, ...]) -> int:
    """The fewest ``"`` a JSON text that validated as ``message`` can contain.

    Two per known key given, two per string value among them. Counting a
    token that may be absent (a default) would be unsound: it could hide a
    repeat's extra quotes, so only given fields count.
    """
    given = message.__pydantic_fields_set__  # model_fields_set, minus a property call
    count = 2 * len(given)
    for name in strings:
        if name in given and getattr(message, name) is not None:
            count += 2
    return count


def quoted_names(names: Iterable[str]) -> dict[str, bytes]:
    """``{"kwh": b'"kwh"'}``: the byte strings that :func:`screen` counts."""
    return {name: f'"{name}"'.encode() for name in names}


def screen(data: bytes, allowed: Iterable[tuple[bytes, int]]) -> bool:
    """Step 2: False when no known key can repeat, True when step 3 must decide.

    ``allowed`` pairs each quoted name with the number of objects that hold
    that key (1 for a flat message).
    """
    if 92 in data:  # a backslash: some string has an escape, maybe a key
        return True
    for quoted, count in allowed:  # noqa: SIM110 - measurably cheaper than any() over a generator
        if data.count(quoted) > count:
            return True
    return False


class _Object(dict[str, Any]):
    """A parsed JSON object that remembers which of its keys came more than once."""

    __slots__ = ("repeated",)
    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    obj.repeated = []
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                obj.repeated.append(key)
            seen.add(key)
    return obj


def first_repeated_key(
    data: bytes,
    fields: frozenset[str],
    *,
    items_key: str | None = None,
    item_fields: frozenset[str] = frozenset(),
) -> str | None:
    """The dotted path of the first repeated known key, or None.

    ``fields`` are the known keys of the top-level object; with ``items_key``
    (a bulk message's ``"readings"``), each element of that list is checked
    against ``item_fields`` and named by index (``readings.3.kwh``).
    Raises ``ValueError`` or ``RecursionError`` for JSON that :mod:`json`
    cannot read; callers have validated it already, so that means nesting
    deeper than Python's recursion limit.
    """
    top = json.loads(data, object_pairs_hook=_object)
    if not isinstance(top, _Object):
        return None
    for key in top.repeated:
        if key in fields:
            return key
    items = top.get(items_key) if items_key is not None else None
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, _Object):
                for key in item.repeated:
                    if key in item_fields:
                        return f"{items_key}.{index}.{key}"
    return None
