"""How separable is a daytime collapse from ordinary quiet, once the silence is CONDITIONED on context?

A tuning aid run on purpose (not a test). For each recorded home, day by day (leave that day out: its
thresholds are learned only from the OTHER recorded days, as a home learns from its own past):

- every daytime quiet spell (between two person-activity events, between getting up and the evening's
  sleep, as the harness finds them) is a possible false alarm if it outlasts its context's limit;
- every harness collapse moment (a daytime 'on' a few minutes before the silence begins,
  :func:`benchmarks.streams.profile`) is caught if its context's limit falls within 60 min of onset.

A context is what a carer would weigh: the last sensor that fired (and whether it was an open or a
close), optionally the time-of-day band, whether the couch/chair mat says sitting. Its limit is
``max(floor, margin x quantile(q))`` of the gaps after that context on the other days, falling back
to the sensor alone, then to everything, while a context has fewer than ``min_n`` gaps.

    .venv/bin/python -m benchmarks.collapse_separability
    .venv/bin/python -m benchmarks.collapse_separability --homes vk2010-C --floor 20
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict

import numpy as np

from benchmarks.homes import HOMES, load_home
from benchmarks.streams import DAY, HOUR, profile

BANDS = ((4, 10), (10, 14), (14, 18), (18, 28))  # local hours (18-28: evening into the small hours)
DEADLINE_S = 3600


def _band(t: int) -> int:
    h = (t % DAY) // HOUR
    h = h + 24 if h < 4 else h
    return next(i for i, (a, b) in enumerate(BANDS) if a <= h < b)


def activity(events, kinds: dict[str, str]) -> list[tuple[int, str, bool]]:
    """The events the routine core counts as the person moving (motion 'on', contacts both ways,
    bed and chair changes, an appliance switched on)."""
    return [e for e in events if e[2] or kinds[e[1]] not in ("motion", "plug")]


def _contexts(scheme: str, ev: tuple, sitting: bool) -> list[tuple]:
    """Keys from the finest to the coarsest (the first one with enough history is used)."""
    t, sid, on, prev = ev
    fine = {"hour": [("hour", _band(t))],
            "pair": [(prev, sid, on), (sid, on), (sid,)],
            "sensor": [(sid, on), (sid,)],
            "sensor+band": [(sid, on, _band(t)), (sid, on), (sid,)],
            "sensor+band+sitting": [(sid, on, _band(t), sitting), (sid, on, _band(t)), (sid, on), (sid,)]}[scheme]
    return [*fine, ("all",)]


def day_gaps(day, kinds, chair: set[str]) -> tuple[list[tuple[int, int, list[tuple]]], list[tuple[int, int]]]:
    """Per scheme-free record: (gap start, gap length, event) for daytime gaps, and the day's events."""
    acts = activity(day.events, kinds)
    lo = day.wake if day.wake is not None else day.start + 5 * HOUR
    hi = day.bedtime if day.bedtime is not None else day.start + 20 * HOUR
    sitting = False
    out = []
    for i, ev in enumerate(acts):
        if ev[1] in chair:
            sitting = ev[2]
        if not lo <= ev[0] < hi or i + 1 >= len(acts):
            continue
        out.append(((*ev, acts[i - 1][1] if i else ""), acts[i + 1][0] - ev[0], sitting))
    return out, acts


class _Limits:
    """Each held-out day's limit per context, from the other days' gaps (cached)."""

    def __init__(self, by_ctx, scheme: str, q: float, margin: float, floor_min: float, min_n: int,
                 in_sample: bool) -> None:
        self.by_ctx, self.scheme, self.q, self.margin = by_ctx, scheme, q, margin
        self.floor_s, self.min_n, self.in_sample = floor_min * 60, min_n, in_sample
        self.cache: dict[tuple[int, tuple], float] = {}

    def limit(self, di: int, ev, sitting: bool) -> float:
        for key in _contexts(self.scheme, ev, sitting):
            k = (di, key)
            if k not in self.cache:
                xs = [g for dj, gs in enumerate(self.by_ctx[key]) if self.in_sample or dj != di for g in gs]
                self.cache[k] = (max(self.floor_s, self.margin * float(np.quantile(xs, self.q)))
                                 if len(xs) >= self.min_n else -1.0)
            if self.cache[k] >= 0:
                return self.cache[k]
        return float("inf")


def evaluate_home(name: str, schemes, qs, margins, floor_min: float, min_n: int, seed: int,
                  in_sample: bool = False) -> list[dict]:
    home = load_home(name)
    p = profile(home)
    kinds = {s.id: s.kind for s in home.sensors}
    chair = {s.id for s in home.sensors if s.kind == "chair"}
    door = {s.id for s in home.sensors if s.role in ("front_door", "back_door")}
    per_day = [day_gaps(d, kinds, chair) for d in p.days]
    rng = random.Random(seed)
    # collapse moments: as the harness draws them (a daytime 'on', then 1-300 s)
    moments = []
    for di, d in enumerate(p.days):
        acts = per_day[di][1]
        times = [e[0] for e in acts]
        for t0 in d.daytime_activity:
            onset = t0 + rng.randint(1, 300)
            j = int(np.searchsorted(times, onset, side="right")) - 1
            sitting = False
            for e in acts[: j + 1]:
                if e[1] in chair:
                    sitting = e[2]
            moments.append((di, (*acts[j], acts[j - 1][1] if j else ""), onset, sitting))
    rows = []
    for scheme in schemes:
        # gaps by context, per recorded day (for leave-one-day-out)
        by_ctx: dict[tuple, list[list[float]]] = defaultdict(lambda: [[] for _ in p.days])
        for di, (gaps, _) in enumerate(per_day):
            for ev, g, sitting in gaps:
                for key in _contexts(scheme, ev, sitting):
                    by_ctx[key][di].append(g)
        for q in qs:
            for margin in margins:
                lim = _Limits(by_ctx, scheme, q, margin, floor_min, min_n, in_sample)
                limit = lim.limit
                fa = 0
                for di, (gaps, _) in enumerate(per_day):
                    for ev, g, sitting in gaps:
                        if ev[1] in door:
                            continue  # after the front door the person may be out: judged apart
                        fa += g >= limit(di, ev, sitting)
                caught = sum(limit(di, ev, s) <= onset + DEADLINE_S - ev[0] for di, ev, onset, s in moments)
                rows.append({"home": name, "scheme": scheme, "q": q, "margin": margin,
                             "recall": caught / len(moments) if moments else None, "moments": len(moments),
                             "fa_per_30d": fa * 30 / len(p.days), "days": len(p.days)})
    return rows


def typical_share(name: str) -> tuple[float, float, int]:
    """(share of all daytime gaps >= 55 min, share of collapse moments whose last sensor has ever been
    followed by such a gap on ANOTHER recorded day, number of moments)."""
    home = load_home(name)
    p = profile(home)
    kinds = {s.id: s.kind for s in home.sensors}
    per_day = [day_gaps(d, kinds, set())[0] for d in p.days]
    long_by_sensor: dict[str, set[int]] = defaultdict(set)
    n = n_long = 0
    for di, gaps in enumerate(per_day):
        for ev, g, _ in gaps:
            n += 1
            if g >= 55 * 60:
                n_long += 1
                long_by_sensor[ev[1]].add(di)
    hits = total = 0
    for di, d in enumerate(p.days):
        acts = [e for e in activity(d.events, kinds)]
        times = [e[0] for e in acts]
        for t0 in d.daytime_activity:
            j = int(np.searchsorted(times, t0 + 150, side="right")) - 1
            total += 1
            hits += bool(long_by_sensor[acts[j][1]] - {di})
    return n_long / max(n, 1), hits / max(total, 1), total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--homes", nargs="*", default=list(HOMES))
    ap.add_argument("--schemes", nargs="*", default=["hour", "sensor", "pair", "sensor+band", "sensor+band+sitting"])
    ap.add_argument("--q", nargs="*", type=float, default=[0.98, 1.0])
    ap.add_argument("--margin", nargs="*", type=float, default=[1.0, 1.5])
    ap.add_argument("--floor", type=float, default=20.0, help="minutes: no context's limit is shorter")
    ap.add_argument("--min-n", type=int, default=20, help="gaps a context needs before its own limit is used")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--in-sample", action="store_true",
                    help="learn from every recorded day, the held-out one too (what reordered-day streams show)")
    a = ap.parse_args()
    for name in a.homes:
        long_share, typical, n = typical_share(name)
        print(f"== {name}: {long_share:.1%} of daytime gaps last >= 55 min; {typical:.0%} of {n} collapse "
              f"moments follow a sensor that was followed by such a gap on another day")
        print(f"   {'scheme':22s} {'q':>5s} {'margin':>6s} {'recall':>7s} {'FA/30d':>7s}")
        for r in evaluate_home(name, a.schemes, a.q, a.margin, a.floor, a.min_n, a.seed,
                               a.in_sample):
            print(f"   {r['scheme']:22s} {r['q']:5.2f} {r['margin']:6.1f} {r['recall']:7.2f} {r['fa_per_30d']:7.1f}")


if __name__ == "__main__":
    main()
