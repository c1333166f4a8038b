"""From a verdict to the contract's messages: window-scores and alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.days import MODEL_SLOTS, day_layout
from core.scoring.base import Verdict
from schemas import Alert, WindowScore
from stream.outputs import (
    ROLE_ANOMALIES,
    ROLE_SCORES,
    BuiltOutputs,
    NonFiniteOutput,
    Scored,
    alert_id,
    build_outputs,
    build_round,
    top_slots,
)
from stream.windows.base import Claim, WindowKey

FloatArray = npt.NDArray[np.float64]

LONDON = "Europe/London"
DAY = date(2013, 3, 1)
SPRING = date(2013, 3, 31)
AUTUMN = date(2013, 10, 27)
DETECTED = datetime(2026, 11, 22, 10, 0, 0, 123000, tzinfo=UTC)
THRESHOLD = 5.0


def claim(
    day: date = DAY,
    *,
    entity: str = "MAC000002",
    kind: str = "meter",
    revision: int = 0,
    alert_revision: int = -1,
    alert_active: bool = False,
) -> Claim:
    return Claim(WindowKey(kind, day, entity), "token", revision, alert_revision, alert_active)


def verdict(contributions: FloatArray, *, threshold: float = THRESHOLD) -> Verdict:
    return Verdict(
        score=float(contributions.sum()),
        threshold=threshold,
        expected=np.full(MODEL_SLOTS, 0.3),
        contributions=contributions,
        detector="baseline",
        model_version="baseline-mad-7d",
        conditions={"history_days": 20, "warming_up": False},
    )


def quiet() -> Verdict:
    return verdict(np.full(MODEL_SLOTS, 0.01))


def loud(slots: dict[int, float] | None = None) -> Verdict:
    contributions = np.full(MODEL_SLOTS, 0.001)
    for slot, value in (slots or {2: 3.0, 3: 2.5, 5: 2.0, 9: 1.0}).items():
        contributions[slot] = value
    return verdict(contributions)


def actual() -> FloatArray:
    return np.linspace(0.1, 1.0, MODEL_SLOTS)


def build(
    c: Claim, v: Verdict, values: FloatArray | None = None, temperature_c: float | None = None
) -> BuiltOutputs:
    layout = day_layout(c.key.day, LONDON)
    values = actual() if values is None else values
    return build_outputs(c, layout, values, v, detected_at=DETECTED, temperature_c=temperature_c)


def decoded(built: BuiltOutputs) -> tuple[WindowScore, Alert | None]:
    roles = [role for role, _, _ in built.messages]
    assert roles[0] == ROLE_SCORES
    assert roles.count(ROLE_SCORES) == 1
    assert roles.count(ROLE_ANOMALIES) <= 1
    score = WindowScore.model_validate_json(built.messages[0][2])
    alerts = [
        Alert.model_validate_json(value)
        for role, _, value in built.messages
        if role == ROLE_ANOMALIES
    ]
    return score, (alerts[0] if alerts else None)


# --- alert ids --------------------------------------------------------------------------


def test_alert_id_is_deterministic() -> None:
    first = alert_id("meter", "MAC000002", DAY)
    assert first == alert_id("meter", "MAC000002", date(2013, 3, 1))
    assert len(first) == 32
    assert int(first, 16) >= 0  # hex


@pytest.mark.parametrize(
    ("kind", "entity", "day"),
    [
        ("ticket", "MAC000002", DAY),
        ("meter", "MAC000003", DAY),
        ("meter", "MAC000002", date(2013, 3, 2)),
        # no ambiguity from joining the parts
        ("meter", "MAC000002\x1f2013-03-01", DAY),
        ("meter", "", DAY),
    ],
)
def test_alert_id_differs_when_any_part_differs(kind: str, entity: str, day: date) -> None:
    assert alert_id(kind, entity, day) != alert_id("meter", "MAC000002", DAY)


def test_alert_id_keeps_kind_entity_and_day_apart() -> None:
    ids = {
        alert_id(kind, entity, day)
        for kind in ("meter", "ticket")
        for entity in ("A", "B", "AB", "A:B")
        for day in (date(2013, 1, 1), date(2013, 1, 2), date(2014, 1, 1))
    }
    assert len(ids) == 2 * 4 * 3


# --- window scores and alerts --------------------------------------------------------------


def test_a_normal_window_gives_a_window_score_only() -> None:
    built = build(claim(), quiet())
    assert [role for role, _, _ in built.messages] == [ROLE_SCORES]
    assert not built.alert_active
    assert not built.alert_published
    score, alert = decoded(built)
    assert alert is None
    assert score.is_anomaly is False
    assert score.severity is None
    assert score.revision == 0
    assert score.alert_id == alert_id("meter", "MAC000002", DAY)
    assert score.kind == "meter"
    assert score.entity_id == "MAC000002"
    assert score.day == DAY
    assert score.timezone == LONDON
    assert score.window_start == datetime(2013, 3, 1, tzinfo=UTC)
    assert score.window_end == datetime(2013, 3, 2, tzinfo=UTC)
    assert score.detected_at == DETECTED
    assert score.detector == "baseline"
    assert score.model_version == "baseline-mad-7d"
    assert score.conditions == {"temperature_c": None, "history_days": 20, "warming_up": False}
    assert score.missing_slots == []
    assert score.actual == pytest.approx(actual().tolist(), abs=5e-7)
    assert score.expected == [0.3] * MODEL_SLOTS
    assert score.score == pytest.approx(0.48)
    assert score.threshold == THRESHOLD


def test_the_days_temperature_goes_with_the_conditions() -> None:
    score, _ = decoded(build(claim(), quiet(), temperature_c=7.25))
    assert score.conditions["temperature_c"] == 7.25
    assert score.conditions["warming_up"] is False


def test_messages_are_keyed_by_entity() -> None:
    built = build(claim(entity="EVT-42", kind="ticket"), loud())
    assert [key for _, key, _ in built.messages] == [b"EVT-42", b"EVT-42"]


def test_an_anomalous_window_gives_a_window_score_and_an_alert() -> None:
    built = build(claim(), loud())
    assert [role for role, _, _ in built.messages] == [ROLE_SCORES, ROLE_ANOMALIES]
    assert built.alert_active
    assert built.alert_published
    score, alert = decoded(built)
    assert alert is not None
    assert score.is_anomaly is True
    assert score.severity == "medium"  # 8.5 / 5 = 1.7
    assert alert.severity == "medium"
    assert alert.revision == 0
    assert alert.retracted is False
    assert alert.alert_id == score.alert_id == alert_id("meter", "MAC000002", DAY)
    assert alert.score == score.score
    assert alert.actual == score.actual
    assert alert.slots == score.slots
    # an alert has no verdict fields of its own
    assert "is_anomaly" not in alert.model_dump()


def test_window_score_revision_comes_from_the_claim() -> None:
    score, _ = decoded(build(claim(revision=3), quiet()))
    assert score.revision == 3


def test_a_re_score_that_is_still_anomalous_revises_the_alert() -> None:
    built = build(claim(revision=1, alert_revision=0, alert_active=True), loud())
    score, alert = decoded(built)
    assert alert is not None
    assert score.revision == 1
    assert alert.revision == 1
    assert alert.retracted is False
    assert alert.alert_id == alert_id("meter", "MAC000002", DAY)


def test_a_re_score_that_is_normal_retracts_the_alert() -> None:
    built = build(claim(revision=2, alert_revision=1, alert_active=True), quiet())
    assert built.alert_published
    assert not built.alert_active
    score, alert = decoded(built)
    assert score.is_anomaly is False
    assert score.revision == 2
    assert alert is not None
    assert alert.retracted is True
    assert alert.revision == 2  # alert_revision + 1
    assert alert.alert_id == alert_id("meter", "MAC000002", DAY)
    assert alert.severity == "low"  # required on an alert; the lowest for a withdrawal


def test_a_normal_re_score_after_a_retraction_publishes_nothing_more() -> None:
    built = build(claim(revision=3, alert_revision=2, alert_active=False), quiet())
    assert [role for role, _, _ in built.messages] == [ROLE_SCORES]
    assert not built.alert_published


def test_an_alert_after_a_retraction_carries_on_the_revisions() -> None:
    _, alert = decoded(build(claim(revision=4, alert_revision=2, alert_active=False), loud()))
    assert alert is not None
    assert alert.revision == 3
    assert alert.retracted is False


@pytest.mark.parametrize(
    ("factor", "severity"),
    [
        (1.0, "low"),
        (1.49, "low"),
        (1.5, "medium"),
        (3.0, "high"),
        (6.0, "critical"),
        (60, "critical"),
    ],
)
def test_severity_follows_the_ratio(factor: float, severity: str) -> None:
    contributions = np.zeros(MODEL_SLOTS)
    contributions[10] = THRESHOLD * factor
    score, alert = decoded(build(claim(), verdict(contributions)))
    assert alert is not None
    assert score.severity == alert.severity == severity


# --- explanations ------------------------------------------------------------------------


def test_slots_are_ordered_by_contribution_with_true_start_times() -> None:
    score, alert = decoded(build(claim(), loud({7: 0.5, 30: 4.0, 12: 1.5, 40: 2.0})))
    assert alert is not None
    # largest first, until 80 % of the score is explained: 4 + 2 + 1.5 of 8.04
    assert [s.index for s in score.slots] == [30, 40, 12]
    contributions = [s.contribution for s in score.slots]
    assert contributions == sorted(contributions, reverse=True)
    first = score.slots[0]
    assert first.start == datetime(2013, 3, 1, 15, tzinfo=UTC)
    assert first.actual == pytest.approx(actual()[30], abs=1e-6)
    assert first.expected == 0.3
    assert first.contribution == 4.0
    assert alert.slots == score.slots


def test_slots_stop_at_twelve() -> None:
    contributions = np.zeros(MODEL_SLOTS)
    contributions[:20] = np.arange(20, 0, -1)
    score, _ = decoded(build(claim(), verdict(contributions)))
    assert [s.index for s in score.slots] == list(range(12))


def test_slots_stop_once_nine_tenths_are_named() -> None:
    contributions = np.zeros(MODEL_SLOTS)
    contributions[:10] = np.arange(10, 0, -1)  # 10 + 9 + ... + 3 = 52 >= 0.9 * 55
    score, _ = decoded(build(claim(), verdict(contributions)))
    assert [s.index for s in score.slots] == list(range(8))


def test_a_night_block_is_named_whole() -> None:
    contributions = np.full(MODEL_SLOTS, 0.001)
    contributions[2:10] = 1.0  # 01:00-05:00
    score, _ = decoded(build(claim(), verdict(contributions)))
    assert sorted(s.index for s in score.slots) == list(range(2, 10))


def test_skipped_dst_slots_are_never_named() -> None:
    # 2013-03-31: 01:00 and 01:30 did not happen; model slots 2 and 3 are interpolated
    built = build(claim(SPRING), loud({2: 3.0, 3: 2.0, 4: 4.0, 5: 1.0}))
    score, alert = decoded(built)
    assert alert is not None
    assert [s.index for s in score.slots] == [4, 5]  # 90 % of what can be named
    assert score.slots[0].start.isoformat() == "2013-03-31T02:00:00+01:00"
    assert score.missing_slots == []
    assert score.window_start == datetime(2013, 3, 31, tzinfo=UTC)
    assert score.window_end == datetime(2013, 3, 31, 23, tzinfo=UTC)
    assert score.window_end.utcoffset() is not None


def test_skipped_dst_slots_do_not_crowd_out_real_ones() -> None:
    built = build(claim(SPRING), loud({2: 9.0, 3: 8.0, 4: 2.0, 5: 1.0}))
    score, alert = decoded(built)
    assert alert is not None
    assert [s.index for s in score.slots][:2] == [4, 5]


def test_the_repeated_hour_is_named_by_its_first_occurrence() -> None:
    score, _ = decoded(build(claim(AUTUMN), loud({2: 9.0, 3: 1.0})))
    assert score.slots[0].index == 2
    assert score.slots[0].start.isoformat() == "2013-10-27T01:00:00+01:00"
    assert score.window_start.isoformat() == "2013-10-27T00:00:00+01:00"
    assert score.window_end.isoformat() == "2013-10-28T00:00:00+00:00"


def test_missing_slots_are_listed_and_null() -> None:
    values = actual()
    values[[0, 17, 47]] = np.nan
    contributions = np.full(MODEL_SLOTS, 0.2)
    contributions[[0, 17, 47]] = 0.0  # scorers give missing slots nothing
    built = build(claim(), verdict(contributions), values)
    score, alert = decoded(built)
    assert alert is not None
    for message in (score, alert):
        assert message.missing_slots == [0, 17, 47]
        assert [i for i, v in enumerate(message.actual) if v is None] == [0, 17, 47]
        assert all(v is not None for v in message.expected)
        assert all(s.actual is not None for s in message.slots)


def test_a_day_with_no_reading_is_all_missing() -> None:
    built = build(claim(), verdict(np.zeros(MODEL_SLOTS)), np.full(MODEL_SLOTS, np.nan))
    score, alert = decoded(built)
    assert alert is None
    assert score.missing_slots == list(range(MODEL_SLOTS))
    assert score.actual == [None] * MODEL_SLOTS
    assert score.slots == []


def test_the_same_inputs_give_the_same_bytes() -> None:
    first = build(claim(revision=1, alert_revision=0, alert_active=True), loud())
    again = build(claim(revision=1, alert_revision=0, alert_active=True), loud())
    assert first.messages == again.messages


# --- the bytes are the models' bytes ----------------------------------------------------------


def _models_bytes(built: BuiltOutputs) -> list[bytes]:
    """Each message validated by its model and dumped again: pydantic's own bytes."""
    out = []
    for role, _, value in built.messages:
        model = WindowScore if role == ROLE_SCORES else Alert
        out.append(model.model_validate_json(value).model_dump_json().encode())
    return out


_zones = st.sampled_from([LONDON, "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
_days = st.dates(min_value=date(2012, 1, 1), max_value=date(2026, 12, 31))
_values = st.floats(min_value=0, max_value=1e7, allow_nan=False) | st.floats(
    min_value=0, max_value=1e-3
)
_conditions = st.dictionaries(
    st.text(min_size=1, max_size=12),
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    zone=_zones,
    day=_days,
    data=st.data(),
    revision=st.integers(0, 5),
    alert_state=st.sampled_from([(-1, False), (0, True), (2, False)]),
    threshold=st.floats(min_value=1e-6, max_value=1e6),
    entity=st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"),
        min_size=1,
        max_size=40,
    ).filter(lambda t: not any("\x80" <= c <= "\x9f" for c in t)),
    detected=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    conditions=_conditions,
    temperature=st.none() | st.floats(-40, 45),
)
def test_the_bytes_are_what_the_models_write(
    zone: str,
    day: date,
    data: st.DataObject,
    revision: int,
    alert_state: tuple[int, bool],
    threshold: float,
    entity: str,
    detected: datetime,
    conditions: dict[str, object],
    temperature: float | None,
) -> None:
    layout = day_layout(day, zone)
    n = layout.n_slots
    values = np.array(data.draw(st.lists(_values | st.just(np.nan), min_size=n, max_size=n)))
    expected = np.array(data.draw(st.lists(_values, min_size=MODEL_SLOTS, max_size=MODEL_SLOTS)))
    contributions = np.array(
        data.draw(st.lists(_values, min_size=MODEL_SLOTS, max_size=MODEL_SLOTS))
    )
    v = Verdict(
        score=float(contributions.sum()),
        threshold=threshold,
        expected=expected,
        contributions=contributions,
        detector="autoencoder",
        model_version="meter-20130301T0400-3",
        conditions=conditions,  # type: ignore[arg-type]
    )
    alert_revision, alert_active = alert_state
    c = Claim(WindowKey("meter", day, entity), "t", revision, alert_revision, alert_active)
    # the model's 48 slots: what the worker hands over (stream.day_windows)
    actual48 = np.resize(values, MODEL_SLOTS)
    built = build_outputs(c, layout, actual48, v, detected_at=detected, temperature_c=temperature)
    assert [value for _, _, value in built.messages] == _models_bytes(built)


@pytest.mark.parametrize("where", ["expected", "contributions", "score", "threshold", "actual"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_number_from_a_scorer_is_refused(where: str, bad: float) -> None:
    if where == "actual" and np.isnan(bad):
        return  # NaN in actual is a missing slot
    values = actual()
    expected = np.full(MODEL_SLOTS, 0.3)
    contributions = np.full(MODEL_SLOTS, 0.01)
    score, threshold = float(contributions.sum()), THRESHOLD
    if where == "actual":
        values[4] = bad
    elif where == "expected":
        expected[4] = bad
    elif where == "contributions":
        contributions[4] = bad
    elif where == "score":
        score = bad
    else:
        threshold = bad
    v = Verdict(score, threshold, expected, contributions, "baseline", "baseline-mad-7d", {})
    with pytest.raises(NonFiniteOutput):
        build(claim(), v, values)


def test_a_non_finite_condition_is_refused() -> None:
    v = replace(quiet(), conditions={"scale": float("nan")})
    with pytest.raises(NonFiniteOutput, match="scale"):
        build(claim(), v)


def test_numpy_scalars_in_conditions_are_written_as_numbers() -> None:
    v = replace(quiet(), conditions={"scale": np.float64(1.5), "days": np.int64(3)})
    built = build(claim(), v)
    score, _ = decoded(built)
    assert score.conditions["scale"] == 1.5 and score.conditions["days"] == 3
    assert [value for _, _, value in built.messages] == _models_bytes(built)


# --- a round at once ---------------------------------------------------------------------


_contribution = st.floats(0, 10) | st.just(0.0) | st.floats(-1, 0)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.lists(_contribution, min_size=MODEL_SLOTS, max_size=MODEL_SLOTS),
            st.lists(st.booleans(), min_size=MODEL_SLOTS, max_size=MODEL_SLOTS),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_top_slots_of_a_round_are_each_windows_own(
    rows: list[tuple[list[float], list[bool]]],
) -> None:
    contributions = np.array([c for c, _ in rows])
    eligible = np.array([e for _, e in rows])
    expected = [
        Verdict(0.0, 1.0, contributions[i], contributions[i], "d", "v", {}).top_slots(
            eligible=eligible[i]
        )
        for i in range(len(rows))
    ]
    assert top_slots(contributions, eligible) == expected


def test_a_round_gives_each_windows_own_messages() -> None:
    days = [DAY, SPRING, AUTUMN, date(2013, 3, 2)]
    items = []
    for n, day in enumerate(days):
        c = claim(day, entity=f"M{n}", revision=n, alert_revision=n - 1, alert_active=n % 2 == 1)
        v = loud({n: 3.0 + n, 20 + n: 1.0}) if n % 2 == 0 else quiet()
        values = actual() + n
        values[n] = np.nan
        items.append(Scored(c, day_layout(day, LONDON), values, v, 5.0 + n))
    one_by_one = [
        build_outputs(
            i.claim,
            i.layout,
            i.actual,
            i.verdict,
            detected_at=DETECTED,
            temperature_c=i.temperature_c,
        )
        for i in items
    ]
    assert build_round(items, DETECTED) == one_by_one
    assert build_round([], DETECTED) == []
