"""The public surface of ``schemas`` is deliberate (after httpx's test of the same name)."""

from __future__ import annotations

import importlib
import types

import pytest

import schemas

PUBLIC_MODULES = [
    "schemas.dead_letters",
    "schemas.decode",
    "schemas.errors",
    "schemas.export",
    "schemas.inputs",
    "schemas.model_updates",
    "schemas.outputs",
    "schemas.settings",
]


def test_all_is_pinned() -> None:
    assert schemas.__all__ == [
        "MAX_BATCH_PAYLOAD_BYTES",
        "MAX_BATCH_READINGS",
        "MAX_KEPT_BYTES",
        "MAX_PAYLOAD_BYTES",
        "SCHEMA_VERSION",
        "SLOTS_PER_DAY",
        "Alert",
        "BatchReading",
        "ConditionValue",
        "DeadLetter",
        "DeadLetterError",
        "DeadLetterType",
        "ErrorType",
        "InvalidMessage",
        "Kind",
        "MeterReading",
        "MeterReadingBatch",
        "ModelUpdate",
        "SchemaError",
        "Severity",
        "SlotExplanation",
        "TicketSale",
        "WindowScore",
        "decode_meter_message",
        "decode_reading",
        "decode_reading_batch",
        "decode_sale",
        "write_json_schemas",
    ]


def test_all_public_members_are_exported() -> None:
    for name in dir(schemas):
        if name.startswith("_"):
            continue
        if isinstance(getattr(schemas, name), types.ModuleType):
            continue  # the submodules themselves
        assert name in schemas.__all__, f"schemas.{name} is public but not in __all__"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_module_declares_and_defines_its_all(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is in __all__ but missing"


def test_exported_names_come_from_their_modules() -> None:
    for name in schemas.__all__:
        member = getattr(schemas, name)
        origin = getattr(member, "__module__", "schemas")
        assert origin.startswith(("schemas", "typing")), (name, origin)
