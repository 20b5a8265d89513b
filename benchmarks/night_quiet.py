"""How long the night quiet lasts on real nights: the evidence behind the night situations' starting limits.

Issue 14: before a person's own nights are learned, the night situations (routines/detectors/situations.py)
wait as long as the hour a fall at night must be caught in allows (their caps, ``night_quiet_cap_min``).
A shorter start would need the recordings to show that real people rarely cross it, leave-one-home-out.
This runs the core over each home's clean first-month streams (no learning period, the leave-one-home-out
prior and night hours) with the night situations unable to alert (limits of 4 h, never learned), so every
spell is learned in full, and prints on how many stream days a spell in each situation reached each wait.

    .venv/bin/python -m benchmarks.night_quiet --seeds 1 2 3 4 5
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

from benchmarks import night_hours
from benchmarks.evaluate import with_night_hours
from benchmarks.first_month import FIRST_DAYS
from benchmarks.homes import DEFAULT_DATA, aware, load_home
from benchmarks.prior import leave_one_out
from benchmarks.streams import build_streams, profile
from routines.detectors.night import NIGHT_SITUATIONS
from routines.detectors.situations import models

WAITS_MIN = (20, 25, 30, 35, 40, 45, 50, 55)
BED_HOMES = ("vk2010-B", "vk2010-C")  # (house A has no bed sensor: no night situation)
# the night situations cannot alert: every spell is learned to its end
OPEN = {"night_first_sign_start_min": 240, "night_still_away_min": 240, "night_bedroom_start_min": 240,
        "night_quiet_cap_min": 240, "situation_min_days": 90}


def one(args: tuple[str, int, str]) -> tuple[str, dict[str, tuple[int, list[int]]]]:
    """(home, {situation: (days learned, days with a spell reaching each of WAITS_MIN)}) for one seed."""
    from gateway.config import parse_config_text
    from routines.engine import RoutineEngine
    from routines.replay import replay_into

    name, seed, data = args
    p = profile(load_home(name, data))
    clean, _, _ = build_streams(p, 0, FIRST_DAYS, seed, kinds=("night_bed_exit",))
    cfg = parse_config_text(p.home.config_yaml(), f"{name}.yaml")
    home = with_night_hours(cfg.to_home(), night_hours.leave_one_out(name, data))
    eng = RoutineEngine(home, cfg.routines.model_copy(update=OPEN), leave_one_out(name, data))
    rows = ((aware(t, home.tz).timestamp(), sid, on) for t, sid, on in clean.events)
    for _ in replay_into(eng, rows, 60, aware(clean.end, home.tz).timestamp()):
        pass
    person = next(iter(eng._persons.values()))
    ms = models(person, eng.settings.half_life_days)
    return name, {s: (ms[s].days_raw, [ms[s].days_over(w * 60) for w in WAITS_MIN]) for s in NIGHT_SITUATIONS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        results = list(pool.map(one, [(h, s, a.data) for h in BED_HOMES for s in a.seeds]))
    print(f"Stream days (first {FIRST_DAYS} days, seeds {' '.join(map(str, a.seeds))}) with a night spell reaching "
          "each wait (minutes)")
    print(f"{'home':<10} {'situation':<18} {'days':>5} " + " ".join(f"{w:>4}" for w in WAITS_MIN))
    for home in BED_HOMES:
        for sit in NIGHT_SITUATIONS:
            days = sum(r[sit][0] for h, r in results if h == home)
            over = [sum(r[sit][1][i] for h, r in results if h == home) for i in range(len(WAITS_MIN))]
            print(f"{home:<10} {sit:<18} {days:>5} " + " ".join(f"{n:>4}" for n in over))


if __name__ == "__main__":
    main()
