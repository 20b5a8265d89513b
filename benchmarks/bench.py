"""``hearth bench``: speed and memory of the routine core against its ceiling and the generic models.

Everything is measured in ONE run on the same events (recorded home C reordered into a long
stream when ../shared/data is there, else the generated home), so the ratios are fair even on a
noisy shared machine:

- ``parse``: reading EVENTS.csv with :func:`sensors.replay.read_events_csv` alone: the ceiling;
- ``core``: :func:`routines.replay.replay` on in-memory events: RoutineEngine learning and detecting,
  with the minute ticks of the simulated clock;
- ``hst``: river HalfSpaceTrees ``score_one`` + ``learn_one`` per event (one-hot group + hour);
- ``iforest``: scikit-learn IsolationForest scoring one event at a time (a small sample, extrapolated);
- ``memory``: the engine's traced Python allocations and its checkpoint size for one person;
- ``replay``: ``hearth replay`` as a subprocess on a million-event file, process start included;
- ``quiet home``: the same on a quiet home's long file (:mod:`benchmarks.sparse`: about 4,700 days of
  200-500 events a day, where the per-day work counts): its parse alone, ``hearth replay`` end to end, the
  ratio of the two times, and what one day-end (rollover: learning the day, refreshing the limits) costs.
"""

from __future__ import annotations

import gc
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from benchmarks.homes import DEFAULT_DATA, Event, RecordedHome, aware, load_home, write_events_csv
from benchmarks.slots import sensor_groups
from benchmarks.streams import build_streams, profile
from benchmarks.synthetic import synthetic_home

TARGETS = {"core_events_per_s": 200_000, "core_vs_hst": 4.0, "mb_per_person": 5.0,
           "replay_events_per_s": 100_000, "quiet_replay_events_per_s": 150_000, "quiet_replay_vs_parse": 11.0}
AT_MOST = frozenset({"memory per person", "quiet home: replay time / parse time"})  # lower is better


def long_stream(home: RecordedHome, n_events: int, seed: int = 1) -> list[Event]:
    """At least ``n_events`` events of ``home`` by reordering whole days (cut to ``n_events``)."""
    p = profile(home)
    per_day = max(1, len(home.events) // max(1, len(p.days)))
    clean, _, _ = build_streams(p, 1, max(2, math.ceil(n_events / per_day * 1.2)), seed, kinds=())
    return clean.events[:n_events]


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def bench_parse(csv_path: Path, home) -> tuple[float, int]:
    from sensors.replay import read_events_csv

    t0 = time.perf_counter()
    n = sum(1 for _ in read_events_csv(csv_path, home))
    return _rate(n, time.perf_counter() - t0), n


def bench_core(home, events: list[Event]) -> tuple[float, int]:
    from routines.replay import replay
    from sensors.events import SensorEvent

    tz = home.tz
    kinds = {s.id: s.kind for s in home.sensors}
    evs = [SensorEvent(aware(t, tz), sid, kinds[sid], on, "replay") for t, sid, on in events]
    gc.collect()
    t0 = time.perf_counter()
    n_alerts = sum(1 for _ in replay(home, evs))
    return _rate(len(evs), time.perf_counter() - t0), n_alerts


def bench_memory(home, events: list[Event]) -> dict[str, float]:
    """Traced allocations held by one engine after the stream, and its checkpoint size (one person)."""
    from routines.engine import RoutineEngine
    from routines.replay import replay_into

    rows = [(aware(t, home.tz).timestamp(), sid, on) for t, sid, on in events]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    engine = RoutineEngine(home)
    for _ in replay_into(engine, rows):
        pass
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    people = max(1, len(home.people))
    return {"traced_mb_per_person": held / 1e6 / people,
            "checkpoint_kb_per_person": len(engine.checkpoint()) / 1e3 / people}


def _event_features(home: RecordedHome, events: list[Event]) -> list[dict[str, float]]:
    groups = sensor_groups(home)
    names = sorted(set(groups.values()))
    out = []
    for t, sid, on in events:
        x = dict.fromkeys(names, 0.0)
        x[groups[sid]] = 1.0 if on else 0.5
        hour = (t % 86_400) / 3600
        x["hour_sin"] = (math.sin(2 * math.pi * hour / 24) + 1) / 2
        x["hour_cos"] = (math.cos(2 * math.pi * hour / 24) + 1) / 2
        out.append(x)
    return out


def bench_hst(home: RecordedHome, events: list[Event], n: int = 20_000) -> float:
    from river.anomaly import HalfSpaceTrees

    xs = _event_features(home, events[:n])
    model = HalfSpaceTrees(seed=1)  # river defaults: 10 trees, height 8, window 250
    t0 = time.perf_counter()
    for x in xs:
        model.score_one(x)
        model.learn_one(x)
    return _rate(len(xs), time.perf_counter() - t0)


def bench_iforest(home: RecordedHome, events: list[Event], n_fit: int = 5_000, n_score: int = 300) -> float:
    import numpy as np
    from sklearn.ensemble import IsolationForest

    xs = _event_features(home, events[:n_fit + n_score])
    keys = list(xs[0])
    arr = np.array([[x[k] for k in keys] for x in xs])
    model = IsolationForest(n_estimators=100, random_state=1).fit(arr[:n_fit])
    sample = arr[n_fit:]
    t0 = time.perf_counter()
    for row in sample:
        model.score_samples(row.reshape(1, -1))
    return _rate(len(sample), time.perf_counter() - t0)


def bench_replay_cli(config: Path, csv_path: Path, n: int, workdir: Path) -> tuple[float | None, str]:
    """``hearth replay`` end to end in a fresh process; (events/s, note).

    Run as ``python -m gateway.cli`` from the checkout this bench lives in, never the ``hearth`` script on
    PATH: an editable install points that at whichever checkout was installed, so a worktree would time
    another branch's code."""
    cmd = [sys.executable, "-m", "gateway.cli", "replay", "--config", str(config), "--events", str(csv_path),
           "--alerts-out", str(workdir / "alerts.jsonl")]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[1])
    took = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    if proc.returncode != 0:
        return None, f"hearth replay failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-200:]}"
    return _rate(n, took), f"{n:,} events in {took:.1f} s ({cpu:.1f} s of CPU)"


def bench_quiet_parse(csv_path: Path, home) -> tuple[float, float]:
    """(events/s, seconds) of :func:`sensors.replay.read_rows` alone: the parsing ``hearth replay`` does."""
    from sensors.replay import read_rows

    gc.collect()
    t0 = time.perf_counter()
    n = sum(1 for _ in read_rows(csv_path, home))
    took = time.perf_counter() - t0
    return _rate(n, took), took


def bench_day_end(home, csv_path: Path, max_days: int = 1_000, clock: Callable[[], float] = time.process_time,
                  ) -> tuple[float, int]:
    """(mean ms per day-end, day-ends timed) replaying the first ``max_days`` days of ``csv_path`` in process.

    Times the engine's whole rollover (settling the day, learning it, refreshing every limit, starting the
    next), which a quiet home pays as often as a busy one. In CPU time of this process by default: on a
    shared machine a millisecond of wall time is mostly other people's work."""
    from routines.engine import RoutineEngine
    from routines.replay import replay_into
    from sensors.replay import read_rows

    engine = RoutineEngine(home)
    rollover = engine._rollover
    spent = [0.0, 0]

    def timed() -> list:
        t0 = clock()
        try:
            return rollover()
        finally:
            spent[0] += clock() - t0
            spent[1] += 1

    engine._rollover = timed  # type: ignore[method-assign]  # an instance attribute: only this engine
    first: list[float] = []

    def rows():
        for t, sid, _kind, value in read_rows(csv_path, home):
            if not first:
                first.append(t)
            elif t - first[0] > max_days * 86_400:
                return
            yield t, sid, value

    for _ in replay_into(engine, rows()):
        pass
    return (1000 * spent[0] / spent[1] if spent[1] else math.nan), spent[1]


def quiet_rows(data: Path | str | None, row: Callable[..., None], echo: Callable[[str], None]) -> None:
    """The quiet home's rows: parse alone, ``hearth replay`` end to end, their ratio, the day-end cost."""
    from benchmarks.sparse import quiet_home_csv

    t0 = time.perf_counter()
    source, csv_path, n = quiet_home_csv(data)
    days = len({t // 86_400 for t, _, _ in source.events})
    echo(f"[quiet home: {source.name} ({len(source.events) / max(1, days):.0f} events a recorded day), "
         f"{n:,} events in {csv_path} ({time.perf_counter() - t0:.0f} s to load or make)]")
    home = source.to_home()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-quiet-") as tmp:
        work = Path(tmp)
        config = work / "home.yaml"
        config.write_text(source.config_yaml(), encoding="utf-8")
        parse, parse_s = bench_quiet_parse(csv_path, home)
        rate, note = bench_replay_cli(config, csv_path, n, work)
    row("quiet home: parse EVENTS.csv", parse, "events/s", note=f"sensors.replay.read_rows, {parse_s:.1f} s")
    row("quiet home: hearth replay end to end", rate, "events/s", TARGETS["quiet_replay_events_per_s"], note)
    row("quiet home: replay time / parse time", parse / rate if rate else None, "x",
        TARGETS["quiet_replay_vs_parse"], "same file, same run")
    ms, n_days = bench_day_end(home, csv_path)
    row("quiet home: one day-end", ms, "ms", note=f"mean of {n_days} rollovers, CPU time, in process")


def run_bench(data: Path | str | None = DEFAULT_DATA, events: int = 200_000, replay_events: int = 1_000_000,
              echo: Callable[[str], None] = print, quiet: bool = True) -> list[dict]:
    """Measure everything; return the rows of the table (metric, value, target, verdict)."""
    data_ok = data is not None and Path(data).is_dir()
    source = load_home("vk2010-C", data) if data_ok else synthetic_home(days=400, seed=1)
    home = source.to_home()
    rows: list[dict] = []

    def row(metric: str, value: float | None, unit: str, target: float | None = None, note: str = "") -> None:
        rows.append({"metric": metric, "value": value, "unit": unit, "target": target,
                     "verdict": verdict(metric, value, target), "note": note})

    stream = long_stream(source, max(events, replay_events))
    sample = stream[:events]
    echo(f"[bench: {source.name}, {len(sample):,} events for the in-process rows, "
         f"{len(stream):,} for hearth replay; cpus {os.cpu_count()}]")
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        work = Path(tmp)
        config, csv_small, csv_big = work / "home.yaml", work / "small.csv", work / "big.csv"
        config.write_text(source.config_yaml(), encoding="utf-8")
        write_events_csv(sample, csv_small, source.timezone)
        write_events_csv(stream, csv_big, source.timezone)
        try:
            parse, _ = bench_parse(csv_small, home)
        except ImportError as exc:
            parse = None
            echo(f"[parse pending: {exc}]")
        row("parse EVENTS.csv (ceiling)", parse, "events/s")
        hst = bench_hst(source, sample)
        row("river HalfSpaceTrees learn+score", hst, "events/s", note="per event")
        row("IsolationForest score one at a time", bench_iforest(source, sample), "events/s",
            note="300 single scorings, extrapolated")
        try:
            core, n_alerts = bench_core(home, sample)
            mem = bench_memory(home, sample)
        except ImportError as exc:
            core, n_alerts, mem = None, 0, None
            echo(f"[core pending: {exc}]")
        row("core: RoutineEngine learn+detect", core, "events/s", TARGETS["core_events_per_s"],
            f"{n_alerts} alerts" if core else "")
        row("core / HalfSpaceTrees", core / hst if core and hst else None, "x", TARGETS["core_vs_hst"])
        row("memory per person", mem["traced_mb_per_person"] if mem else None, "MB", TARGETS["mb_per_person"],
            f"checkpoint {mem['checkpoint_kb_per_person']:.0f} kB" if mem else "")
        rate, note = bench_replay_cli(config, csv_big, len(stream), work)
        row("hearth replay end to end", rate, "events/s", TARGETS["replay_events_per_s"], note)
    if quiet:
        quiet_rows(data if data_ok else None, row, echo)
    echo(format_bench(rows))
    return rows


def verdict(metric: str, value: float | None, target: float | None) -> str:
    """PASS/MISS against the target (at most for :data:`AT_MOST` metrics, at least otherwise)."""
    if target is None:
        return ""
    if value is None or math.isnan(value):
        return "PENDING"
    return "PASS" if (value <= target if metric in AT_MOST else value >= target) else "MISS"


def format_bench(rows: list[dict]) -> str:
    def num(v: float | None) -> str:
        if v is None:
            return "-"
        return "-" if math.isnan(v) else f"{v:,.0f}" if v >= 100 else f"{v:,.2f}"

    table = [["metric", "measured", "unit", "target", "PASS/MISS", "note"]]
    for r in rows:
        target = "" if r["target"] is None else ("<= " if r["metric"] in AT_MOST else ">= ") + num(r["target"])
        table.append([r["metric"], num(r["value"]), r["unit"], target, r["verdict"], r["note"]])
    widths = [max(len(t[i]) for t in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)).rstrip() for t in table]
    lines.append("One process on a 2-core machine shared with other work: figures are noisy (+-20% run to run).")
    return "\n".join(lines)
