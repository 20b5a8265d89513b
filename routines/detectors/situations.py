"""Waiting limits per situation, learned from the person's own days and calibrated to one false-alarm budget.

A situation is what the person was last seen doing when the quiet began; each asks its own question:

- ``night_first_sign``: just got out of bed at night (or in the early morning), and no sign of life
  anywhere since. On ordinary nights life shows elsewhere within minutes (the toilet door, the hall): how
  soon is this person's own.
- ``night_still``: out of bed at night, seen about the home, and nothing has moved since.
- ``night_bedroom``: out of bed at night, last seen by a bedroom sensor that is not the bed mat (bedroom
  motion, the dresser, the bedroom door), and nothing has moved since: back in the bedroom but not in bed,
  where a fall after getting up is seen by nothing else (on ordinary nights the bed or another room
  follows within minutes).
- ``night_up``: out of bed at night and up and about for a while (``night_up_after_min``) before nothing
  moved, wherever last seen: awake at night, not on a trip to the toilet. Some people doze in a chair with
  no sensor after an hour up; the quiet is judged by the person's own nights within a longer cap.
- ``night_back``: out of bed at night, however active: how long until the person is back in bed (a night
  that ends with getting up for the day counts as far as it went: an early riser's mornings are learned).
- ``stood_up``: just stood up from the chair in the day (the chair no longer holds weight). Quiet while
  seated can last hours; quiet after standing up is a different thing.
- ``morning_still``: in bed past the usual wake (``still_wake_quantile``), and not even the bed mat has moved since: how
  long this person's bed stays still on ordinary mornings before getting up (some lie still for hours,
  most turn over within minutes). 'Not up' alerts sooner when that is outlasted (:func:`routines.detectors.night.not_up`);
  never shorter than ``not_up_still_min``; until learned, ``morning_still_start_min`` (default: the cap, so
  the usual deadline decides in the first weeks).
- ``day_bed_exit``: out of bed by day, after the day's getting up (up from a nap, a lie-down), and no
  sign of life since but a first step (what the core sees within 2 min of the exit, as
  :func:`routines.detectors.phases.up_a_moment` reads one): a fall right after getting up, as after
  standing up from the chair or getting out of bed at night. On ordinary afternoons life shows within
  minutes; the daytime limits still apply, the sooner decides (:func:`routines.detectors.daytime.silence`),
  and until the person's own days are learned they alone decide (its start is the cap: see
  ``day_bed_exit_start_min``).
- ``just_home``: just came home by the front door (a door since going out), and no sign of life indoors
  since: on ordinary returns the hall, the kettle or the toilet shows life within minutes, and until it
  does the core does not yet read the person as home, so no other limit judges a fall in the hall
  (:mod:`routines.detectors.justhome`).

Each learns, with forgetting, how often a day its quiet outlasted each wait (:class:`routines.waiting.WaitModel`),
by looking at those moments (:func:`probe`, from the detectors' evaluations: a chain of looks at the last
sign of life plus the situation's shortest wait, then at each longer wait while the quiet lasts). Its
limit is the shortest wait past which the learned days would have raised no more alerts than its share of
the person's budget (``false_alarm_budget_per_30d``, split evenly over the situations the home can
see), times ``situation_margin``, within the situation's floor and cap; the starting limit until
``situation_min_days`` days are learned.

A spell that raised an alert is kept back (a model never learns what it flagged). A carer's "false alarm"
teaches it, and so does one nobody marked real within ``settle_unconfirmed_days`` (at most one a week),
each only as far as the limit it outlasted: one false alarm moves a limit one step later (at most 15 min, times
``situation_margin``),
never by hours, and unmarked alerts at most 30 min a week.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from routines.explain import duration
from routines.waiting import WAIT_EDGES_S, WaitModel, edge_index

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.settings import RoutineSettings
    from routines.state import PersonState


@dataclass(frozen=True, slots=True)
class Situation:
    """One situation: the sensor it needs, and its starting limit, floor and cap (settings names, minutes)."""

    needs: str
    start: str
    floor: str
    cap: str


SITUATIONS: dict[str, Situation] = {
    "night_first_sign": Situation("bed", "night_first_sign_start_min", "night_first_sign_floor_min",
                                  "night_quiet_cap_min"),
    "night_still": Situation("bed", "night_still_away_min", "night_exit_floor_min", "night_quiet_cap_min"),
    "night_bedroom": Situation("bedroom", "night_bedroom_start_min", "night_exit_floor_min", "night_quiet_cap_min"),
    "night_back": Situation("bed", "night_back_start_min", "night_exit_floor_min", "night_back_cap_min"),
    "night_up": Situation("bed", "night_up_start_min", "night_exit_floor_min", "night_up_cap_min"),
    "stood_up": Situation("chair", "silence_cap_min", "silence_floor_min", "silence_cap_min"),
    "morning_still": Situation("bed", "morning_still_start_min", "not_up_still_min", "morning_still_cap_min"),
    # floor: the shortest stillness limit after one sensor (a first step is one); cap: the daytime quiet's
    "day_bed_exit": Situation("bed", "day_bed_exit_start_min", "stillness_context_floor_min", "silence_cap_min"),
    # floor: the shortest stillness limit after one sensor (here the front door); cap: the blind home's, as a
    # second departure after a door while out cannot be seen (routines.detectors.justhome)
    "just_home": Situation("door", "just_home_start_min", "stillness_context_floor_min", "blind_silence_cap_min"),
}


# The situations capped by the daytime quiet's cap (stood_up, day_bed_exit) take the home's own (the
# thresholds' silence_cap_s): without a working front door an outing looks like stillness, so the daytime
# quiet waits up to blind_silence_cap_min, and a situation capped at 6 h undercut it. House C with its door
# left out: 'no movement for 6 h since standing up from the couch' on 8 of 28 learned days he went out
DAY_QUIET_CAP = "silence_cap_min"


def _bedroom(eng: RoutineEngine, pid: str) -> bool:
    """A bed mat and a bedroom sensor that is not one: the person can be seen out of bed in the bedroom."""
    return eng.has(pid, "bed") and any(s.bedroom and not s.bed for s in eng.person_sensors[pid])


# what a home must have to see a situation (``Situation.needs``): an engine flag, or a test of its own
SEES = {"bedroom": _bedroom}


def sees(eng: RoutineEngine, pid: str, needs: str) -> bool:
    """Whether the person's home can see a situation that needs ``needs``."""
    test = SEES.get(needs)
    return test(eng, pid) if test is not None else eng.has(pid, needs)


def _minutes(st: RoutineSettings, field: str) -> float:
    return float(getattr(st, field)) * 60.0


def start_s(st: RoutineSettings, s: Situation) -> float:
    """A situation's starting limit (seconds): its setting, or its cap where that is None (the night quiets:
    before the person's own nights are known, the longest wait the deadline allows; learned limits never
    exceed the cap, so the limit only tightens once they are)."""
    v = getattr(st, s.start)
    return float(v) * 60.0 if v is not None else _minutes(st, s.cap)


def models(p: PersonState, half_life_days: float) -> dict[str, WaitModel]:
    """The person's wait models, made on first use (a checkpoint from before them has none)."""
    ms = p.waiting.models
    if len(ms) < len(SITUATIONS):  # (or one made before a situation was added: it starts learning now)
        ms.update({name: WaitModel(half_life_days) for name in SITUATIONS if name not in ms})
    return ms


def rate_per_day(eng: RoutineEngine, p: PersonState) -> float:
    """Each situation's share of the person's budget, in alerts a day: the budget split evenly over the
    situations this home can see (a home without a chair mat gives its share to the others), daytime quiet
    at home (per hour and per sensor, :mod:`routines.detectors.quietbudget`) being one of them."""
    seen = [s for s in SITUATIONS.values() if sees(eng, p.id, s.needs)]
    more = [k for k, needs in OTHER_SHARES.items() if needs is None or eng.has(p.id, needs)]
    return eng.settings.false_alarm_budget_per_30d / 30.0 / (len(seen) + len(more))


# the budget's other spenders, each one share like a situation (and the sensor it needs, None: any home):
# daytime quiet (routines.detectors.quietbudget), the 'no meal' deadline
# (routines.detectors.thresholds.budget_quantile), and 'left on' (routines.detectors.appliances: the
# share split over the person's appliance sensors)
OTHER_SHARES: dict[str, str | None] = {"day_quiet": None, "no_meal": "kitchen", "appliance_on": "plug"}


def refresh(eng: RoutineEngine, p: PersonState, prev: dict[str, float]) -> None:
    """At rollover (and after an outcome): close the day into the models, then set each situation's limit
    into ``p.thr.wait_s`` (seconds) and whether it is the person's own (``p.thr.wait_own``)."""
    st = eng.settings
    ms = models(p, st.half_life_days)
    _close_day(eng, p, ms, prev)
    _learn_outcomes(eng, p, ms, prev)
    rate = rate_per_day(eng, p)
    lim, own = {}, {}
    for name, s in SITUATIONS.items():
        m = ms[name]
        cap, start = _minutes(st, s.cap), start_s(st, s)
        if s.cap == DAY_QUIET_CAP:  # the daytime quiet's cap is this home's: longer where going out is unseen
            home_cap = max(cap, p.thr.silence_cap_s)
            start = home_cap if start >= cap else start  # a start at the everyday cap starts at the home's
            cap = home_cap
        v = m.limit(rate, st.situation_margin, start, st.situation_min_days)
        lim[name] = min(cap, max(_minutes(st, s.floor), v))
        own[name] = m.days_raw >= st.situation_min_days
    p.thr.wait_s, p.thr.wait_own = lim, own
    p.thr.wait_floor_s = {name: _minutes(st, s.floor) for name, s in SITUATIONS.items()}


def _close_day(eng: RoutineEngine, p: PersonState, ms: dict[str, WaitModel], prev: dict[str, float]) -> None:
    """The day just summarised (``finish_day`` calls refresh after appending it): its spells are learned,
    those still going on are ended (the day is over), a day with a known context or no event teaches nothing."""
    if not p.summaries or p.summaries[-1].date != eng._day_date or p.waiting.closed == eng._day_date:
        return
    for name in list(p.waiting.now):
        _end(p, ms, name)
    summary = p.summaries[-1]
    learn = not summary.contexts and sum(summary.hourly_activity) > 0
    for m in ms.values():
        m.close_day(learn)
    p.waiting.closed = eng._day_date
    _settle(eng, p, ms, prev)


def _end(p: PersonState, ms: dict[str, WaitModel], name: str) -> None:
    """A spell is over (life showed, or the situation changed): today's model learns how far it went,
    unless it raised an alert (then it waits, kept back, for an outcome)."""
    _, k, key, date = p.waiting.now.pop(name)
    if k < 0:
        return
    if key is None:
        ms[name].add(WAIT_EDGES_S[k])
    else:
        p.waiting.kept.append((date, name, float(WAIT_EDGES_S[k]), key))


def _cap(eng: RoutineEngine, prev: dict[str, float], name: str, seconds: float) -> int:
    """The longest wait a kept-back spell may teach: the wait behind the limit it outlasted (``prev``: the
    limits before this refresh, less the margin), so the limit moves one step later (at most 15 min times
    ``situation_margin``), never to the spell's own length."""
    return edge_index(prev.get(name, seconds) / eng.settings.situation_margin)


def _learn_outcomes(eng: RoutineEngine, p: PersonState, ms: dict[str, WaitModel], prev: dict[str, float]) -> None:
    """Kept-back spells whose alert a carer marked a false alarm: learned now, one step past the limit."""
    keep = []
    for date, name, secs, key in p.waiting.kept:
        outcome = eng._outcomes.get(key)
        if outcome == "false_alarm":
            ms[name].learn_late(secs, _cap(eng, prev, name, secs))
        elif outcome != "real":
            keep.append((date, name, secs, key))
    p.waiting.kept = keep


def _settle(eng: RoutineEngine, p: PersonState, ms: dict[str, WaitModel], prev: dict[str, float]) -> None:
    """Kept-back spells nobody marked real within ``settle_unconfirmed_days``: learned up to the limit they
    outlasted, at most :data:`SETTLED_PER_WEEK` a situation in 7 days (one step: a limit moves later by at
    most 15 min times the margin, under 30 min, a week through unmarked alerts); the rest wait their turn
    (the latest :data:`KEPT_MAX` are kept)."""
    days = eng.settings.settle_unconfirmed_days
    today = eng._day_date
    if not days or today is None:
        return
    keep = []
    for date, name, secs, key in p.waiting.kept:
        recent = [d for d in p.waiting.settled.get(name, []) if (today - d).days < 7]
        if (today - date).days >= days and len(recent) < SETTLED_PER_WEEK:
            ms[name].learn_late(secs, _cap(eng, prev, name, secs))
            p.waiting.settled[name] = [*recent, today]
        else:
            keep.append((date, name, secs, key))
    p.waiting.kept = keep[-KEPT_MAX:]


SETTLED_PER_WEEK = 1
KEPT_MAX = 60


def probe(eng: RoutineEngine, p: PersonState, family: tuple[str, ...], name: str | None, start: float, t: float,
          due: list[float]) -> None:
    """Look at the quiet in situation ``name`` of ``family`` (None: in none of them) that began at ``start``:
    note how far it has gone, end the family's spells that are over, and ask to be looked at again at its
    next wait (or when the situation's shortest wait would first be reached)."""
    now = p.waiting.now
    if name is None:
        for n in now:  # (a plain loop: any() over a generator costs twice as much here)
            if n in family:
                break
        else:
            return  # in no situation, and none of the family's spells going on to end: most looks, by day
    ms = models(p, eng.settings.half_life_days)
    for other in [n for n, v in now.items() if n in family and (n != name or v[0] != start)]:
        _end(p, ms, other)
    if name is None:
        return
    cur = p.waiting.now.get(name)
    if cur is None:
        cur = p.waiting.now[name] = [start, -1, None, eng._day_date]
    k = edge_index(t - start)
    cur[1] = max(cur[1], k)
    floor = _minutes(eng.settings, SITUATIONS[name].floor)
    nxt = start + max(floor, WAIT_EDGES_S[k + 1] if k + 1 < len(WAIT_EDGES_S) else floor)
    if nxt > t:
        due.append(nxt)


def drop(p: PersonState, name: str, start: float) -> None:
    """The spell in ``name`` that began at ``start`` is over without teaching anything (nor kept back):
    another limit decides such a spell (see :func:`routines.detectors.night.not_up`)."""
    cur = p.waiting.now.get(name)
    if cur is not None and cur[0] == start:
        del p.waiting.now[name]


def flag(p: PersonState, name: str, key: str) -> None:
    """The spell now going on in ``name`` raised the alert ``key``: it is kept back when it ends."""
    cur = p.waiting.now.get(name)
    if cur is not None:
        cur[2] = key


def usual_words(eng: RoutineEngine, p: PersonState, name: str, what: str, poss: str) -> str:
    """The person's own figures behind a situation's limit, ``what`` naming the situation: true counts of
    days learned (``poss``: the person's possessive pronoun)."""
    m = models(p, eng.settings.half_life_days)[name]
    lim = p.thr.wait_s[name]
    if not p.thr.wait_own[name]:
        return (f"{what}: the starting limit of {duration(lim)} is used until {poss} own days are learned "
                f"({m.days_raw} of {eng.settings.situation_min_days} days)")
    n = m.days_over(lim)
    spell = SPELL_WORDS[name].format(poss=poss)
    return f"{what}, {spell} {duration(lim)} or more on {n} of the {m.days_raw} days learned"


# what a situation's spell is, in words (the waits are quiet, or time out of bed)
SPELL_WORDS = {"night_first_sign": "{poss} quiet lasted", "night_still": "{poss} quiet lasted",
               "night_bedroom": "{poss} quiet lasted", "night_up": "{poss} quiet lasted",
               "night_back": "{poss} time out of bed lasted", "stood_up": "{poss} quiet lasted",
               "morning_still": "{poss} bed was still", "just_home": "{poss} quiet lasted",
               "day_bed_exit": "{poss} quiet lasted"}
