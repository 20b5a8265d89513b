"""What any detector must pay: the real moments that look like an injected anomaly (issues 11 and 14).

Model-free: no detector is run. For each home and kit (:mod:`benchmarks.kits`) and each kind injected by
:mod:`benchmarks.streams`, this counts on the REAL recorded days the *look-alikes*: real moments that,
up to the kind's deadline (:data:`benchmarks.scoring.DEADLINE_S`), show the sensors what the injected
anomaly shows them. The argument: a detector is a function of the events it has been given. If an
injected day and the real day it was copied from hold the same events up to the deadline, a detector
that catches the injection by then has alarmed at a moment when the two streams were identical, so it
alarms on the real day too, and the clean stream counts that as a false alarm.

Two strengths of match, printed in the ``match`` column:

- ``exact`` (collapse, no_kitchen): the injected copy of a real day is event for event the real day up
  to the deadline (the injector's draw fell where the real day was silent anyway). Per real day d,
  ``q_d`` is the share of the injector's own draws on d that are invisible until the deadline. A
  detector with recall r must still catch look-alike draws worth ``mean(q) - (1 - r)``; each real day
  it alarms on buys at most ``q_d`` of that, so the fewest days (greedy by largest ``q_d``, the last one
  fractional: a true lower bound) is what recall r costs, for ANY detector, whatever context (weekday,
  history, the days learned) it uses, because the bound lets it choose the days with hindsight.
  ``1 - mean(q)`` is the best recall at zero false alarms.
- ``approx`` (night_bed_exit, night_door_exit, not_back): the injection is a moment drawn at random
  (a bed exit at a uniform second of the night) with a fixed shape (one step 40 s later; the door open
  20 s); a real moment never matches it to the second. The look-alike is the situation as a detector
  would read it: a real bed exit, steps within 5 min, then no sign of life for the rest of the 60 min;
  a real night door opening, closed within 5 min, then nothing for 45 min; a real daytime departure
  (the door, then no other sensor for 15 min, as ``_departures``) with nothing else for 8 h. A
  detector judging only that situation alarms on all of them (the ``all`` cost). One that also uses
  the clock can spare the half-hours where look-alikes are many and injections few: the cost at recall
  r lets it give up injection mass ``1 - r`` in whole or part half-hour bins of the onset's clock time
  (fractional, so again a lower bound for that class). Finer context (the step's sensor and timing,
  time since bed, the door's open time) could separate more: these rows are not a bound on every
  detector, and say so.
- ``rule`` (not_up): no real day ever equals an injected 'not up' day (the real day gets up). The row
  is the least false alarms of any single per-person getting-up deadline T (the note: one T for
  weekdays and one for weekends): an injected day d is caught iff ``T <= wake_d + 3 h`` (an alarm that
  stands, or is repeated, until the person is up: one raised before the scorer's window, which opens at
  the injected silence, only does worse), and a real day alarms iff ``wake_d > T``. So for recall 0.95
  T <= the 5th percentile of ``wake + 3 h`` (with under 20 days: the earliest), and the cost is the
  real days getting up later than T. It binds only detectors built on a getting-up deadline; one that
  reads the night (a late bed time, a broken night) is not bound by it.

Signs of life are every event but a motion sensor going off (a PIR resets by itself; the injector keeps
those resets too). Markers (wake, bed time, first kitchen use, daytime activity) are the full recording's
in both kits, as in the evaluation. Rates are per 30 recorded days, every recorded day weighted alike
(the streams draw weekdays and weekend days by the calendar: a small difference). A collapse draw whose
last sign of life is the front door or the keys (the person just went out) is not counted as a
look-alike, although the injector can draw it: a look-alike must be a silence while not known to be out
(B has no working front door, so its outings count). A silence that reaches the 04:00 day end counts
as lasting: the next stream day is another recorded day.

Issue 11 asks recall 0.95 "over all five kinds": each table gives the sum of the per-kind costs and
the pooled reading, where the misses (5% of all injections, the kinds injected about equally often, as
the streams cycle them) may go to whichever kinds they save most on (:func:`pooled`).

The first 28 days (issue 14): the night checks must work from the first night, with nothing learned,
so their cost at recall 0.9 is the same situation count over 28 days, against the budget of 2 care
alerts in those 28 days. Such a check watches the technician's night hours rather than a learned bed
time, so the notes also count the night situations inside the default night hours
(:data:`routines.home.DEFAULT_NIGHT_HOURS`). The other kinds have no recall target in the first month.

    .venv/bin/python -m benchmarks.bounds [--homes vk2010-B ...] [--data PATH]
"""

from __future__ import annotations

import argparse
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median

from benchmarks.homes import DEFAULT_DATA, HOMES, load_home
from benchmarks.kits import kit_profile, kits_for
from benchmarks.scoring import DEADLINE_S, NO_KITCHEN_BY_S
from benchmarks.streams import (
    DAY,
    DAY_START_S,
    DEPARTURE_HOURS,
    DEPARTURE_QUIET_S,
    HOUR,
    URGENT_DEADLINE_S,
    HomeProfile,
    SourceDay,
)
from routines.home import DEFAULT_NIGHT_HOURS

STEP_S = 5 * 60  # a bed exit's steps, or a door's closing, within this long are part of the situation
COLLAPSE_JITTER_S = 300  # the injector's onset: a daytime activity moment + 1..300 s
BIN_S = 30 * 60  # the clock context an 'approx' detector may use to spare some situations
RECALL = 0.95  # issue 11, per kind
FIRST_MONTH_RECALL, FIRST_MONTH_DAYS, FIRST_MONTH_BUDGET = 0.9, 28, 2  # issue 14
NIGHT_KINDS = ("night_bed_exit", "night_door_exit")


@dataclass(slots=True)
class Row:
    """One kind in one home and kit: its look-alikes on the real days and what a recall costs."""

    kind: str
    match: str  # exact | approx | rule
    what: str  # the look-alike, in words
    n: int  # look-alikes (situations; exact kinds: days with any)
    days: int  # real days they were counted on
    per30: float  # look-alikes per 30 recorded days
    cost: dict[float, float] = field(default_factory=dict)  # recall -> least false alarms per 30 days
    note: str = ""
    alike: float | None = None  # exact kinds: the share of the injector's draws that look alike
    at: Callable[[float], float] | None = field(default=None, repr=False)  # recall -> cost (as ``cost``)


@dataclass(slots=True)
class Kit:
    """The events of one kit, indexed for 'next sign of life after t'."""

    p: HomeProfile
    life: list[int]  # times of signs of life, sorted
    life_sid: list[str]

    @classmethod
    def of(cls, p: HomeProfile) -> Kit:
        evs = [(t, sid) for t, sid, on in p.home.events if on or sid not in p.motion]
        return cls(p, [t for t, _ in evs], [s for _, s in evs])

    def next_life(self, t: int, skip: Callable[[str], bool] = lambda s: False) -> int:
        """The first sign of life at or after ``t`` not ``skip``-ped (an infinite time if none)."""
        i = bisect_left(self.life, t)
        while i < len(self.life) and skip(self.life_sid[i]):
            i += 1
        return self.life[i] if i < len(self.life) else 1 << 62


def midnight(d: SourceDay) -> int:
    return d.start - DAY_START_S


def exact_cost(q: list[float], n_days: int, recall: float) -> float:
    """Least false alarms per 30 days for recall ``recall`` when real day i hides a share ``q[i]`` of
    the injections drawn on it (look-alikes); ``n_days`` clean days carry them."""
    must = sum(q) / len(q) - (1 - recall) if q else 0.0
    days = 0.0
    for x in sorted(q, reverse=True):
        if must <= 1e-12 or x <= 0:
            break
        take = min(1.0, must / (x / len(q)))
        days += take
        must -= take * x / len(q)
    return 30 * days / n_days


def binned_cost(alikes: list[int], mass: dict[int, float], n_days: int, recall: float) -> float:
    """Least false alarms per 30 days when a detector may ignore clock half-hours holding at most
    ``1 - recall`` of the injections (``mass``: bin -> share of injections); ``alikes``: bins of the
    look-alike situations. Fractional in the last bin, so a lower bound for that class of detector."""
    count: dict[int, int] = {}
    for b in alikes:
        count[b] = count.get(b, 0) + 1
    budget, spared = 1 - recall, 0.0
    for b in sorted(count, key=lambda b: -count[b] / mass[b] if mass.get(b) else float("-inf")):
        m = mass.get(b, 0.0)
        part = 1.0 if m <= budget else budget / m
        spared += part * count[b]
        budget -= part * m
        if budget <= 1e-12:
            break
    return 30 * (len(alikes) - spared) / n_days


def _bin(t: int) -> int:
    return (t % DAY) // BIN_S


def _uniform_mass(windows: list[tuple[int, int]]) -> dict[int, float]:
    """Share of onsets per clock half-hour when each window (equally likely) draws its onset uniformly."""
    mass: dict[int, float] = {}
    for lo, hi in windows:
        t = lo
        while t < hi:
            end = min(hi, (t // BIN_S + 1) * BIN_S)
            mass[_bin(t)] = mass.get(_bin(t), 0.0) + (end - t) / (hi - lo) / len(windows)
            t = end
    return mass


# ---- the kinds: (kit, recall targets) -> Row | None ----

def collapse(k: Kit, recalls: tuple[float, ...]) -> Row:
    """Exact: draws t = a + u (a daytime activity moment, u in 1..300 s) with no sign of life in
    [t, t + 4 h] (or to the day end), not just after the front door."""
    p, need = k.p, DEADLINE_S["collapse"]
    out_ids = {s.id for s in p.home.sensors if s.role in ("front_door", "keys")} if p.front_door else set()
    q, q_out = [], []
    for d in p.days:
        end, valid, alike, out = d.start + DAY, 0, 0, 0
        for a in d.daytime_activity:
            for t in range(a + 1, a + COLLAPSE_JITTER_S + 1):
                if t + URGENT_DEADLINE_S >= end:
                    break
                valid += 1
                i = bisect_left(k.life, t)
                quiet = (k.life[i] if i < len(k.life) else 1 << 62) > min(t + need, end)
                gone = bool(i) and k.life_sid[i - 1] in out_ids
                alike += quiet and not gone
                out += quiet and gone
        if valid:
            q.append(alike / valid)
            q_out.append((alike + out) / valid)
    n = sum(x > 0 for x in q)
    row = Row("collapse", "exact", "daytime silence >= 4 h after activity, not just out", n, len(p.days),
               30 * n / len(p.days), {r: exact_cost(q, len(p.days), r) for r in recalls},
               f"n: days with any look-alike draw; with draws just after the front door too (exact as well): "
               f"{100 * sum(q_out) / len(q_out):.1f}% alike, 0.95 costs >= {exact_cost(q_out, len(p.days), RECALL):.2f}"
               if q else "", sum(q) / len(q) if q else None)
    row.at = lambda r: exact_cost(q, len(p.days), r)
    return row


def no_kitchen(k: Kit, recalls: tuple[float, ...]) -> Row | None:
    """Exact: a day whose kit has no kitchen event before max(its first kitchen use, 21:00)."""
    p = k.p
    if not p.kitchen:
        return None
    q, bare = [], 0
    for d in p.days:
        kitchen = [t for t, sid, _ in d.events if sid in p.kitchen]
        bare += not kitchen or kitchen[0] > d.start + NO_KITCHEN_BY_S
        if d.first_kitchen is not None:
            # the same events before the deadline (an event at the deadline itself is too late to tell)
            q.append(float(not kitchen or kitchen[0] >= max(d.first_kitchen, d.start + NO_KITCHEN_BY_S)))
    n = int(sum(q))
    row = Row("no_kitchen", "exact", "no kitchen event by 21:00 (or by a later first use)", n, len(p.days),
               30 * n / len(p.days), {r: exact_cost(q, len(p.days), r) for r in recalls},
               f"{bare} of {len(p.days)} days with no kitchen event by 21:00 at all", sum(q) / len(q) if q else None)
    row.at = lambda r: exact_cost(q, len(p.days), r)
    return row


def night_window(d: SourceDay) -> tuple[int, int] | None:
    """The injector's window for a night exit (:func:`benchmarks.streams._night_window`)."""
    if d.bedtime is None:
        return None
    lo, hi = d.bedtime + HOUR, min(d.bedtime + 5 * HOUR, d.start + DAY - 75 * 60)
    return (lo, hi) if lo < hi else None


def night_hours(d: SourceDay) -> tuple[int, int]:
    """The default night hours (the technician's setting, :data:`routines.home.DEFAULT_NIGHT_HOURS`) of
    the night after day ``d``: the hours a night check with nothing learned watches from the first night."""
    a, b = ((int(x[:2]) * 60 + int(x[3:])) * 60 for x in DEFAULT_NIGHT_HOURS.split("-"))
    lo = midnight(d) + (a if a >= 12 * HOUR else DAY + a)
    return lo, lo + (b - a) % DAY


def _in(times: list[int], windows: list[tuple[int, int]]) -> list[int]:
    """The ``times`` (sorted) inside any of ``windows``."""
    return sorted({t for lo, hi in windows for t in times[bisect_left(times, lo):bisect_right(times, hi)]})


def _bed_exits(k: Kit, windows: list[tuple[int, int]]) -> tuple[list[int], int]:
    """Bed exits in ``windows`` with steps within 5 min and then nothing to 60 min, and the count of bed
    events followed by nothing at all for 60 min (lying still, or the injection's step-less case)."""
    beds, need = set(k.p.bed), DEADLINE_S["night_bed_exit"]
    alikes, still = [], 0
    for t in _in([t for t, sid, _ in k.p.home.events if sid in beds], windows):
        if k.next_life(t + 1, lambda s: s not in beds) <= t + need:
            continue  # not the bed's last event before an hour without it
        i, j = bisect_right(k.life, t), bisect_right(k.life, t + need)
        steps = [k.life[x] for x in range(i, j) if k.life_sid[x] not in beds]
        if steps and steps[-1] <= t + STEP_S:
            alikes.append(t)
        still += not steps
    return alikes, still


def _door_exits(k: Kit, windows: list[tuple[int, int]]) -> list[int]:
    """Front door openings in ``windows``, then nothing but the door closing within 5 min, to 45 min."""
    door, need = k.p.front_door, DEADLINE_S["night_door_exit"]
    opens = [t for t, sid, on in k.p.home.events if sid == door and on]
    return [t for t in _in(opens, windows) if k.next_life(t + 1, lambda s: s == door) > t + need
            and k.next_life(t + STEP_S + 1) > t + need]


def night_bed_exit(k: Kit, recalls: tuple[float, ...]) -> Row | None:
    """Approx: a night bed event, steps elsewhere within 5 min, then nothing (bed included) to 60 min."""
    p = k.p
    if not p.bed:
        return None
    windows = [w for d in p.days if (w := night_window(d)) is not None]
    alikes, still = _bed_exits(k, windows)
    hours, hours_still = _bed_exits(k, [night_hours(d) for d in p.days])
    row = _approx("night_bed_exit", "night bed exit, steps within 5 min, then nothing to 60 min",
                  alikes, _uniform_mass(windows), len(p.days), recalls)
    row.note = (f"{len(windows)} nights with a bed time; bed, then nothing at all for 60 min: {still}; "
                f"in the night hours {DEFAULT_NIGHT_HOURS}: {len(hours)} look-alikes, {hours_still} still")
    return row


def night_door_exit(k: Kit, recalls: tuple[float, ...]) -> Row | None:
    """Approx: a front door opening in the night window, closed within 5 min, then nothing to 45 min."""
    p = k.p
    if p.front_door is None:
        return None
    # the door opens 60 s after the exit drawn in the injector's window
    windows = [(w[0] + 60, w[1] + 60) for d in p.days if (w := night_window(d)) is not None]
    row = _approx("night_door_exit", "night front door opening, then nothing to 45 min",
                  _door_exits(k, windows), _uniform_mass(windows), len(p.days), recalls)
    hours = _door_exits(k, [night_hours(d) for d in p.days])
    row.note = f"in the night hours {DEFAULT_NIGHT_HOURS}: {len(hours)} ({30 * len(hours) / len(p.days):.2f} / 30 d)"
    return row


def departures(k: Kit, d: SourceDay) -> list[int]:
    """The day's daytime departures in this kit: a door event, then no other sensor on for 15 min."""
    p, out = k.p, []
    ons = [t for t, sid, on in p.home.events if on and sid != p.front_door]
    for t, sid, _ in d.events:
        i = bisect_right(ons, t)
        if sid == p.front_door and DEPARTURE_HOURS[0] <= t - midnight(d) <= DEPARTURE_HOURS[1] \
                and (i == len(ons) or ons[i] - t >= DEPARTURE_QUIET_S):
            out.append(t)
    return out


def not_back(k: Kit, recalls: tuple[float, ...]) -> Row | None:
    """Approx: a daytime departure, then no sign of life (the door closing within 5 min aside) for 8 h."""
    p, need = k.p, DEADLINE_S["not_back"]
    if p.supports("not_back"):
        return None
    alikes, late, outs = [], 0, 0
    beds = [b - midnight(d) for d in p.days if (b := d.bedtime) is not None]
    usual_bed = median(beds) if beds else 22 * HOUR
    for d in p.days:
        seen = -1
        for t in departures(k, d):
            if t <= seen:  # a door closing after the opening: the same outing
                continue
            back = min(k.next_life(t + 1, lambda s: s == p.front_door), k.next_life(t + STEP_S + 1))
            seen, outs = back, outs + 1
            if back > t + need:
                alikes.append(t)
            late += back > midnight(d) + usual_bed
    mass = {}
    for x in p.departures:  # the injector draws its moment among the home's own departure times of day
        mass[x // BIN_S] = mass.get(x // BIN_S, 0.0) + 1 / len(p.departures)
    row = _approx("not_back", "daytime departure, then nothing for 8 h", alikes, mass, len(p.days), recalls)
    h, m = divmod(int(usual_bed) // 60, 60)
    row.note = (f"{late} of {outs} outings still going at the usual bed time {h % 24:02d}:{m:02d} "
                f"({30 * late / len(p.days):.1f} / 30 d)")
    return row


def _approx(kind: str, what: str, alikes: list[int], mass: dict[int, float], n_days: int,
            recalls: tuple[float, ...]) -> Row:
    def at(r: float) -> float:
        return binned_cost([_bin(t) for t in alikes], mass, n_days, r)

    return Row(kind, "approx", what, len(alikes), n_days, 30 * len(alikes) / n_days, {r: at(r) for r in recalls},
               f"all: {30 * len(alikes) / n_days:.2f} / 30 d" if alikes else "", at=at)


def not_up(k: Kit, recalls: tuple[float, ...]) -> Row | None:
    """Rule: the best single getting-up deadline T, and the best pair (weekday, weekend), per recall."""
    p = k.p
    if not p.bed:
        return None
    wakes = [(d.wake - midnight(d), d.weekend) for d in p.days if d.wake is not None]
    if not wakes:
        return None
    need = DEADLINE_S["not_up"]
    cands = sorted({w + need for w, _ in wakes})

    def best(recall: float, split: bool) -> tuple[int, int, int]:
        """(false alarm days, T weekday, T weekend): caught iff T <= wake + 3 h, alarmed iff wake > T."""
        top = (len(wakes) + 1, 0, 0)
        for t_wd in cands:
            for t_we in cands if split else [t_wd]:
                caught = sum(w + need >= (t_we if we else t_wd) for w, we in wakes)
                fa = sum(w > (t_we if we else t_wd) for w, we in wakes)
                if caught >= recall * len(wakes) - 1e-9 and fa < top[0]:
                    top = (fa, t_wd, t_we)
        return top

    one = {r: best(r, False) for r in recalls}
    two = {r: best(r, True) for r in recalls}
    r0 = recalls[0]
    note = (f"{len(wakes)} days with a wake; T {_hm(one[r0][1])}: wake later on {one[r0][0]}; one T per weekday/"
            f"weekend ({_hm(two[r0][1])}/{_hm(two[r0][2])}) costs >= {30 * two[r0][0] / len(p.days):.2f} / 30 d")
    return Row("not_up", "rule", "real wake later than the best getting-up deadline T", one[r0][0], len(p.days),
               30 * one[r0][0] / len(p.days), {r: 30 * one[r][0] / len(p.days) for r in recalls}, note,
               at=lambda r: 30 * best(r, False)[0] / len(p.days))


def _hm(s: float) -> str:
    h, m = divmod(int(s) // 60, 60)
    return f"{h % 24:02d}:{m:02d}"


KINDS = {"collapse": collapse, "not_up": not_up, "night_bed_exit": night_bed_exit,
         "night_door_exit": night_door_exit, "no_kitchen": no_kitchen, "not_back": not_back}


def bounds(p: HomeProfile, recalls: tuple[float, ...] = (RECALL, FIRST_MONTH_RECALL)) -> list[Row]:
    """Every kind's row for one kit's profile (kinds the home cannot show are left out)."""
    k = Kit.of(p)
    return [row for fn in KINDS.values() if (row := fn(k, recalls)) is not None]


def pooled(rows: list[Row], recall: float = RECALL, step: float = 0.01) -> tuple[float, dict[str, float]]:
    """Issue 11 read as recall ``recall`` over all injections together, each kind injected equally often:
    the least summed cost when the misses may go to any kinds (``1 - recall`` of each kind's share, times
    the number of kinds, in steps of ``step``), and the recall each kind then keeps."""
    units, top = round(len(rows) * (1 - recall) / step), round(0.5 / step)
    best: dict[int, tuple[float, dict[str, float]]] = {0: (0.0, {})}  # misses spent -> (cost, recall per kind)
    for row in rows:
        assert row.at is not None
        costs = [row.at(1 - m * step) for m in range(top + 1)]
        nxt: dict[int, tuple[float, dict[str, float]]] = {}
        for spent, (c, kept) in best.items():
            for m in range(min(top, units - spent) + 1):
                # a hair per miss, so that misses go only where they buy something
                cand = (c + costs[m] + m * 1e-9, {**kept, row.kind: 1 - m * step})
                if spent + m not in nxt or cand[0] < nxt[spent + m][0] - 1e-12:
                    nxt[spent + m] = cand
        best = nxt
    return min(best.values(), key=lambda v: v[0])


def table(name: str, kit: str, rows: list[Row]) -> str:
    """One home and kit as a markdown table, then the first-month view of the night checks."""
    out = [f"### {name}, kit {kit}", "",
           "| kind | match | look-alike | n / days | per 30 d | injections alike | recall 0.95 costs | "
           "recall 0.9 costs | note |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        alike = "-" if r.alike is None else f"{100 * r.alike:.1f}%"
        out.append(f"| {r.kind} | {r.match} | {r.what} | {r.n} / {r.days} | {r.per30:.2f} | {alike} | "
                   f">= {r.cost[RECALL]:.2f} | >= {r.cost[FIRST_MONTH_RECALL]:.2f} | {r.note} |")
    total, kept = pooled(rows)
    out += ["", f"Per kind at recall {RECALL}, together: >= {sum(r.cost[RECALL] for r in rows):.2f} / 30 d. "
            f"Recall {RECALL} over all kinds pooled (kinds injected equally often): >= {total:.2f} / 30 d, keeping "
            + ", ".join(f"{k} {v:.2f}" for k, v in kept.items() if v < 1)]
    night = [r for r in rows if r.kind in NIGHT_KINDS]
    if night:
        costs = [r.cost[FIRST_MONTH_RECALL] * FIRST_MONTH_DAYS / 30 for r in night]
        out += ["", f"First {FIRST_MONTH_DAYS} days (issue 14: recall {FIRST_MONTH_RECALL} from the first night, "
                f"<= {FIRST_MONTH_BUDGET} care alerts): "
                + "; ".join(f"{r.kind} {r.n * FIRST_MONTH_DAYS / r.days:.2f} look-alikes, costs >= {c:.2f}"
                            for r, c in zip(night, costs, strict=True))
                + f"; together >= {sum(costs):.2f} of the {FIRST_MONTH_BUDGET}"]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--homes", nargs="+", default=list(HOMES))
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    args = ap.parse_args()
    from benchmarks.streams import profile

    for name in args.homes:
        p = profile(load_home(name, args.data))
        for kit in kits_for(p.home):
            print(table(name, kit, bounds(kit_profile(p, kit))), end="\n\n")


if __name__ == "__main__":
    main()

