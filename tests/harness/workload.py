"""A seeded stream for fault tests: households' days, a few spikes, invalid records.

Everything a fault test later checks the outputs against is kept here: which
(entity, day) windows must be scored, the model-slot values each must carry,
and the exact payloads that must come back as dead letters. Days are in
February (no daylight-saving change), so a day's 48 readings are its 48 model
slots and the expected values are the readings themselves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

import orjson

from harness.days import LONDON, days, meter_day

FIRST_DAY = date(2013, 2, 1)
SPIKE = dict.fromkeys(range(2, 10), 5.0)  # 01:00-05:00: a heater left on

Message = tuple[bytes | None, bytes]


def _invalid(n: int) -> bytes:
    """The ``n``-th invalid record: unique bytes, one of several ways to be wrong."""
    ts = "2013-02-01T00:00:00Z"
    bad = [
        f"not json {n}".encode(),
        orjson.dumps({"meter_id": f"BAD{n}", "ts": ts, "kwh": -1}),  # negative
        orjson.dumps({"meter_id": f"BAD{n}", "ts": "2013-02-01T00:10:00Z", "kwh": 1}),  # unaligned
        orjson.dumps({"meter_id": f"BAD{n}", "ts": "2013-02-01T00:00:00", "kwh": 1}),  # naive
        f'{{"meter_id": "BAD{n}", "ts": "{ts}", "kwh": NaN}}'.encode(),
        orjson.dumps({"meter_id": f"BAD{n}", "ts": ts}),  # kwh missing
    ]
    return bad[n % len(bad)]


@dataclass
class MeterWorkload:
    """``households`` × ``n_days`` complete days, in event-time order (day by day,
    as a live feed arrives), one in ``invalid_every`` records an invalid one.

    A third of the records go unkeyed (the contract: correctness must not
    depend on the key), so one window's readings land on several partitions.
    """

    households: int
    n_days: int
    seed: int = 7
    invalid_every: int = 500
    spike_share: float = 0.1  # of the households, one spike day each (after a week)
    timezone: str = LONDON
    messages: list[Message] = field(init=False)
    expected: dict[tuple[str, str], list[float]] = field(init=False)  # model slot values
    invalid: set[bytes] = field(init=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        entities = [f"MAC{n:06d}" for n in range(self.households)]
        spikes = {
            e: FIRST_DAY.toordinal() + rng.randrange(8, max(9, self.n_days))
            for e in rng.sample(entities, int(len(entities) * self.spike_share))
        }
        self.messages, self.expected, self.invalid = [], {}, set()
        for day in days(FIRST_DAY, self.n_days):
            for n, entity in enumerate(entities):
                extra = SPIKE if spikes.get(entity) == day.toordinal() else None
                readings = meter_day(entity, day, timezone=self.timezone, seed=n, extra=extra)
                self.expected[(entity, day.isoformat())] = [r["kwh"] for r in readings]
                for r in readings:
                    self._add(None if len(self.messages) % 3 == 0 else entity.encode(), r)

    def _add(self, key: bytes | None, reading: dict[str, object]) -> None:
        if len(self.messages) % self.invalid_every == self.invalid_every - 1:
            payload = _invalid(len(self.invalid))
            self.invalid.add(payload)
            self.messages.append((b"BAD", payload))
        self.messages.append((key, orjson.dumps(reading)))

    @property
    def readings(self) -> int:
        return len(self.messages) - len(self.invalid)

    def chunks(self, n: int) -> list[list[Message]]:
        """The stream cut into ``n`` consecutive parts (to produce while faults happen)."""
        size = -(-len(self.messages) // n)
        return [self.messages[i : i + size] for i in range(0, len(self.messages), size)]
