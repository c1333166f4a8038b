# ruff: noqa: E501 - the table reads best one case per line
"""Hostile payloads: each one is an InvalidMessage of the expected type and field.

Never another exception: the worker dead-letters an InvalidMessage and goes
on, while anything else would be a crash loop on one poisoned record.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import pytest
from harness.hostile import HOSTILE
from hypothesis import given
from hypothesis import strategies as st
from schema_strategies import PROPERTY

from schemas import (
    InvalidMessage,
    decode_meter_message,
    decode_reading,
    decode_reading_batch,
    decode_sale,
)


@pytest.mark.parametrize(
    ("payload", "error_type", "field", "rule"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_reading_is_rejected_precisely(
    payload: bytes | None, error_type: str, field: str | None, rule: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(payload)
    error = caught.value
    assert (error.type, error.field, error.rule) == (error_type, field, rule), error
    assert len(error.message) < 300, "the message must not echo the payload"
    if field is not None:
        assert error.message.startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("payload", "error_type", "field", "rule"),
    [case[1:] for case in HOSTILE if case[3] is None or case[3] in {"kwh", "ts"}],
    ids=[case[0] for case in HOSTILE if case[3] is None or case[3] in {"kwh", "ts"}],
)
def test_hostile_payloads_on_the_meter_topic_either_form(
    payload: bytes | None, error_type: str, field: str | None, rule: str
) -> None:
    """decode_meter_message (which also takes the bulk form) rejects them alike."""
    with pytest.raises(InvalidMessage) as caught:
        decode_meter_message(payload)
    assert (caught.value.type, caught.value.field) == (error_type, field)


SALE = b'{"sale_id": "S-1", "event_id": "EVT-42", "ts": "2024-05-01T18:03:12+02:00", "quantity": %s, "amount": 119.80}'


@pytest.mark.parametrize(
    ("quantity", "rule"),
    [
        (b"2.5", "int_type"),
        (b'"2"', "int_type"),
        (b"true", "int_type"),
        (b"2.0", "int_type"),
        (b"0", "greater_than_equal"),
        (b"-3", "greater_than_equal"),
        (b"1000001", "less_than_equal"),
        (b"1" + b"0" * 30, "less_than_equal"),
        (b"NaN", "int_type"),
    ],
)
def test_hostile_quantities(quantity: bytes, rule: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_sale(SALE % quantity)
    assert (caught.value.type, caught.value.field, caught.value.rule) == (
        "validation",
        "quantity",
        rule,
    )


DECODERS: list[Callable[[bytes], object]] = [
    decode_reading,
    decode_sale,
    decode_reading_batch,
    decode_meter_message,
]


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
@PROPERTY
@given(payload=st.binary(max_size=400))
def test_arbitrary_bytes_never_escape_as_another_exception(
    decode: Callable[[bytes], object], payload: bytes
) -> None:
    with contextlib.suppress(InvalidMessage):
        decode(payload)


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
@PROPERTY
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["meter_id", "ts", "kwh", "readings", "sale_id", "x"])
                | st.text(max_size=5),
                children,
                max_size=5,
            )
        ),
        max_leaves=30,
    )
)
def test_arbitrary_json_never_escapes_as_another_exception(
    decode: Callable[[bytes], object], payload: object
) -> None:
    with contextlib.suppress(InvalidMessage):
        decode(json.dumps(payload).encode())
