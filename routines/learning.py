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


def limit_words(eng: RoutineEngine, p: PersonState, check: str) -> str:
    """Which limit an alert of ``check`` used, for its message: the starting limit, the limit while
    learning, or the person's own (the caller then says what their own routine is)."""
    st = state_of(eng, p, check)
    of = eng.settings.own_routine_days
    source = "other people's routines" if eng.prior is not None else "the starting setting"
    if st == "starting":
        return f"the starting limit, set from {source}, until {p_poss(eng, p)} own routine is learned: 0 of {of} days"
    if st == "learning":
        return f"the limit while learning: {own_days(p, check)} of {of} days of {p_poss(eng, p)} own, with {source}"
    return ""


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
