"""``--rate N``: a token bucket that spaces messages evenly at N per second.

Pure arithmetic on a clock passed in, so its schedule is tested without
sleeping. The bucket holds at most ``burst`` tokens (by default 1/50 of a
second's worth, at least one): after an idle spell the sender may catch up
by that much, never by a large burst, so the rate stays smooth at every
scale a consumer can observe, and sleeps stay long enough (>= 20 ms at high
rates) for the event loop to keep them accurate.
"""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; starts full."""

    def __init__(self, rate: float, *, burst: float | None = None, now: float = 0.0) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.burst = max(1.0, rate / 50) if burst is None else burst
        if self.burst < 1:
            raise ValueError("burst must be >= 1")
        self._tokens = self.burst
        self._last = now

    @property
    def batch(self) -> int:
        """How many messages to take at once: what the bucket can hold."""
        return max(1, int(self.burst))

    def reserve(self, count: int, now: float) -> float:
        """Take ``count`` tokens at time ``now``; the seconds to wait before using them.

        Tokens may go into debt: the caller sleeps the returned delay, and the
        next reservation starts from that debt, so the long-run rate is exact
        however the sleeps overshoot.
        """
        elapsed = max(0.0, now - self._last)
        self._last = max(self._last, now)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate) - count
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate
