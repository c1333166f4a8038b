"""Day windows from the London smart-meter file (tests, benchmarks, offline training).

The file (``LCLid,tstp,energy_kwh_hh``, ``tstp`` the UTC start of the half
hour) becomes one :class:`~core.scoring.base.DayWindow` per household and
*local* day in ``timezone``, through :mod:`core.days`, exactly as the stream
worker builds them: in Europe/London, 2013-03-31 has 46 real slots and
2013-10-27 has 50, both mapped to 48 model slots. Absent rows are missing
slots (NaN); a day with no row at all is not a window. Temperatures, when a
weather file is given (``time,temperature,...``, hourly, read as UTC), are
the mean of the local day's hours.

Data: UK Power Networks, "SmartMeter Energy Consumption Data in London
Households" (Low Carbon London trial), London Datastore.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from core.days import day_layout
from core.history import with_history
from core.scoring.base import DayWindow

__all__ = ["load_london_windows"]

_SLOT_SECONDS = 1800
_EPOCH = pd.Timestamp(0, tz="UTC")


def _daily_temperatures(path: Path, timezone: str) -> dict[date, float]:
    weather = pd.read_csv(path, usecols=["time", "temperature"])
    times = pd.to_datetime(weather["time"], format="%Y-%m-%d %H:%M:%S", utc=True)
    days = times.dt.tz_convert(timezone).dt.date
    means = weather["temperature"].groupby(days).mean()
    return {day: float(value) for day, value in means.items() if np.isfinite(value)}


def load_london_windows(
    path: Path | str,
    *,
    households: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    timezone: str = "Europe/London",
    weather_path: Path | str | None = None,
    history_days: int = 0,
    kind: str = "meter",
) -> list[DayWindow]:
    """Windows for ``households`` (all when ``None``) and local days in [start, end).

    Ordered by household, then day. ``history_days`` > 0 fills each window's
    ``history`` with that many preceding windows of the same household.
    """
    frame = pd.read_csv(path, dtype={"LCLid": "string", "energy_kwh_hh": "float64"})
    if households is not None:
        frame = frame[frame["LCLid"].isin(list(households))]
    stamps = pd.to_datetime(frame["tstp"], format="%Y-%m-%d %H:%M:%S", utc=True)
    frame = frame.assign(
        seconds=(stamps - _EPOCH) // pd.Timedelta(seconds=1),
        day=stamps.dt.tz_convert(timezone).dt.date,
    )
    if start is not None:
        frame = frame[frame["day"] >= start]
    if end is not None:
        frame = frame[frame["day"] < end]
    # Last value wins for a repeated (meter, ts), as in the stream.
    frame = frame.drop_duplicates(["LCLid", "seconds"], keep="last")
    frame = frame.sort_values(["LCLid", "seconds"], kind="stable")
    temperatures = _daily_temperatures(Path(weather_path), timezone) if weather_path else {}

    # Plain numpy over sorted rows: a pandas groupby costs ~0.3 ms per group.
    entities = frame["LCLid"].to_numpy()
    days = frame["day"].to_numpy()
    seconds = frame["seconds"].to_numpy(dtype=np.int64)
    kwh = frame["energy_kwh_hh"].to_numpy(dtype=np.float64)
    breaks = np.flatnonzero((entities[1:] != entities[:-1]) | (days[1:] != days[:-1])) + 1
    windows: list[DayWindow] = []
    for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(frame)], strict=True):
        if lo == hi:
            continue
        layout = day_layout(days[lo], timezone)
        slots = (seconds[lo:hi] - int(layout.start.timestamp())) // _SLOT_SECONDS
        real = np.full(layout.n_slots, np.nan)
        real[slots] = kwh[lo:hi]
        values, _ = layout.to_model(real)
        day = days[lo]
        windows.append(
            DayWindow(kind, str(entities[lo]), day, values, temperature_c=temperatures.get(day))
        )
    return with_history(windows, history_days) if history_days > 0 else windows
