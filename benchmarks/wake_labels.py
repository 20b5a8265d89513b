"""Hearth's wake time against the wake time the recordings' own activity labels give: a tuning aid.

The van Kasteren homes carry activity labels written by the residents (read the SOURCE.md files):
a ``go to bed`` interval (id 10) ends when the person gets up. For each recorded 04:00-04:00 day the
labelled wake is the latest end of a ``go to bed`` interval between 04:00 and 14:00 (a morning toilet
trip then back to bed ends one interval early; the later end is the real getting up).

The evaluation harness's own getting-up moment (where its injected 'not up' days go silent) is
measured against the same labels on a second row.

Hearth's wake is ``RoutineEngine.day_summary(...).wake_time`` from a replay of the recording itself
(the live pipeline). The recording is replayed twice, the second copy shifted by whole weeks, and only
the second pass is measured, so the engine has learned this person's days (as it would have after a
few weeks at home) rather than running on its cold-start defaults.

    .venv/bin/python -m benchmarks.wake_labels            # all homes: error table
    .venv/bin/python -m benchmarks.wake_labels --days     # and every day's pair of times
"""

from __future__ import annotations

import argparse
import statistics
from datetime import datetime
from pathlib import Path

from benchmarks.homes import (
    DEFAULT_DATA,
    HOMES,
    aware,
    load_home,
    local_datetime,
    local_seconds,
    sleep_intervals,
)
from benchmarks.streams import DAY, DAY_START_S, day_of, labelled_wake


def labelled_wakes(intervals: list[tuple[int, int]]) -> dict[int, int]:
    """Day index -> labelled wake (local seconds): the latest sleep end between 04:00 and 14:00."""
    days = {day_of(end) for _, end in intervals}
    return {d: w for d in sorted(days) if (w := labelled_wake(intervals, d * DAY + DAY_START_S)) is not None}


def hearth_wakes(name: str, data: Path | str = DEFAULT_DATA) -> dict[int, int | None]:
    """Day index -> Hearth's wake (local seconds, None: no wake found) on the second pass of the recording."""
    from gateway.config import parse_config_text
    from routines.engine import RoutineEngine
    from routines.replay import replay_into

    home_rec = load_home(name, data)
    cfg = parse_config_text(home_rec.config_yaml(), f"{name}.yaml")
    home = cfg.to_home()
    tz = home.tz
    evs = home_rec.events
    span_days = day_of(evs[-1][0]) - day_of(evs[0][0]) + 1
    shift = -(-span_days // 7) * 7 * DAY  # whole weeks: weekdays stay weekdays
    state: dict[str, bool] = {}
    rows = []
    for off in (0, shift):
        for t, sid, on in evs:
            if state.get(sid, False) != on:  # where the copies meet, nothing is made up (as benchmarks.streams)
                state[sid] = on
                rows.append((aware(t + off, tz).timestamp(), sid, on))
    engine = RoutineEngine(home, cfg.routines)
    for _ in replay_into(engine, rows, 60, aware(evs[-1][0] + shift + DAY, tz).timestamp()):
        pass
    out: dict[int, int | None] = {}
    for s in engine._persons["p1"].summaries:
        d = local_seconds(datetime.combine(s.date, datetime.min.time())) + DAY_START_S
        idx = day_of(d - shift)
        if idx < day_of(evs[0][0]):
            continue
        if s.wake_time is None:
            out[idx] = None
        else:
            w = local_seconds(datetime.combine(s.date, s.wake_time))
            out[idx] = (w if w >= d else w + DAY) - shift
    return out


def harness_wakes(name: str, data: Path | str = DEFAULT_DATA) -> dict[int, int | None]:
    """Day index -> the evaluation harness's getting-up moment (:func:`benchmarks.streams.profile`)."""
    from benchmarks.streams import profile

    return {d.index: d.wake for d in profile(load_home(name, data)).days}


def compare(name: str, data: Path | str = DEFAULT_DATA) -> list[tuple[int, int, int | None]]:
    """(day, labelled wake, Hearth's wake) for each day that has both a label and a Hearth summary."""
    labels = labelled_wakes(sleep_intervals(name, data))
    hearth = hearth_wakes(name, data)
    return [(d, labels[d], hearth[d]) for d in sorted(labels) if d in hearth]


def error_table(rows: list[tuple[int, int, int | None]]) -> dict[str, float | int | None]:
    """Error (Hearth minus label, minutes) distribution: median, abs quantiles, shares within 15/60 min."""
    err = [(h - lab) / 60 for _, lab, h in rows if h is not None]
    ab = sorted(abs(e) for e in err)

    def q(x: float) -> float | None:
        return round(ab[min(len(ab) - 1, int(x * len(ab)))], 1) if ab else None

    return {"days": len(rows), "no_wake": sum(h is None for _, _, h in rows),
            "median_err_min": round(statistics.median(err), 1) if err else None,
            "abs_p50": q(0.5), "abs_p90": q(0.9), "abs_max": round(ab[-1], 1) if ab else None,
            "within_15": round(sum(a <= 15 for a in ab) / len(rows), 2) if rows else None,
            "within_60": round(sum(a <= 60 for a in ab) / len(rows), 2) if rows else None,
            "early_60": sum(e < -60 for e in err), "late_60": sum(e > 60 for e in err)}


def _hm(t: int | None) -> str:
    return "--:--" if t is None else local_datetime(t).strftime("%H:%M")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--homes", nargs="*", default=list(HOMES))
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--days", action="store_true", help="print every day's labelled and Hearth wake")
    a = ap.parse_args()
    cols = ("days", "no_wake", "median_err_min", "abs_p50", "abs_p90", "abs_max", "within_15", "within_60",
            "early_60", "late_60")
    print("home       who     " + " ".join(f"{c:>14}" for c in cols))
    for name in a.homes:
        rows = compare(name, a.data)
        t = error_table(rows)
        print(f"{name:10} hearth  " + " ".join(f"{t[c]!s:>14}" for c in cols))
        # the evaluation harness's own getting-up moment (its 'not up' injections start there)
        h = harness_wakes(name, a.data)
        labels = labelled_wakes(sleep_intervals(name, a.data))
        t = error_table([(d, labels[d], h[d]) for d in sorted(labels) if d in h])
        print(f"{name:10} harness " + " ".join(f"{t[c]!s:>14}" for c in cols))
        if a.days:
            for d, lab, h in rows:
                day = local_datetime(d * DAY + DAY_START_S).date()
                err = "" if h is None else f"{(h - lab) / 60:+.0f} min"
                print(f"   {day} {(day.strftime('%a'))}  label {_hm(lab)}  hearth {_hm(h)}  {err}")


if __name__ == "__main__":
    main()
