"""The benchmark's input: deterministic household days, in both message forms.

``households`` meters, ``days`` complete UTC days each, as a live stream or a
replay sorted by time delivers them: half hour by half hour, every meter's
reading of that half hour in turn. Every window therefore closes by being
complete, at its day's last reading, and all of a day's windows are open at
once. About 3 % of the days have a heater left on at night (the anomalies
that make alerts). The bulk form carries the same readings, one message per
meter and day.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import orjson

from core.scoring.base import DayWindow

__all__ = ["FIRST_DAY", "Dataset", "day_windows", "meter_id"]

FIRST_DAY = date(2013, 3, 1)
SLOTS = 48
ANOMALY_RATE = 0.03
_PROFILE = np.array(
    [
        0.15 + 0.25 * math.exp(-((s / 2 - 8) ** 2) / 3) + 0.45 * math.exp(-((s / 2 - 19) ** 2) / 4)
        for s in range(SLOTS)
    ]
)


def meter_id(n: int) -> str:
    return f"MAC{n:06d}"


def _day_values(rng: np.random.Generator, scale: float) -> tuple[np.ndarray, bool]:
    values = scale * _PROFILE * rng.lognormal(0.0, 0.15, SLOTS)
    anomalous = bool(rng.random() < ANOMALY_RATE)
    if anomalous:
        values[2:10] += 3.0 * scale  # 01:00-05:00
    return np.round(values, 4), anomalous


@dataclass(frozen=True, slots=True)
class Dataset:
    households: int
    days: int
    first_day: date = FIRST_DAY
    seed: int = 20130301

    @property
    def readings(self) -> int:
        return self.households * self.days * SLOTS

    @property
    def windows(self) -> int:
        return self.households * self.days

    def _values(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """kWh (households, days, 48), anomalous (households, days), temperature (days, 48)."""
        # a household's size depends on its id alone: training days and test days agree
        scales = np.random.default_rng(1).lognormal(0.0, 0.4, self.households)
        rng = np.random.default_rng(self.seed)
        kwh = np.empty((self.households, self.days, SLOTS))
        anomalous = np.zeros((self.households, self.days), dtype=bool)
        for h in range(self.households):
            for d in range(self.days):
                kwh[h, d], anomalous[h, d] = _day_values(rng, float(scales[h]))
        temperature = np.round(8 + 4 * np.sin(np.arange(self.days * SLOTS) / 7.6), 1)
        return kwh, anomalous, temperature.reshape(self.days, SLOTS)

    def _ts(self, day: int, slot: int) -> str:
        start = datetime.combine(self.first_day, datetime.min.time(), UTC)
        return (start + timedelta(days=day, minutes=30 * slot)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def single(self) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) of every reading, one message each, in time order."""
        kwh, _, temperature = self._values()
        ids = [meter_id(h).encode() for h in range(self.households)]
        for d in range(self.days):
            for s in range(SLOTS):
                ts, temp = self._ts(d, s), float(temperature[d, s])
                for h, key in enumerate(ids):
                    yield (
                        key,
                        orjson.dumps(
                            {
                                "meter_id": key.decode(),
                                "ts": ts,
                                "kwh": float(kwh[h, d, s]),
                                "temperature_c": temp,
                            }
                        ),
                    )

    def bulk(self) -> Iterator[tuple[bytes, bytes]]:
        """The same readings, one bulk message per meter and day, days in order."""
        kwh, _, temperature = self._values()
        for d in range(self.days):
            times = [self._ts(d, s) for s in range(SLOTS)]
            for h in range(self.households):
                readings = [
                    {"ts": times[s], "kwh": float(kwh[h, d, s]), "temperature_c": float(t)}
                    for s, t in enumerate(temperature[d])
                ]
                yield (
                    meter_id(h).encode(),
                    orjson.dumps({"meter_id": meter_id(h), "readings": readings}),
                )

    def anomalous_windows(self) -> set[tuple[str, str]]:
        _, anomalous, _ = self._values()
        return {
            (meter_id(h), (self.first_day + timedelta(days=d)).isoformat())
            for h, d in zip(*np.nonzero(anomalous), strict=True)
        }


def day_windows(households: int, days: int, *, before: date = FIRST_DAY) -> list[DayWindow]:
    """Normal training days of the same households, ending the day before ``before``."""
    data = Dataset(households, days, before - timedelta(days=days), seed=7)
    kwh, anomalous, temperature = data._values()
    return [
        DayWindow(
            "meter",
            meter_id(h),
            data.first_day + timedelta(days=d),
            kwh[h, d],
            temperature_c=float(temperature[d].mean()),
        )
        for h in range(households)
        for d in range(days)
        if not anomalous[h, d]
    ]
