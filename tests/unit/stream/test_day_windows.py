"""From the store's real slots to the scorer's day windows, same-round history included."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS, day_layout
from stream.day_windows import to_day_windows
from stream.windows.base import Claim, WindowContents, WindowKey

FloatArray = npt.NDArray[np.float64]

LONDON = "Europe/London"
DAY1 = date(2013, 3, 4)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)


def level(value: float, n: int = MODEL_SLOTS) -> FloatArray:
    return np.full(n, value)


def stored(*values: float) -> FloatArray:
    """Stored history rows, oldest first: row ``i`` is all ``values[i]``."""
    if not values:
        return np.empty((0, MODEL_SLOTS))
    return np.stack([level(v) for v in values])


def contents(
    day: date,
    values: FloatArray,
    history: FloatArray,
    *,
    entity: str = "MAC000002",
    kind: str = "meter",
    temperatures: FloatArray | None = None,
    dated: bool = False,
) -> WindowContents:
    """``dated``: the store says the history rows are the days just before ``day``."""
    claim = Claim(WindowKey(kind, day, entity), "token", 0, -1, False)
    temps = np.full(values.shape, np.nan) if temperatures is None else temperatures
    days = tuple(day - timedelta(days=len(history) - n) for n in range(len(history)))
    return WindowContents(claim, values, temps, history, days if dated else ())


def row_levels(history: FloatArray) -> list[float]:
    """Each history row is constant in these tests: its one value."""
    assert history.shape[1:] == (MODEL_SLOTS,)
    for row in history:
        assert np.all(row == row[0])
    return [float(row[0]) for row in history]


def test_a_lone_day_keeps_its_stored_history() -> None:
    (item,) = to_day_windows([contents(DAY1, level(1.0), stored(0.1, 0.2))], LONDON, 28)
    window, layout = item
    assert window.kind == "meter"
    assert window.entity_id == "MAC000002"
    assert window.day == DAY1
    assert row_levels(window.history) == [0.1, 0.2]
    assert np.array_equal(window.values, level(1.0))
    assert layout is day_layout(DAY1, LONDON)


def test_days_of_the_same_round_see_their_predecessors_in_day_order() -> None:
    past = stored(0.1, 0.2)  # what the store had before any of the three
    batch = [
        contents(DAY3, level(3.0), past),
        contents(DAY1, level(1.0), past),
        contents(DAY2, level(2.0), past),
    ]
    out = to_day_windows(batch, LONDON, 28)
    assert [window.day for window, _ in out] == [DAY3, DAY1, DAY2]  # input order
    by_day = {window.day: window for window, _ in out}
    assert row_levels(by_day[DAY1].history) == [0.1, 0.2]
    assert row_levels(by_day[DAY2].history) == [0.1, 0.2, 1.0]
    assert row_levels(by_day[DAY3].history) == [0.1, 0.2, 1.0, 2.0]


def test_same_round_history_is_trimmed_to_history_days() -> None:
    past = stored(0.1, 0.2, 0.3)
    batch = [
        contents(DAY1, level(1.0), past),
        contents(DAY2, level(2.0), past),
        contents(DAY3, level(3.0), past),
    ]
    out = to_day_windows(batch, LONDON, 3)
    histories = [row_levels(window.history) for window, _ in out]
    assert histories == [[0.1, 0.2, 0.3], [0.2, 0.3, 1.0], [0.3, 1.0, 2.0]]


def test_same_round_history_without_stored_history() -> None:
    batch = [contents(DAY2, level(2.0), stored()), contents(DAY1, level(1.0), stored())]
    out = to_day_windows(batch, LONDON, 28)
    assert row_levels(out[0][0].history) == [1.0]
    assert out[1][0].history.shape == (0, MODEL_SLOTS)


def test_other_entities_and_kinds_are_unaffected() -> None:
    batch = [
        contents(DAY1, level(1.0), stored(0.1)),
        contents(DAY2, level(2.0), stored(0.5), entity="MAC000003"),
        contents(DAY2, level(7.0), stored(0.7), kind="ticket"),  # same entity id, other kind
        contents(DAY2, level(2.5), stored(0.1)),
        contents(DAY3, level(3.0), stored(0.9), entity="MAC000003"),
    ]
    out = to_day_windows(batch, LONDON, 28)
    assert [(w.kind, w.entity_id, w.day) for w, _ in out] == [
        ("meter", "MAC000002", DAY1),
        ("meter", "MAC000003", DAY2),
        ("ticket", "MAC000002", DAY2),
        ("meter", "MAC000002", DAY2),
        ("meter", "MAC000003", DAY3),
    ]
    assert row_levels(out[0][0].history) == [0.1]
    assert row_levels(out[1][0].history) == [0.5]
    assert row_levels(out[2][0].history) == [0.7]
    assert row_levels(out[3][0].history) == [0.1, 1.0]
    assert row_levels(out[4][0].history) == [0.9, 2.0]


def test_the_stored_history_is_not_modified() -> None:
    past = stored(0.1, 0.2)
    batch = [contents(DAY1, level(1.0), past), contents(DAY2, level(2.0), past)]
    to_day_windows(batch, LONDON, 28)
    assert row_levels(past) == [0.1, 0.2]


def test_real_slots_are_mapped_to_model_slots() -> None:
    spring, autumn = date(2013, 3, 31), date(2013, 10, 27)
    real_spring = np.asarray(day_layout(spring, LONDON).model_index, dtype=np.float64)
    real_autumn = np.ones(50)
    real_autumn[[2, 4]] = [1.0, 3.0]  # the two 01:00s
    real_autumn[10] = np.nan
    batch = [
        contents(spring, real_spring, stored()),
        contents(autumn, real_autumn, stored()),
        contents(DAY1, level(0.5), stored()),
    ]
    out = to_day_windows(batch, LONDON, 28)
    spring_window, spring_layout = out[0]
    assert spring_layout.n_slots == 46
    assert np.allclose(spring_window.values, np.arange(MODEL_SLOTS))  # 2, 3 interpolated
    autumn_window, autumn_layout = out[1]
    assert autumn_layout.n_slots == 50
    assert autumn_window.values.shape == (MODEL_SLOTS,)
    assert autumn_window.values[2] == 2.0
    # real slot 10 (04:00 GMT) is model slot 8: missing, and flagged so
    assert np.flatnonzero(autumn_window.missing).tolist() == [8]
    # a same-round predecessor enters the history in model slots
    later = to_day_windows(
        [
            contents(spring, real_spring, stored()),
            contents(spring + timedelta(1), level(1.0), stored()),
        ],
        LONDON,
        28,
    )
    assert np.allclose(later[1][0].history, np.arange(MODEL_SLOTS)[np.newaxis, :])


def test_the_day_temperature_is_the_mean_of_the_readings_that_have_one() -> None:
    temps = np.full(MODEL_SLOTS, np.nan)
    temps[[0, 1, 2]] = [4.0, 5.0, 9.0]
    batch = [
        contents(DAY1, level(1.0), stored(), temperatures=temps),
        contents(DAY2, level(1.0), stored()),
    ]
    out = to_day_windows(batch, LONDON, 28)
    assert out[0][0].temperature_c == 6.0
    assert out[1][0].temperature_c is None


def test_an_empty_batch() -> None:
    assert to_day_windows([], LONDON, 28) == []


def test_a_re_scored_day_is_not_counted_twice_in_a_later_days_history() -> None:
    # DAY1 was scored before (stored at 1.0); a late reading changed it to 1.5, and
    # DAY3 completes in the same round. The store gives DAY3 its history before DAY3.
    batch = [
        contents(DAY1, level(1.5), stored(0.1), dated=True),
        contents(DAY3, level(3.0), stored(0.1, 1.0, 2.0), dated=True),
    ]
    out = to_day_windows(batch, LONDON, 28)
    assert row_levels(out[1][0].history) == [0.1, 1.5, 2.0]


def test_history_days_carry_their_dates_and_temperatures_same_round_included() -> None:
    day2_temps = np.full(MODEL_SLOTS, np.nan)
    day2_temps[:2] = [3.0, 5.0]
    claim = Claim(WindowKey("meter", DAY3, "MAC000002"), "token", 0, -1, False)
    stored_days = (DAY1 - timedelta(days=1), DAY1)
    later = WindowContents(
        claim, level(3.0), level(np.nan), stored(0.1, 1.0), stored_days, np.array([7.5, np.nan])
    )
    batch = [contents(DAY2, level(2.0), stored(0.1, 1.0), temperatures=day2_temps), later]
    window = to_day_windows(batch, LONDON, 28)[1][0]
    assert window.history_days == (*stored_days, DAY2)
    np.testing.assert_array_equal(window.history_temperatures, [7.5, np.nan, 4.0])
    # a store that names no days (an older one): no dates, no temperatures
    lone = to_day_windows([contents(DAY1, level(1.0), stored(0.1))], LONDON, 28)[0][0]
    assert lone.history_days == () and lone.history_temperatures.size == 0
