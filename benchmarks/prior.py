"""Build the population prior (``routines/priors/population.json``) from the recorded homes.

Each home's whole recording, in its own order, goes through the routine core (:class:`RoutineEngine`,
without any prior, every care alert marked a false alarm the next day so no day is held back: nothing
was wrong in these recordings). From what the core learned it takes, per daily marker (getting up, first
kitchen use, bed time, night-time trip lengths), :data:`POINTS` quantile points of that home's own days,
and its quiet spells per day by hour and length. Homes are pooled with equal weight, however many days
each recorded. The file holds those pooled quantile points only: no event, no day of anyone's.

    .venv/bin/python -m benchmarks.prior                   # all homes -> routines/priors/population.json
    .venv/bin/python -m benchmarks.prior --homes vk2010-C vk2008-A --out /tmp/prior.json

``hearth evaluate``'s first-month figures build one prior per home from the OTHER homes only
(:func:`build`, leave-one-home-out); the shipped file may use them all.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks.homes import DEFAULT_DATA, HOMES, aware, load_home
from routines import prior as prior_mod
from routines.engine import RoutineEngine
from routines.replay import replay_into
from routines.settings import RoutineSettings

POINTS = 50  # quantile points per marker: min and max included, equally weighted
SHIPPED = Path(__file__).resolve().parents[1] / "routines" / "priors" / "population.json"
DAY_START_S = 4 * 3600
DAY = 86_400


def harvest(name: str, data: Path | str = DEFAULT_DATA) -> dict:
    """What the core learned from one home's recording: marker values, per-day rates, quiet spells."""
    rec = load_home(name, data)
    cfg_home = rec.to_home()
    tz = cfg_home.tz
    eng = RoutineEngine(cfg_home, RoutineSettings(population_prior=False))
    rows = [(aware(t, tz).timestamp(), sid, on) for t, sid, on in rec.events]
    by_day: dict[int, list] = {}
    for (t, _, _), row in zip(rec.events, rows, strict=True):
        by_day.setdefault((t - DAY_START_S) // DAY, []).append(row)
    pending: list[str] = []
    for d in sorted(by_day):
        until = aware(d * DAY + DAY_START_S + DAY - 60, tz).timestamp()
        raised = [a.key for a in replay_into(eng, by_day[d], 60, until) if str(a.audience) == "care"]
        for key in pending:  # yesterday's alerts, now that yesterday is closed: a false alarm, learned
            eng.record_outcome(key, "false_alarm")
        pending = raised
    p = next(iter(eng._persons.values()))
    out: dict = {"days": p.activity_total.count, "markers": {}}
    nights = max(1, p.night_exits_model.count)
    for marker, m, per_day in (("wake", p.wake_model, 1.0), ("first_kitchen", p.kitchen_model, 1.0),
                               ("bed", p.bed_model, 1.0), ("exit_len", p.exit_len, p.exit_len.count / nights)):
        if m.n >= 5:
            out["markers"][marker] = (np.sort(m.values[:m.n]), per_day)
    eff = p.activity_total.effective_days()
    out["silence"] = p.silence.hist / eff if eff > 0 else None
    return out


def build(homes: list[str], data: Path | str = DEFAULT_DATA, version: str | None = None) -> str:
    """The prior file's text, made from ``homes`` (equal weight each)."""
    got = {h: harvest(h, data) for h in homes}
    qs = np.linspace(0.0, 1.0, POINTS)
    points: dict[str, tuple[list[float], float]] = {}
    for marker in prior_mod.MARKERS:
        have = [g["markers"][marker] for g in got.values() if marker in g["markers"]]
        if have:
            pooled = np.concatenate([np.quantile(v, qs) for v, _ in have])
            points[marker] = (list(np.quantile(pooled, qs)), float(np.mean([pd for _, pd in have])))
    sil = [g["silence"] for g in got.values() if g["silence"] is not None]
    silence = np.mean(sil, axis=0).tolist() if sil else None
    made = (f"python -m benchmarks.prior --homes {' '.join(homes)}: each home's recording through the routine "
            f"core without a prior (care alerts marked false alarms), {POINTS} quantile points per marker per "
            "home, pooled with equal weight per home; silence: quiet spells per day by start hour and "
            "log-length bin (routines.models.GAP_EDGES), mean over homes. Minutes since 04:00 (exit_len: seconds).")
    return prior_mod.to_json(points, silence, version=version or f"{date.today().isoformat()}-{len(homes)}homes",
                             homes=len(homes), days=sum(int(g["days"]) for g in got.values()), made=made,
                             sources=[HOMES[h][3] for h in homes], excluded={
                                 "appliance_on": "no recorded home has a real smart plug (house B's toaster and "
                                                 "microwave 'plugs' are tilt switches left 'on' for days)"})


def leave_one_out(home: str, data: Path | str = DEFAULT_DATA) -> prior_mod.Prior:
    """The prior to evaluate ``home`` with: made from every other home, never from ``home`` itself."""
    others = [h for h in HOMES if h != home]
    return prior_mod.parse(json.loads(build(others, data, version=f"without-{home}")),
                           f"prior without {home}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--homes", nargs="+", default=list(HOMES), choices=list(HOMES))
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--version", default=None, help="version string (default: today's date and home count)")
    ap.add_argument("--out", default=str(SHIPPED))
    a = ap.parse_args()
    text = build(a.homes, a.data, a.version)
    prior_mod.parse(json.loads(text), a.out)  # never write a file the core would refuse
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text, encoding="utf-8")
    print(f"wrote {a.out} ({len(text):,} bytes)")


if __name__ == "__main__":
    main()
