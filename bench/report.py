"""The suite's table, printed from its results (the same dict as the JSON file)."""

from __future__ import annotations

from typing import Any

__all__ = ["table"]

NO_GPU = "not measured (no GPU)"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    machine, data = results["machine"], results["dataset"]
    add(f"machine: {machine['platform']}, {machine['cpus']} CPUs, python {machine['python']}")
    add(f"messages: {data['readings']:,} readings, {data['windows']:,} windows")
    if "throughput" in results:
        t = results["throughput"]
        rates, runs = t["events_per_s"], t["runs"]
        repeats = len(runs["a"])
        add("")
        add(f"throughput, events/s (median of {repeats})")
        labels = {
            "a": "(a) ceiling: aiokafka getmany + orjson",
            "b": "(b) baseline: Faust agent, validate + 1 Redis write/event",
            "b0": "    Faust agent doing nothing (reference)",
            "c": "(c) anomstream worker, single-reading messages",
            "d": "(d) anomstream worker, bulk messages (48 readings each)",
        }
        for key, label in labels.items():
            if key in rates:
                each = ", ".join(_rate(r) for r in runs[key])
                add(f"  {label:58s} {_rate(rates[key]):>10s}   [{each}]")
        add(f"  ratio c/a {t['ratio_c_a']:.3f}   (target >= 0.3)")
        add(f"  ratio c/b {t['ratio_c_b']:.1f}     (target >= 10)")
        add(f"  ratio d/a {t['ratio_d_a']:.3f}")
        worker = t["worker"]
        for key in ("c", "d"):
            trips = [r["round_trips_per_event"] for r in worker[key]]
            add(f"  Redis round trips/event, ({key}) catching up: {max(trips):.4f} (worst run)")
    if "latency" in results:
        lat = results["latency"]
        add("")
        add(f"latency, last reading -> message on the topic, steady {lat['rate']:,} events/s")
        for name in ("score", "alert"):
            s = lat[name]
            add(
                f"  {name:6s} n={s['n']:<5d} p50 {_ms(s['p50_ms']):>9s}  p99 {_ms(s['p99_ms']):>9s}"
                f"  max {_ms(s['max_ms']):>9s}   (target p99 < 100 ms)"
            )
        add(f"  Redis round trips/event at that rate: {lat['round_trips_per_event']:.4f}")
    if "memory" in results:
        m = results["memory"]
        add("")
        add(
            f"memory: {m['open_windows']:,} open windows ({m['slots_filled']} slots each): "
            f"{m['bytes_per_window']:,.0f} bytes/window in Redis ({m['hash_encoding']})"
        )
    if "model" in results:
        add("")
        add("model, windows/s (CPU, 1 torch thread)")
        for row in results["model"]["inference"]:
            if row["what"] == "score()":
                rate = _rate(row["windows_per_s"])
                add(f"  inference {row['device']:4s} batch {row['batch']:<5d}      {rate:>12s}")
        for row in results["model"]["training"]:
            rate = _rate(row["windows_per_s"])
            add(f"  training  {row['device']:4s} {row['precision']:18s} {rate:>10s}")
        if not results["model"]["cuda"]:
            add(f"  GPU inference and training (fp32 vs AMP): {NO_GPU}")
    return "\n".join(lines)
