"""A chunk of columns -> contract JSON, validated by the worker's own decoders.

Building the JSON is vectorised (Arrow string kernels over whole columns: no
per-row pandas ``apply``). Every message is then checked with
:func:`schemas.decode_reading` / :func:`schemas.decode_sale`, the very code a
worker runs on it, so a row is sent only if a worker would accept it, and a
rejected row's reason is the one the worker would give (``kwh: must be >= 0``).
The few problems that JSON cannot express (a number column holding ``abc``, a
local time the clocks skip) are named here, in the same style.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from anomstream.replay.fields import ENTITY_FIELD, KIND_FIELDS, FieldSpec
from anomstream.replay.rejections import Rejections
from anomstream.replay.timestamps import TimestampReader
from schemas import SCHEMA_VERSION, InvalidMessage, Kind, decode_reading, decode_sale

__all__ = ["ChunkEncoder", "Record"]

Record = tuple[bytes, bytes]
"""(key, value) of one Kafka message."""

# Characters a JSON string must escape; ids almost never hold them.
_NEEDS_ESCAPE: Final = r'["\\\x00-\x1f]'
_NAN_TEXT: Final = r"^\s*[+-]?[Nn][Aa][Nn]\s*$"
_EXACT_INTEGERS: Final = 2.0**53
_DECODERS: Final[Mapping[Kind, Callable[[bytes], Any]]] = {
    "meter": decode_reading,
    "ticket": decode_sale,
}


class ChunkEncoder:
    """Turns chunks of one file into validated ``(key, value)`` records.

    One per replay (it holds the timestamp reader's memory of repeated
    wall-clock hours). Thread-confined: the replay runs it in one worker
    thread, off the event loop that talks to Kafka.
    """

    def __init__(self, kind: Kind, timezone: str) -> None:
        self.kind: Kind = kind
        self._specs = {spec.name: spec for spec in KIND_FIELDS[kind]}
        self._entity = ENTITY_FIELD[kind]
        self._decode = _DECODERS[kind]
        self._times = TimestampReader(timezone)

    def encode(
        self, columns: Mapping[str, pa.Array], rows: np.ndarray, rejections: Rejections
    ) -> list[Record]:
        """The valid records of a chunk, in file order; the others go to ``rejections``.

        ``columns`` maps field names to the chunk's columns (optional fields
        may be absent); ``rows`` holds each row's position in the file.
        """
        count = len(rows)
        if count == 0:
            return []
        entities = columns[self._entity]
        problems: list[tuple[str, np.ndarray]] = []
        segments: list[pa.Array] = []
        for name, values in columns.items():
            spec = self._specs[name]
            json_values, field_problems = self._field_json(spec, values, entities)
            problems += field_problems
            # '"kwh":0.219,' where present; '' where absent (the schema then
            # says "kwh: is required" for a required field).
            segment = pc.binary_join_element_wise(f'"{name}":', json_values, ",", "")
            segments.append(segment.fill_null(""))
        joined = pc.binary_join_element_wise(
            "{", *segments, f'"schema_version":{SCHEMA_VERSION}}}', ""
        )
        clean = np.ones(count, dtype=bool)
        for reason, mask in problems:
            mine = mask & clean
            if mine.any():
                rejections.add_many(reason, rows[mine].tolist())
                clean &= ~mine
        keep = pa.array(clean)
        payloads = joined.filter(keep).cast(pa.binary()).to_pylist()
        keys = entities.filter(keep).cast(pa.string()).cast(pa.binary()).to_pylist()
        accepted: list[Record] = []
        decode = self._decode
        for key, payload, row in zip(keys, payloads, rows[clean].tolist(), strict=True):
            try:
                decode(payload)
            except InvalidMessage as exc:
                rejections.add(exc.message, row)
                continue
            accepted.append((key, payload))
        return accepted

    def _field_json(
        self, spec: FieldSpec, values: pa.Array, entities: pa.Array
    ) -> tuple[pa.Array, list[tuple[str, np.ndarray]]]:
        """JSON text per row (null where absent) and this field's own rejections."""
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        if spec.type == "timestamp":
            times = self._times.convert(values, entities)
            quoted = pc.binary_join_element_wise('"', times.text, '"', "")
            return quoted, times.problems
        if spec.type == "text":
            return _text_json(values), []
        return _number_json(spec, values)


def _text_json(values: pa.Array) -> pa.Array:
    text = values.cast(pa.string())
    quoted = pc.binary_join_element_wise('"', text, '"', "")
    escape = _mask(pc.match_substring_regex(text, _NEEDS_ESCAPE))
    if not escape.any():
        return quoted
    # Rare: quotes, backslashes or control characters. orjson escapes them.
    out = np.asarray(quoted.to_pylist(), dtype=object)
    for index in np.flatnonzero(escape):
        out[index] = orjson.dumps(text[int(index)].as_py()).decode()
    return pa.array(out, type=pa.string())


def _number_json(
    spec: FieldSpec, values: pa.Array
) -> tuple[pa.Array, list[tuple[str, np.ndarray]]]:
    present = _mask(values.is_valid())
    not_a_number = np.zeros(len(values), dtype=bool)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        text = pc.utf8_trim_whitespace(values.cast(pa.string()))
        try:
            numbers = pc.cast(text, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            numbers = _lenient_floats(text)
            # NaN from a word like "abc", not from the text "NaN"
            not_a_number = (
                present
                & _mask(pc.is_nan(numbers))
                & ~_mask(pc.match_substring_regex(text, _NAN_TEXT))
            )
    else:
        numbers = values.cast(pa.float64())
    floats = numbers.fill_null(0.0).to_numpy(zero_copy_only=False)
    finite = np.isfinite(floats)
    not_finite = present & ~finite & ~not_a_number
    usable = present & finite
    json_text = pc.cast(pa.array(floats, mask=~usable), pa.string())
    if spec.type == "integer":
        # 2.0 -> "2": a whole number read from a float column is still an integer.
        whole = usable & (np.floor(floats) == floats) & (np.abs(floats) < _EXACT_INTEGERS)
        as_int = pc.cast(pa.array(floats.astype(np.int64), mask=~whole), pa.string())
        json_text = pc.if_else(pa.array(whole), as_int, json_text)
    problems = [
        (f"{spec.name}: must be a number", not_a_number),
        (f"{spec.name}: must be a finite number", not_finite),
    ]
    return json_text, problems


def _lenient_floats(text: pa.Array) -> pa.Array:
    """Text -> float64 with NaN where the text is not a number (one bad cell happens)."""
    import pandas as pd

    parsed = pd.to_numeric(text.to_pandas(), errors="coerce")
    return pa.array(np.asarray(parsed, dtype=np.float64), mask=~_mask(text.is_valid()))


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow boolean array -> numpy booleans, null as False."""
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
