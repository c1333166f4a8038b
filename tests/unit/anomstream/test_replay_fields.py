"""Column mapping for ``anomstream replay``: the contract's fields and ``--map``."""

from __future__ import annotations

import pytest

from anomstream.replay.errors import BadArguments
from anomstream.replay.fields import KIND_FIELDS, parse_maps, resolve_columns
from schemas import MeterReading, TicketSale

LONDON_COLUMNS = ["LCLid", "tstp", "energy_kwh_hh"]
README_MAPS = ["meter_id=LCLid", "ts=tstp", "kwh=energy_kwh_hh"]


@pytest.mark.parametrize(("kind", "model"), [("meter", MeterReading), ("ticket", TicketSale)])
def test_fields_are_the_models_fields(kind: str, model: type[MeterReading | TicketSale]) -> None:
    # the replay's table must follow the schemas: a new field there shows up here
    expected = {
        name: info.is_required()
        for name, info in model.model_fields.items()
        if name != "schema_version"
    }
    specs = KIND_FIELDS[kind]  # type: ignore[index]
    assert {spec.name: spec.required for spec in specs} == expected


def test_readme_mapping_reads_the_london_header() -> None:
    mapping = parse_maps(README_MAPS, "meter")
    assert resolve_columns("meter", mapping, LONDON_COLUMNS) == {
        "meter_id": "LCLid",
        "ts": "tstp",
        "kwh": "energy_kwh_hh",
    }


def test_unmapped_fields_come_from_same_named_columns() -> None:
    columns = ["meter_id", "ts", "energy", "temperature_c", "other"]
    resolved = resolve_columns("meter", parse_maps(["kwh=energy"], "meter"), columns)
    assert resolved == {
        "meter_id": "meter_id",
        "ts": "ts",
        "kwh": "energy",
        "temperature_c": "temperature_c",
    }


def test_a_mapping_wins_over_a_same_named_column() -> None:
    resolved = resolve_columns("meter", {"kwh": "b"}, ["meter_id", "ts", "kwh", "b"])
    assert resolved["kwh"] == "b"


def test_optional_fields_may_be_absent() -> None:
    resolved = resolve_columns("ticket", {}, ["sale_id", "event_id", "ts", "quantity", "amount"])
    assert "currency" not in resolved
    assert "channel" not in resolved


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["kwh"], "write FIELD=COLUMN"),
        (["=x"], "write FIELD=COLUMN"),
        (["kwh="], "write FIELD=COLUMN"),
        (["energy=x"], "'energy' is not a field of a meter message"),
        (["kwh=a", "kwh=b"], "already mapped"),
    ],
)
def test_bad_map_specs_are_refused(specs: list[str], message: str) -> None:
    with pytest.raises(BadArguments, match=message):
        parse_maps(specs, "meter")


def test_ticket_fields_are_not_meter_fields() -> None:
    with pytest.raises(BadArguments, match="not a field of a ticket message"):
        parse_maps(["kwh=x"], "ticket")


def test_a_mapped_column_must_exist() -> None:
    with pytest.raises(BadArguments, match=r"no column 'LCLID'.*columns: LCLid, tstp"):
        resolve_columns("meter", {"meter_id": "LCLID"}, LONDON_COLUMNS)


def test_a_required_field_needs_a_column() -> None:
    with pytest.raises(BadArguments, match=r"no column for the field 'meter_id'.*--map meter_id="):
        resolve_columns("meter", {}, LONDON_COLUMNS)
