"""Store throughput on this machine: ``python -m benchmarks.bench_storage [N] [--dir DIR]``.

Prints one table: events/s for N events (default 100 000) written in one batch, in service-sized batches
(a commit per 2 000 events, i.e. ~2 s of a very busy home) with ``mark_seen`` per event as the service
does, a per-sensor day query, prune, and the file size per event. Run it on the Pi's SD card with
``--dir`` to see the real figures; a laptop's SSD is far faster.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.storage import Store
from sensors.events import SensorEvent, SensorKind

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_events(n: int, sensors: int = 24) -> list[SensorEvent]:
    """``n`` events ~9 s apart over ``sensors`` devices: doors and beds (bool) and plugs (watts)."""
    out = []
    for i in range(n):
        sid = f"0x00158d00{i % sensors:08x}"
        if i % sensors < 8:
            out.append(SensorEvent(T0 + timedelta(seconds=9 * i), sid, SensorKind.PLUG, float(i % 2400), "zigbee2mqtt"))
        else:
            out.append(SensorEvent(T0 + timedelta(seconds=9 * i), sid, SensorKind.CONTACT, bool(i % 2), "zigbee2mqtt"))
    return out


def run(n: int, folder: Path) -> list[tuple[str, float, str]]:
    events = make_events(n)
    rows: list[tuple[str, float, str]] = []

    path = folder / "one_batch.sqlite3"
    with Store(path) as s:
        t = time.perf_counter()
        s.add_events(events)
        s.commit()
        dt = time.perf_counter() - t
    rows.append((f"add_events({n}) + commit", n / dt, "events/s"))
    size = path.stat().st_size + (Path(f"{path}-wal").stat().st_size if Path(f"{path}-wal").exists() else 0)
    rows.append(("file size per event", size / n, "bytes"))

    path = folder / "service_batches.sqlite3"
    with Store(path, retention_days=7) as s:
        t = time.perf_counter()
        for start in range(0, n, 2000):
            chunk = events[start:start + 2000]
            for k in range(0, len(chunk), 20):  # ~20 events per MQTT flush
                s.add_events(chunk[k:k + 20])
                for e in chunk[k:k + 20]:
                    s.mark_seen(e.sensor_id, e.time)
            s.commit()
        dt = time.perf_counter() - t
        rows.append(("batches of 2000, mark_seen each", n / dt, "events/s"))

        day = events[n // 2].time
        t = time.perf_counter()
        reps = 50
        for _ in range(reps):
            got = s.events(since=day, until=day + timedelta(days=1), sensor_id=events[0].sensor_id)
        rows.append((f"events(sensor, 1 day) -> {len(got)} rows", reps / (time.perf_counter() - t), "queries/s"))

        t = time.perf_counter()
        removed = s.prune(events[-1].time)
        s.commit()
        dt = time.perf_counter() - t
        rows.append((f"prune 7-day retention ({removed} removed)", removed / dt if dt else 0.0, "events/s"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, help="folder for the test files (default: a temporary folder)")
    args = ap.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        rows = run(args.n, args.dir)
    else:
        with tempfile.TemporaryDirectory() as d:
            rows = run(args.n, Path(d))
    width = max(len(r[0]) for r in rows)
    print(f"{'storage benchmark':<{width}}  {'value':>12}  unit")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>12,.0f}  {unit}")


if __name__ == "__main__":
    main()
