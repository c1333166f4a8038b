"""The demo's data: real London households with a few documented anomalies.

``london_sample.csv.gz`` holds ten households of the Low Carbon London
smart-meter trial (UK Power Networks, "SmartMeter Energy Consumption Data in
London Households", London Datastore), 1 January to 31 March 2013, kWh per
half hour, timestamps in UTC (GMT in those months). Into four real days the
demo injects one anomaly each, as a faulty meter or an unusual household
would show it:

=====================  =========  ==========  =======================================
anomaly                household  day         change
=====================  =========  ==========  =======================================
spike                  MAC000003  2013-03-05  18:00-20:00 (4 half hours) × 6
dead meter             MAC000009  2013-03-12  0 kWh all day
night-time load        MAC000007  2013-02-26  +2.5 kWh each half hour 01:00-05:00
doubled day            MAC000008  2013-03-20  every half hour × 2
=====================  =========  ==========  =======================================

Every reading carries the outside temperature of its hour (``temperature_c``,
the contract's optional condition), as a producer with a weather feed
would send it: ``london_weather_2013q1.csv.gz`` is the hourly London
temperature of 31 December 2012 to 1 April 2013 from the weather file that
ships with the same data set (Dark Sky, as in the Kaggle "Smart meters in
London" set). With it the model knows that March 2013, the coldest in
England since 1962, was cold (docs/QUALITY.md, the demo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["INJECTIONS", "TRAIN_UNTIL", "Injection", "load_sample", "readings"]

TRAIN_UNTIL = date(2013, 2, 15)  # the first model learns from the days before this


@dataclass(frozen=True, slots=True)
class Injection:
    name: str
    meter_id: str
    day: date
    change: str
    apply: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (kwh, slot index) -> kwh


def _spike(kwh: np.ndarray, slot: np.ndarray) -> np.ndarray:
    return np.where((slot >= 36) & (slot < 40), kwh * 6, kwh)


def _dead(kwh: np.ndarray, slot: np.ndarray) -> np.ndarray:
    return np.zeros_like(kwh)


def _night(kwh: np.ndarray, slot: np.ndarray) -> np.ndarray:
    return np.where((slot >= 2) & (slot < 10), kwh + 2.5, kwh)


def _doubled(kwh: np.ndarray, slot: np.ndarray) -> np.ndarray:
    return kwh * 2


INJECTIONS = (
    Injection("spike", "MAC000003", date(2013, 3, 5), "18:00-20:00 × 6", _spike),
    Injection("dead meter", "MAC000009", date(2013, 3, 12), "0 kWh all day", _dead),
    Injection("night-time load", "MAC000007", date(2013, 2, 26), "+2.5 kWh 01:00-05:00", _night),
    Injection("doubled day", "MAC000008", date(2013, 3, 20), "× 2 all day", _doubled),
)


def _hourly_temperatures() -> pd.Series:
    """UTC hour -> °C, from the bundled weather file."""
    with (
        resources.files("anomstream.demo").joinpath("london_weather_2013q1.csv.gz").open("rb") as f
    ):
        weather = pd.read_csv(f, compression="gzip")
    hours = pd.to_datetime(weather["time"], format="%Y-%m-%d %H:%M:%S", utc=True)
    return pd.Series(weather["temperature"].to_numpy(dtype=float), index=hours)


def load_sample() -> pd.DataFrame:
    """The bundled readings with the injections applied, in time order."""
    with resources.files("anomstream.demo").joinpath("london_sample.csv.gz").open("rb") as f:
        frame = pd.read_csv(f, compression="gzip")
    frame["ts"] = pd.to_datetime(frame["tstp"], utc=True)
    frame["day"] = frame["ts"].dt.date
    slot = (frame["ts"].dt.hour * 2 + frame["ts"].dt.minute // 30).to_numpy(copy=True)
    kwh = frame["energy_kwh_hh"].to_numpy(dtype=float, copy=True)
    for injection in INJECTIONS:
        rows = ((frame["LCLid"] == injection.meter_id) & (frame["day"] == injection.day)).to_numpy()
        kwh[rows] = injection.apply(kwh[rows], slot[rows])
    frame["kwh"] = np.round(kwh, 4)
    frame["temperature_c"] = frame["ts"].dt.floor("h").map(_hourly_temperatures())
    return frame.sort_values(["ts", "LCLid"], kind="stable").reset_index(drop=True)


def readings(frame: pd.DataFrame) -> Iterator[dict[str, object]]:
    """Contract messages (``meter-readings``) for the rows of ``frame``, with the
    hour's temperature where the weather file has one."""
    stamps = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    temperatures = frame["temperature_c"] if "temperature_c" in frame else [None] * len(frame)
    rows = zip(frame["LCLid"], stamps, frame["kwh"], temperatures, strict=True)
    for meter_id, ts, kwh, temperature in rows:
        message: dict[str, object] = {"meter_id": meter_id, "ts": ts, "kwh": float(kwh)}
        if temperature is not None and np.isfinite(temperature):
            message["temperature_c"] = float(temperature)
        yield message
