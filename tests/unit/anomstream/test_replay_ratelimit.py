"""``--rate``: the token bucket's schedule, computed on a simulated clock (no sleeping)."""

from __future__ import annotations

import pytest

from anomstream.replay.ratelimit import TokenBucket


def simulate(
    bucket: TokenBucket, messages: int, *, per_call: int = 1, overshoot: float = 0.0
) -> list[float]:
    """Send times of ``messages`` when every wait is slept (plus ``overshoot`` each)."""
    now, times = 0.0, list[float]()
    for _ in range(0, messages, per_call):
        delay = bucket.reserve(per_call, now)
        if delay > 0:
            now += delay + overshoot
        times.extend([now] * per_call)
    return times


def test_messages_are_evenly_spaced_at_the_rate() -> None:
    times = simulate(TokenBucket(10.0), 6)
    assert times == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_the_long_run_rate_is_exact_even_when_sleeps_overshoot() -> None:
    times = simulate(TokenBucket(100.0), 1001, overshoot=0.003)
    rate = 1000 / (times[-1] - times[0])
    assert rate == pytest.approx(100.0, rel=0.01)


def test_high_rates_go_in_small_groups_of_a_fiftieth_of_a_second() -> None:
    bucket = TokenBucket(10_000.0)
    assert bucket.batch == 200
    times = simulate(bucket, 10_000, per_call=bucket.batch)
    assert times[0] == 0.0
    assert times[-1] == pytest.approx(0.98)  # 50 groups, 20 ms apart, the first at once
    assert len(set(times)) == 50


def test_an_idle_spell_saves_up_at_most_one_burst() -> None:
    bucket = TokenBucket(10.0, burst=2)
    assert bucket.reserve(2, 0.0) == 0.0
    # 100 s idle: only 2 tokens saved, so the third message of the next burst waits
    assert bucket.reserve(2, 100.0) == 0.0
    assert bucket.reserve(1, 100.0) == pytest.approx(0.1)


def test_low_rates_send_one_at_a_time() -> None:
    bucket = TokenBucket(0.5)
    assert bucket.batch == 1
    assert simulate(bucket, 3) == pytest.approx([0.0, 2.0, 4.0])


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate)
