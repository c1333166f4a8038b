"""Which file column feeds which message field: the contract's fields and ``--map``.

A file is read "as it is": ``--map kwh=energy_kwh_hh`` names the column that
holds a field; a field that is not mapped is taken from the column of the
same name, when there is one. Everything is checked against the header
before a row is read, so a typo fails at once (exit 2) rather than as a
million rejected rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from anomstream.replay.errors import BadArguments
from schemas import Kind

__all__ = ["ENTITY_FIELD", "KIND_FIELDS", "FieldSpec", "FieldType", "parse_maps", "resolve_columns"]

FieldType = Literal["text", "timestamp", "number", "integer"]
"""How a column is turned into JSON: a string, an RFC 3339 instant, a number."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One message field (the wire name) and how its column is converted."""

    name: str
    type: FieldType
    required: bool


# The message fields of shared/CONTRACT.md, in contract order. schema_version
# is not read from files: every message is written with the current one.
# tests/unit/anomstream/test_replay_fields.py pins these to the pydantic models.
KIND_FIELDS: Final[Mapping[Kind, tuple[FieldSpec, ...]]] = {
    "meter": (
        FieldSpec("meter_id", "text", required=True),
        FieldSpec("ts", "timestamp", required=True),
        FieldSpec("kwh", "number", required=True),
        FieldSpec("temperature_c", "number", required=False),
    ),
    "ticket": (
        FieldSpec("sale_id", "text", required=True),
        FieldSpec("event_id", "text", required=True),
        FieldSpec("ts", "timestamp", required=True),
        FieldSpec("quantity", "integer", required=True),
        FieldSpec("amount", "number", required=True),
        FieldSpec("currency", "text", required=False),
        FieldSpec("channel", "text", required=False),
    ),
}

ENTITY_FIELD: Final[Mapping[Kind, str]] = {"meter": "meter_id", "ticket": "event_id"}
"""The field that names the entity: the message key and the ``--entities`` filter."""


def parse_maps(specs: Sequence[str], kind: Kind) -> dict[str, str]:
    """``["kwh=energy_kwh_hh", ...]`` -> ``{"kwh": "energy_kwh_hh"}`` (field -> column).

    Raises :class:`BadArguments` for a spec without ``=``, an unknown field of
    this kind, or a field mapped twice.
    """
    known = [spec.name for spec in KIND_FIELDS[kind]]
    mapping: dict[str, str] = {}
    for spec in specs:
        target, sep, source = spec.partition("=")
        target, source = target.strip(), source.strip()
        if not sep or not target or not source:
            raise BadArguments(f"--map {spec!r}: write FIELD=COLUMN, e.g. --map kwh=energy_kwh_hh")
        if target not in known:
            raise BadArguments(
                f"--map {spec!r}: {target!r} is not a field of a {kind} message "
                f"(fields: {', '.join(known)})"
            )
        if target in mapping:
            raise BadArguments(
                f"--map {spec!r}: {target!r} is already mapped to {mapping[target]!r}"
            )
        mapping[target] = source
    return mapping


def resolve_columns(
    kind: Kind, mapping: Mapping[str, str], columns: Sequence[str]
) -> dict[str, str]:
    """Field -> column of the file, for every field the file can fill.

    Raises :class:`BadArguments` when a mapped column is not in the file or a
    required field has no column; an optional field without one is left out.
    """
    present = set(columns)
    shown = ", ".join(columns) or "none"
    resolved: dict[str, str] = {}
    for spec in KIND_FIELDS[kind]:
        source = mapping.get(spec.name)
        if source is not None:
            if source not in present:
                raise BadArguments(
                    f"--map {spec.name}={source}: the file has no column {source!r} "
                    f"(columns: {shown})"
                )
            resolved[spec.name] = source
        elif spec.name in present:
            resolved[spec.name] = spec.name
        elif spec.required:
            raise BadArguments(
                f"no column for the field {spec.name!r}: name one with "
                f"--map {spec.name}=COLUMN (columns: {shown})"
            )
    return resolved
