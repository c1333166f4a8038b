"""The demo's readings: the bundled households, the injections, the hour's temperature."""

from __future__ import annotations

import itertools

from anomstream.demo.sample import load_sample, readings


def test_every_reading_carries_its_hours_temperature() -> None:
    frame = load_sample()
    assert frame["temperature_c"].notna().all()
    first = next(readings(frame))
    assert first == {
        "meter_id": "MAC000003",
        "ts": "2013-01-01T00:00:00Z",
        "kwh": 1.966,
        "temperature_c": 7.01,  # 2013-01-01 00:00 UTC in the weather file
    }
    # the two half hours of an hour share its temperature
    pair = list(itertools.islice(readings(frame[frame["LCLid"] == "MAC000003"]), 2))
    assert pair[0]["temperature_c"] == pair[1]["temperature_c"]


def test_readings_without_a_temperature_column_have_none() -> None:
    frame = load_sample().drop(columns="temperature_c").head(3)
    assert all("temperature_c" not in message for message in readings(frame))
