# ruff: noqa: E501 - payload tables read best one case per line
"""The decoders: repeated keys, the bulk form, and the dispatch between forms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schema_strategies import PROPERTY, as_dict, readings, sales, to_json

from schemas import (
    MAX_BATCH_PAYLOAD_BYTES,
    MAX_BATCH_READINGS,
    InvalidMessage,
    MeterReading,
    MeterReadingBatch,
    TicketSale,
    decode_meter_message,
    decode_reading,
    decode_reading_batch,
    decode_sale,
)
from schemas._duplicates import least_quotes, string_fields


def _object(pairs: list[tuple[str, Any]]) -> bytes:
    """A JSON object with exactly these pairs, repeats and order kept."""
    return ("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}").encode()


# --- repeated keys -------------------------------------------------------------


@PROPERTY
@given(readings(), st.data())
def test_a_repeated_known_key_is_rejected_and_named(reading: MeterReading, data: Any) -> None:
    pairs = list(as_dict(reading).items())
    field, value = data.draw(st.sampled_from(pairs))
    position = data.draw(st.integers(0, len(pairs)))
    other = data.draw(st.sampled_from([value, 1, -1, "x", None]))
    pairs.insert(position, (field, other))
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(_object(pairs))
    # Either the repeat itself, or (when the last value is bad) that value.
    assert (caught.value.type, caught.value.field) == ("validation", field)


@PROPERTY
@given(sales(), st.data())
def test_a_repeated_sale_key_is_rejected(sale: TicketSale, data: Any) -> None:
    pairs = list(as_dict(sale).items())
    field, value = data.draw(st.sampled_from(pairs))
    pairs.append((field, value))
    with pytest.raises(InvalidMessage) as caught:
        decode_sale(_object(pairs))
    assert (caught.value.field, caught.value.rule) == (field, "duplicate_key")


@pytest.mark.parametrize(
    "payload",
    [
        # a name used as a value makes the screen look twice, and decide "no"
        b'{"meter_id": "kwh", "ts": "2013-03-01T00:30:00Z", "kwh": 1}',
        b'{"meter_id": "ts", "ts": "2013-03-01T00:30:00Z", "kwh": 1, "note": "kwh kwh \\"kwh\\""}',
        # known names inside an unknown nested object are not repeats
        b'{"meter_id": "m", "ts": "2013-03-01T00:30:00Z", "kwh": 1, "x": {"kwh": 2, "ts": 3}}',
        # repeats of unknown fields are ignored with the fields
        b'{"meter_id": "m", "ts": "2013-03-01T00:30:00Z", "kwh": 1, "x": 1, "x": 2}',
        # a \\u escape elsewhere sends it to the exact check, which passes it
        b'{"meter_id": "caf\\u00e9", "ts": "2013-03-01T00:30:00Z", "kwh": 1}',
    ],
)
def test_look_alikes_of_repeats_are_accepted(payload: bytes) -> None:
    assert decode_reading(payload).kwh == 1


def test_a_key_spelled_with_escapes_counts_as_that_key() -> None:
    payload = b'{"meter_id": "m", "ts": "2013-03-01T00:30:00Z", "kwh": -1, "\\u006bwh": 1}'
    with pytest.raises(InvalidMessage) as caught:
        decode_reading(payload)
    assert (caught.value.field, caught.value.rule) == ("kwh", "duplicate_key")


# --- the bulk form ---------------------------------------------------------------


def _bulk(meter_id: str, items: list[dict[str, Any]], **extra: Any) -> bytes:
    return to_json({"meter_id": meter_id, "readings": items, **extra})


def _items(batch: list[MeterReading]) -> list[dict[str, Any]]:
    out = []
    for reading in batch:
        item = as_dict(reading)
        del item["meter_id"], item["schema_version"]
        out.append(item)
    return out


bulks = st.lists(readings(), min_size=1, max_size=40)


@PROPERTY
@given(bulks)
def test_bulk_means_one_reading_per_element(batch: list[MeterReading]) -> None:
    meter_id = batch[0].meter_id
    expected = [reading.model_copy(update={"meter_id": meter_id}) for reading in batch]
    payload = _bulk(meter_id, _items(batch))
    assert decode_reading_batch(payload) == expected
    assert decode_meter_message(payload) == expected
    # and the model of the bulk form says the same
    assert MeterReadingBatch.model_validate_json(payload).to_readings() == expected


@PROPERTY
@given(bulks, st.data())
def test_a_bad_reading_is_named_by_its_index(batch: list[MeterReading], data: Any) -> None:
    items = _items(batch)
    index = data.draw(st.integers(0, len(items) - 1))
    field, bad, rule = data.draw(
        st.sampled_from(
            [
                ("kwh", -1, "greater_than_equal"),
                ("kwh", float("nan"), "finite_number"),
                ("ts", "2013-03-01T00:31:00Z", "half_hour"),
                ("temperature_c", "warm", "float_type"),
            ]
        )
    )
    items[index][field] = bad
    for decode in (decode_reading_batch, decode_meter_message):
        with pytest.raises(InvalidMessage) as caught:
            decode(_bulk("MAC000002", items))
        assert caught.value.field == f"readings.{index}.{field}"
        assert caught.value.rule == rule
        assert caught.value.message.startswith(f"readings.{index}.{field}: ")


@PROPERTY
@given(bulks, st.data())
def test_a_repeated_key_in_one_element_is_named_by_its_index(
    batch: list[MeterReading], data: Any
) -> None:
    items = _items(batch)
    index = data.draw(st.integers(0, len(items) - 1))
    pairs = list(items[index].items())
    field, value = data.draw(st.sampled_from(pairs))
    element = _object([*pairs, (field, value)]).decode()
    others = [json.dumps(item) for item in items]
    others[index] = element
    payload = ('{"meter_id": "m", "readings": [' + ", ".join(others) + "]}").encode()
    with pytest.raises(InvalidMessage) as caught:
        decode_reading_batch(payload)
    assert (caught.value.field, caught.value.rule) == (f"readings.{index}.{field}", "duplicate_key")


def test_bulk_limits() -> None:
    one = {"ts": "2013-03-01T00:30:00Z", "kwh": 1}
    with pytest.raises(InvalidMessage) as caught:
        decode_reading_batch(_bulk("m", []))
    assert (caught.value.field, caught.value.rule) == ("readings", "too_short")
    with pytest.raises(InvalidMessage) as caught:
        decode_reading_batch(_bulk("m", [one] * (MAX_BATCH_READINGS + 1)))
    assert (caught.value.field, caught.value.rule) == ("readings", "too_long")
    assert len(decode_reading_batch(_bulk("m", [one] * MAX_BATCH_READINGS))) == MAX_BATCH_READINGS
    with pytest.raises(InvalidMessage) as caught:
        decode_reading_batch(_bulk("m", [one], pad="x" * MAX_BATCH_PAYLOAD_BYTES))
    assert caught.value.type == "too_large"


ONE = b'{"ts": "2013-03-01T00:30:00Z", "kwh": 1}'


# fmt: off
ENVELOPE_CASES = [
    (b'{"readings": [{"ts": "2013-03-01T00:30:00Z", "kwh": 1}]}', "meter_id", "missing"),
    (b'{"meter_id": "", "readings": []}', "meter_id", "string_too_short"),
    (b'{"meter_id": "m", "readings": {"ts": 1}}', "readings", "list_type"),
    (b'{"meter_id": "m", "readings": [1]}', "readings.0", "model_type"),
    (b'{"meter_id": "m", "readings": [{"kwh": 1}]}', "readings.0.ts", "missing"),
    (b'{"meter_id": "m", "readings": [%s], "schema_version": 2}' % ONE, "schema_version", "schema_version"),
    (b'{"meter_id": "m", "meter_id": "n", "readings": [%s]}' % ONE, "meter_id", "duplicate_key"),
]
# fmt: on


@pytest.mark.parametrize(("payload", "field", "rule"), ENVELOPE_CASES)
def test_bulk_envelope_errors(payload: bytes, field: str, rule: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_reading_batch(payload)
    assert (caught.value.type, caught.value.field, caught.value.rule) == ("validation", field, rule)


def test_meter_id_inside_an_element_is_overridden() -> None:
    payload = _bulk("m", [{"meter_id": "other", "ts": "2013-03-01T00:30:00Z", "kwh": 1}])
    assert decode_reading_batch(payload)[0].meter_id == "m"


@pytest.mark.parametrize(
    "payload",
    [
        b"[1, 2]",
        b"not json",
        b'{"meter_id": "m", "readings": [{"ts": "2013-03-01T00:30:00Z", "kwh": NaN}]',
    ],
)
def test_bulk_decode_errors(payload: bytes) -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_reading_batch(payload)
    assert caught.value.type == "decode"


def test_bulk_with_numbers_orjson_cannot_read() -> None:
    """Integers beyond 64 bits: read by the models' parser, judged by the rules."""
    huge = "1" + "0" * 30
    payload = (
        '{"meter_id": "m", "x": '
        + huge
        + ', "readings": [{"ts": "2013-03-01T00:30:00Z", "kwh": 1}]}'
    ).encode()
    assert decode_reading_batch(payload)[0].kwh == 1
    bad = payload.replace(b'"kwh": 1', b'"kwh": ' + huge.encode())
    with pytest.raises(InvalidMessage) as caught:
        decode_reading_batch(bad)
    assert caught.value.field == "readings.0.kwh"


def test_meter_topic_dispatch() -> None:
    single = b'{"meter_id": "readings", "ts": "2013-03-01T00:30:00Z", "kwh": 1}'
    assert [r.meter_id for r in decode_meter_message(single)] == ["readings"]
    bulk = _bulk(
        "m", [{"ts": "2013-03-01T00:30:00Z", "kwh": 1}, {"ts": "2013-03-01T01:00:00Z", "kwh": 2}]
    )
    assert [r.kwh for r in decode_meter_message(bulk)] == [1, 2]
    with pytest.raises(InvalidMessage) as caught:
        decode_meter_message(b'{"meter_id": "m", "readings": [{"ts": "2013-03-01T00:30:00Z"}]}')
    assert caught.value.field == "readings.0.kwh"


@PROPERTY
@given(readings(), st.data())
def test_quote_count_bound_is_exact_for_plain_messages_and_never_above(
    reading: MeterReading, data: Any
) -> None:
    """Step 1 of the repeat screen: least_quotes is the count of a text with no
    extra token or escape, a lower bound always, and a repeat exceeds it."""
    strings = string_fields(MeterReading)
    pairs = list(as_dict(reading).items())
    pairs = data.draw(st.permutations(pairs))
    keep = data.draw(st.integers(2, len(pairs)))
    message = dict(pairs[:keep])
    message.setdefault("kwh", 1.0)
    message.setdefault("meter_id", "m")
    message.setdefault("ts", "2013-03-01T00:30:00Z")
    plain = _object(list(message.items()))
    validated = MeterReading.model_validate_json(plain)
    if b"\\" in plain:  # an escaped quote is one more '"'
        assert plain.count(b'"') >= least_quotes(validated, strings)
    else:
        assert plain.count(b'"') == least_quotes(validated, strings)
    field, value = data.draw(st.sampled_from(list(message.items())))
    repeated = _object([*message.items(), (field, value)])
    assert repeated.count(b'"') > least_quotes(MeterReading.model_validate_json(repeated), strings)
