"""The vectorised rounding gives exactly the floats ``round(v, 6)`` gives."""

from __future__ import annotations

import math
import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from stream.rounding import rounded6


def reference(values: list[float]) -> list[float | None]:
    return [None if math.isnan(v) else round(v, 6) for v in values]


def bits(values: list[float | None]) -> list[bytes | None]:
    # compared bit for bit: -0.0 and 0.0 must not pass for each other
    return [None if v is None else struct.pack("<d", v) for v in values]


@given(st.lists(st.floats(allow_infinity=False), max_size=200))
def test_any_finite_float_or_nan(values: list[float]) -> None:
    assert bits(rounded6(values)) == bits(reference(values))


@given(st.lists(st.integers(-(10**12), 10**12), max_size=100), st.integers(0, 12))
def test_values_at_and_near_a_half_of_the_sixth_decimal(ints: list[int], shift: int) -> None:
    # n + 0.5 millionths, and neighbours one ulp away: where rint and round could part
    halves = [(n + 0.5) / 1e6 for n in ints]
    near = [math.nextafter(v, math.inf) for v in halves] + [
        math.nextafter(v, -math.inf) for v in halves
    ]
    values = [v * 10.0**-shift for v in halves + near]
    assert bits(rounded6(values)) == bits(reference(values))


def test_a_window_of_readings_and_the_edges() -> None:
    rng = np.random.default_rng(7)
    values = [*rng.random(48).tolist(), math.nan, 0.0, -0.0, -4e-7, 5e-324, 1e300, -1e300]
    assert bits(rounded6(np.asarray(values))) == bits(reference(values))
