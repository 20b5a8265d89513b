"""How a day's meals are counted from the kitchen sensors, chosen leave-one-home-out against the
residents' own labels (van Kasteren: 'prepare breakfast' and 'prepare dinner', ids 13 and 15).

A meal is a kitchen episode (kitchen events no more than ``gap`` minutes apart) with at least ``n``
kitchen events, counted as the routine core counts them (a motion sensor's 'on', a contact's every
change). For each home, the rule is chosen on the OTHER two (the least mean absolute error of meals
a day against the labelled meal preparations, on the days that have labels) and scored on it.

    .venv/bin/python -m benchmarks.meals
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from benchmarks.homes import _LABEL_ROW_2008, DEFAULT_DATA, HOMES, load_home, local_seconds

MEAL_LABELS = ("13", "15")
GAPS_MIN = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180)
MIN_EVENTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
DAY_START_S = 4 * 3600


def labels(name: str, data: Path) -> list[tuple[int, str]]:
    """(start, activity id) of every labelled activity, local seconds."""
    fmt, folder, house, _ = HOMES[name]
    path = data / folder
    out = []
    if fmt == "2010":
        for line in (path / f"house{house}.activities").read_text(encoding="latin-1").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0].strip().isdigit():
                out.append((int(parts[0]), parts[2].strip()))
    else:
        for line in (path / "kasterenActData.txt").read_text(encoding="latin-1").splitlines():
            if m := _LABEL_ROW_2008.match(line):
                out.append((local_seconds(datetime.strptime(m.group(1), "%d-%b-%Y %H:%M:%S")), m.group(3)))
    return out


def _day(t: int) -> int:
    return (t - DAY_START_S) // 86400


def kitchen_times(name: str, data: Path) -> list[int]:
    home = load_home(name, data)
    kitchen = {s.id: s.kind for s in home.to_home().sensors if s.is_kitchen}
    return [t for t, sid, on in home.events if sid in kitchen and (on or kitchen[sid] != "motion")]


def meals_by_day(times: list[int], gap_min: float, n: int) -> dict[int, int]:
    out: dict[int, int] = {}
    last, run = -10**12, 0
    for t in times:
        run = run + 1 if t - last <= gap_min * 60 else 1
        last = t
        if run == n:
            out[_day(t)] = out.get(_day(t), 0) + 1
    return out


def errors(name: str, data: Path) -> dict[tuple[int, int], tuple[float, int]]:
    """(gap, n) -> (mean absolute error of meals a day, labelled days)."""
    labs = labels(name, data)
    days = {_day(t) for t, _ in labs}
    truth = {d: 0 for d in days}
    for t, a in labs:
        if a in MEAL_LABELS:
            truth[_day(t)] += 1
    times = kitchen_times(name, data)
    res = {}
    for g in GAPS_MIN:
        for n in MIN_EVENTS:
            got = meals_by_day(times, g, n)
            res[(g, n)] = (sum(abs(got.get(d, 0) - truth[d]) for d in days) / len(days), len(days))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    args = ap.parse_args()
    data = Path(args.data)
    homes = list(HOMES)
    errs = {h: errors(h, data) for h in homes}
    print(f"{'held-out home':<14} {'rule chosen on the others':<28} {'MAE held out':>12} {'MAE its own best':>17} "
          f"{'labelled days':>13}")
    for h in homes:
        others = [o for o in homes if o != h]
        rule = min(errs[h], key=lambda r: sum(errs[o][r][0] for o in others))
        own = min(errs[h], key=lambda r: errs[h][r][0])
        print(f"{h:<14} {f'gap {rule[0]} min, >= {rule[1]} events':<28} {errs[h][rule][0]:>12.2f} "
              f"{f'{errs[h][own][0]:.2f} ({own[0]}, {own[1]})':>17} {errs[h][rule][1]:>13}")
    rule = min(errs[homes[0]], key=lambda r: sum(errs[o][r][0] for o in homes))
    print(f"\nall three homes: gap {rule[0]} min, >= {rule[1]} events, MAE "
          + ", ".join(f"{h} {errs[h][rule][0]:.2f}" for h in homes))


if __name__ == "__main__":
    main()
