"""How far each check has learned the person's own routine, in words: the ONE reading that ``hearth
status``, the web console and the team's uplink all show (through :meth:`RoutineEngine.status`).

A check that needs no learning watches from the first night. A check that depends on the person's own
day starts with the starting limit (the population prior, or the technician's starting setting), is
``learning`` while its own evidence grows (the prior fading out), and watches with the person's own
routine once it has ``own_routine_days`` days of it.

>>> words("learning", "Ann", 9, 14, None)
'learning: 9 of 14 days'
>>> words("own", "Ann", 14, 14, date(2026, 3, 12))
"watching with Ann's own routine since 12 March"
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routines.alert import Alert
    from routines.engine import RoutineEngine
    from routines.state import PersonState

# check -> (what it watches, in words; the model whose values are its own days, or None: no learning)
CHECKS: dict[str, tuple[str, str | None]] = {
    "night_door": ("the front door at night", None),
    "night_bed_exit": ("out of bed at night", "night_exits_model"),
    "not_up": ("getting up", "wake_model"),
    "silence": ("stillness in the day", "activity_total"),
    "no_meal": ("meals (kitchen use)", "kitchen_model"),
    "sensors": ("sensors offline or silent", None),
}
# Plausible bounds of each learned day marker, local clock (from, to): a marker outside them is not the
# person's main sleep (a getting-up read in the small hours of a broken night, a return home at 20:32 read
# as a wake) and is refused: never learned, never used as a limit, and technicians are told.
# Chosen leave-one-home-out from every real recording's labelled main sleep (benchmarks/homes.py
# sleep_labels, 53 labelled nights of houses A, B, C): getting up, the latest end of a 'go to bed' between
# 04:00 and 14:00, runs 04:25-12:41 over all homes, and the bounds of any two homes widened by 2 h hold
# every day of the third (B held out: C and A give 05:58-11:20, so 03:58-13:20 holds B's 04:25 and 12:41);
# 04:00-14:00 is that, rounded outward. Going to bed (the start of the night's first long sleep) runs from
# 21:53 (A) to past midnight; A held out, B and C give 22:35 and later, less 2 h is 20:35, and A's 21:53 is
# inside: 19:00 rounds that outward, to the end of the person day (a bed time after the day start is the
# next day's night, which the core reads as a late night, not a bed time).
MARKER_BOUNDS: dict[str, tuple[str, str]] = {"wake": ("04:00", "14:00"), "bed": ("19:00", "04:00")}
# marker -> (the check it sets, its words for technicians)
MARKER_WORDS = {"wake": ("not_up", "getting-up time"), "bed": ("night_door", "bed time")}


def plausible(eng: RoutineEngine, marker: str, dsm: float) -> bool:
    """Is ``dsm`` (minutes since the person-day start) inside the marker's plausible bounds?

    >>> from routines.engine import RoutineEngine
    >>> from routines.home import Home, Person
    >>> eng = RoutineEngine(Home("UTC", (Person("p1", "Ann", "she"),), ()))
    >>> plausible(eng, "wake", 210.0), plausible(eng, "wake", 1301.0)  # 07:30 and 01:41 (day starts 04:00)
    (True, False)
    """
    from routines.detectors.common import _parse_hhmm

    lo, hi = (_parse_hhmm(x, eng.settings.day_start_hour) for x in MARKER_BOUNDS[marker])
    return (dsm - lo) % 1440 <= (hi - lo) % 1440 or (hi - lo) % 1440 == 0


def refuse_markers(eng: RoutineEngine, p: PersonState, pl: dict[str, Any]) -> tuple[dict[str, Any], list[Alert]]:
    """(the day's payload with every implausible marker refused, the technicians' alerts saying so)."""
    out: list[Alert] = []
    for marker in MARKER_BOUNDS:
        v = pl.get(marker)
        if v is not None and not plausible(eng, marker, v):
            pl = {**pl, marker: None}
            out += _tell(eng, p, marker, f"read today ({_clock_dsm(eng, v)})", "so it was not learned")
    return pl, out


def guard_limits(eng: RoutineEngine, p: PersonState) -> None:
    """The last step of every threshold refresh (:func:`routines.detectors.thresholds.refresh_thresholds`):
    a usual time outside its bounds (learned, or blended with the prior) is refused and the starting
    setting used instead; what was refused is kept in ``p.thr.refused`` for the day end to tell
    technicians (:func:`tell_refused`)."""
    from routines.detectors.common import _parse_hhmm

    thr, st = p.thr, eng.settings
    h0 = st.day_start_hour
    start = _parse_hhmm(st.default_wake_time, h0)
    wakes = [*thr.wake_q_by_type, *thr.wake_usual_by_type, thr.wake_q]
    bad = next((w for w in wakes if not plausible(eng, "wake", w)), None)
    if bad is not None:
        thr.wake_q_by_type = tuple(w if plausible(eng, "wake", w) else start for w in thr.wake_q_by_type)
        thr.wake_usual_by_type = tuple(w if plausible(eng, "wake", w) else start
                                          for w in thr.wake_usual_by_type)
        thr.wake_q = thr.wake_q if plausible(eng, "wake", thr.wake_q) else start
        thr.not_up_dsm = thr.wake_q + st.wake_margin_min
        thr.wake_learned = False
        thr.refused["wake"] = bad
    if not plausible(eng, "wake", thr.sleep[1]):
        thr.sleep = (thr.sleep[0], max(0.0, thr.wake_q - 240))
        thr.earliest_wake_dsm = max(0.0, thr.sleep[1] - 60)
    if not plausible(eng, "bed", thr.bed_med):
        thr.refused["bed"], thr.bed_med = thr.bed_med, _parse_hhmm(st.default_bed_time, h0)
        thr.sleep, thr.bed_learned = (thr.bed_med, thr.sleep[1]), False
    thr.epochs = None  # today's deadlines are read again from the limits now in force


def tell_refused(eng: RoutineEngine, p: PersonState) -> list[Alert]:
    """At the day end: technicians are told of a usual time the last refresh refused (once a week)."""
    st, out = eng.settings, []
    starting = {"wake": st.default_wake_time, "bed": st.default_bed_time}
    for marker, bad in p.thr.refused.items():
        out += _tell(eng, p, marker, f"learned as usual ({_clock_dsm(eng, bad)})",
                     f"so it is not used: the starting setting of {starting[marker]} is")
    return out


def _clock_dsm(eng: RoutineEngine, dsm: float) -> str:
    from routines.detectors.common import _hm

    return _hm(dsm, eng.settings.day_start_hour)


def _tell(eng: RoutineEngine, p: PersonState, marker: str, what: str, done: str) -> list[Alert]:
    """One technicians' alert a week per person and marker: a marker outside its plausible bounds."""
    from routines.detectors.common import _alert
    from routines.explain import Pronouns

    check, words = MARKER_WORDS[marker]
    lo, hi = MARKER_BOUNDS[marker]
    name, pr = eng.names[p.id].name, Pronouns(eng.names[p.id].pronoun)
    d = eng._day_date
    last = p.told.get(f"implausible_{marker}")  # once a week, not every morning
    if d is None or (last is not None and (d - last).days < 7):
        return []
    p.told[f"implausible_{marker}"] = d
    week = f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"
    a = _alert(eng, p, eng._day_end, "blind_check", f"{p.id}:implausible:{marker}:{week}",
               f"{name}'s {words} {what} is outside the plausible hours {lo}-{hi} for {pr.poss} main sleep, "
               f"{done} (never a limit from it). Broken nights, or a bed sensor that misses {pr.obj}? "
               f"Please check how the bed sensor is fitted.",
               {"check": check, "marker": marker, "bounds": [lo, hi], "sensors": []})
    return [a] if a is not None else []


# checks a sensor's absence makes blind (routines.detectors.common.CHECKS words the technicians' side)
NEEDS = {"night_door": "door", "night_bed_exit": "bed", "not_up": None, "no_meal": "kitchen"}


def own_days(p: PersonState, check: str) -> int:
    """Days of the person's own evidence this check has learned (0 for checks that need none)."""
    model = CHECKS[check][1]
    return getattr(p, model).n if model else 0


def state_of(eng: RoutineEngine, p: PersonState, check: str) -> str:
    """``ready`` (needs no learning), ``starting``, ``learning`` or ``own``."""
    if CHECKS[check][1] is None:
        return "ready"
    days = own_days(p, check)
    if days >= eng.settings.own_routine_days:
        return "own"
    return "learning" if days else "starting"


def words(state: str, name: str, days: int, of: int, since: date | None) -> str:
    if state == "ready":
        return "watching from the first night (needs no learning)"
    if state == "starting":
        return f"watching with the starting limit (learning: 0 of {of} days)"
    if state == "learning":
        return f"learning: {days} of {of} days"
    when = f" since {since.day} {since.strftime('%B')}" if since is not None else ""
    return f"watching with {name}'s own routine{when}"


def note_own(eng: RoutineEngine, p: PersonState) -> None:
    """At day end: remember the day each check began watching with the person's own routine."""
    if eng._day_date is None:
        return
    for check in CHECKS:
        if state_of(eng, p, check) == "own" and check not in p.own_since:
            p.own_since[check] = eng._day_date + timedelta(days=1)


def learning_status(eng: RoutineEngine, p: PersonState) -> list[dict[str, Any]]:
    """Per check: what it watches, its state, the own days it has and needs, and the words to show."""
    name = eng.names[p.id].name
    of = eng.settings.own_routine_days
    out = []
    for check, (what, _) in CHECKS.items():
        need = NEEDS.get(check)
        if need is not None and not eng.has(p.id, need):
            out.append({"check": check, "watches": what, "state": "blind", "days": 0, "of": of, "since": None,
                        "words": f"not watched: no {need} sensor"})
            continue
        st = state_of(eng, p, check)
        days = min(own_days(p, check), of)
        since = p.own_since.get(check) if st == "own" else None
        out.append({"check": check, "watches": what, "state": st, "days": days, "of": of,
                    "since": since.isoformat() if since else None, "words": words(st, name, days, of, since)})
    return out



def p_poss(eng: RoutineEngine, p: PersonState) -> str:
    from routines.explain import Pronouns

    return Pronouns(eng.names[p.id].pronoun).poss


def weekly_note_lines(eng: RoutineEngine, pid: str) -> list[str]:
    """The learning status as lines for the team's weekly note (the first notes after an install): one
    line per check, the same words as ``hearth status``, the console and the uplink.

    To be called by the weekly trends note (``alerts/digest.py`` ``weekly_trends`` through
    ``gateway/digests.py``) with the gateway's engine; empty once every check watches with the person's
    own routine (nothing left to say).
    """
    p = eng._persons[pid]
    rows = learning_status(eng, p)
    if all(r["state"] in ("own", "ready", "blind") for r in rows) and any(r["state"] == "own" for r in rows):
        return []
    name = eng.names[pid].name
    return [f"How far Hearth has learned {name}'s routine:"] + [f"- {r['watches']}: {r['words']}" for r in rows]
