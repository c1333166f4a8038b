"""Ticket sales: a seeded generator of realistic days, and the anomalies injected into them.

No public labelled ticket-sales set exists, so the evaluation makes one.
Each entity is a long-running show (an ``event_id`` whose day of sales is
modelled), 2013, one row of 48 half-hour *amounts* (currency) per day:

* demand: a show's base tickets per day (log-normal across shows) × its
  weekday pattern (Friday and Saturday strongest, Monday weakest) × a slow
  seasonal swing; tickets per half hour are Poisson around it, each at the
  show's mean price with ±15 % noise (tiers, discounts);
* the day's shape: a night trough, a lunchtime bump and an evening peak
  (18:00-22:00) whose height varies by show;
* **on-sale bursts**: every 4-5 weeks (show-specific phase) a new block of
  performances goes on sale at 10:00: two hours at ~10× the usual rate;
* **sell-outs**: on 4 % of days the day's allocation sells out after
  14:00 and nothing more is sold that day. Normal, and it looks like an
  outage: the reason sell-outs are in the data.

Injected (magnitudes low, moderate, high; seeded like the meter ones):

=============  ======================================================  =============
type           change                                                  magnitude
=============  ======================================================  =============
bot_burst      1-3 consecutive half hours + m × the show's typical     m: 5, 10, 20
               half hour (scalper bots buying in bulk)
sales_outage   no sales for h hours starting between 09:00 and 15:00   h: 2, 4, 8
price_error    6 hours sold at the price ÷ k (a missing digit)          k: 2, 4, 10
=============  ======================================================  =============
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from core.days import MODEL_SLOTS
from core.scoring.base import DayWindow
from evaluation.injection import AnomalyType

__all__ = ["TICKET_ANOMALIES", "ticket_windows"]

FloatArray = npt.NDArray[np.float64]
_FIRST, _DAYS = date(2013, 1, 1), 365
_WEEKDAY = np.array([0.7, 0.85, 0.9, 1.0, 1.3, 1.25, 0.9])  # Monday .. Sunday


def _shape(rng: np.random.Generator) -> FloatArray:
    hours = np.arange(MODEL_SLOTS) / 2.0
    lunch = 0.6 * np.exp(-0.5 * ((hours - 12.5) / 1.2) ** 2)
    evening = rng.uniform(1.0, 2.0) * np.exp(-0.5 * ((hours - rng.uniform(19, 21)) / 1.5) ** 2)
    awake = np.where((hours >= 8) & (hours < 24), 0.35, 0.0)
    shape: FloatArray = 0.02 + awake + lunch + evening
    result: FloatArray = shape / shape.mean()
    return result


def _show(rng: np.random.Generator) -> tuple[FloatArray, float]:
    """One show's year: (365, 48) expected tickets per half hour and its mean price."""
    base = float(rng.lognormal(np.log(150), 0.6))  # tickets per day
    days = np.arange(_DAYS)
    weekday = _WEEKDAY[[(_FIRST + timedelta(days=int(d))).weekday() for d in days]]
    season = 1.0 + 0.25 * np.sin(2 * np.pi * (days / 365.0 - rng.uniform()))
    rates = (base / MODEL_SLOTS) * (weekday * season)[:, np.newaxis] * _shape(rng)
    period, phase = int(rng.integers(28, 36)), int(rng.integers(0, 28))
    for day in range(phase, _DAYS, period):  # on sale at 10:00 for two hours
        rates[day, 20:24] += 10.0 * base / MODEL_SLOTS
    return rates, float(rng.uniform(20.0, 120.0))


def ticket_windows(n_shows: int, seed: int) -> list[DayWindow]:
    """Every day of 2013 for ``n_shows`` shows (``EVT-00`` ...), amounts per half hour."""
    windows = []
    for show in range(n_shows):
        rng = np.random.default_rng([seed, show])
        rates, price = _show(rng)
        tickets = rng.poisson(rates).astype(np.float64)
        amounts = tickets * price * np.exp(rng.normal(0.0, 0.15, tickets.shape))
        sold_out = rng.random(_DAYS) < 0.04
        cut = rng.integers(28, MODEL_SLOTS, _DAYS)
        for hit in np.flatnonzero(sold_out):
            amounts[hit, cut[hit] :] = 0.0
        for day in range(_DAYS):
            values = np.round(amounts[day], 2)
            windows.append(
                DayWindow("ticket", f"EVT-{show:02d}", _FIRST + timedelta(days=day), values)
            )
    return windows


def _bot(days: FloatArray, rng: np.random.Generator, m: float, level: float) -> FloatArray:
    out = days.copy()
    length = int(rng.integers(1, 4))
    start = int(rng.integers(0, MODEL_SLOTS - length + 1))
    out[0, start : start + length] += m * level
    return out


def _outage(days: FloatArray, rng: np.random.Generator, hours: float, level: float) -> FloatArray:
    out = days.copy()
    start = int(rng.integers(18, 31))
    out[0, start : start + round(2 * hours)] = 0.0
    return out


def _price(days: FloatArray, rng: np.random.Generator, k: float, level: float) -> FloatArray:
    out = days.copy()
    start = int(rng.integers(16, 31))
    out[0, start : start + 12] /= k
    return out


TICKET_ANOMALIES: tuple[AnomalyType, ...] = (
    AnomalyType(
        "bot_burst", "ticket", (5, 10, 20), "× level", 1, _bot, "1-3 half hours + m × level"
    ),
    AnomalyType("sales_outage", "ticket", (2, 4, 8), "hours", 1, _outage, "no sales for h hours"),
    AnomalyType("price_error", "ticket", (2, 4, 10), "÷ price", 1, _price, "6 hours at price ÷ k"),
)
