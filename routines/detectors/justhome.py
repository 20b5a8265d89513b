"""Just home: the person came home by the front door, and there has been no sign of life indoors since.

An outing ends at the first front door since going out (:func:`routines.detectors.episodes.back_home`),
but the core knows the person is in only from the next sign of life indoors: until then they are still
'out'. So a fall in the hall right after coming in was judged by nothing: not by the daytime stillness
limits (they judge the person at home) nor by 'not back' (a door since going out is coming home).

The ``just_home`` situation (:mod:`routines.detectors.situations`) is that quiet: from the last front-door
event since the outing (the door shut behind the person, or opened again for the shopping) to the first
sign of life indoors. On ordinary returns life shows within minutes (the hall, the kettle, the toilet);
how soon is the person's own, learned with forgetting, and the limit is set from the person's budget
like every situation's (the starting limit ``just_home_start_min`` until ``situation_min_days`` days are
learned). It lasts until that first sign of life, as ``night_first_sign`` does at night: the quiet after
it is the person seen at home, judged by the hour's and the last sensor's limits
(:func:`routines.detectors.daytime.silence`), whose learned spells are exactly those. While it lasts it
is the only limit that applies (the person is not read as home yet), so the alert says it decided. In
a home without a bed sensor a return after the evening has begun (the bed window) is not judged: as
any quiet then, it is read as going to bed.

A door while out is not always a return. Only an outing nothing indoors moved during is judged: one
sensor alone moving while the person is read as out (``away_seen``: a seat mat, a pet; the core needs a
second sensor to read a return without the door) means the person may never have left, and the door
may be them going out (house C: a step outside at 16:26, the couch at 16:44, out by the door at 17:11
until 21:55 read as home at 17:11 and 4 h 43 min of quiet, a false alarm each time the evaluation drew
that day). A doorstep visit, or coming in and going out again with no sensor seeing it, still looks
like a return until something moves indoors: such spells are the person's own and are learned like the
others; the cap is the blind home's (``blind_silence_cap_min``), as a second departure after the door
cannot be seen.
"""

from __future__ import annotations

from routines.detectors import situations
from routines.detectors.common import Tick, _alert, _clock
from routines.explain import duration
from routines.learning import state_of

FAMILY = ("just_home",)


def just_home(c: Tick) -> None:
    """Came home by the front door (a door since going out) and nothing indoors since, for longer than
    the person's own returns go quiet."""
    eng, p, t, thr, due = c.eng, c.p, c.t, c.thr, c.due
    back = (p.away and p.door_in_t is not None and p.door_t is not None and p.away_seen is None
            and "silence" not in c.blind and "night_door" not in c.blind)  # (the door down: its moves unseen)
    if not back:
        if "just_home" in p.waiting.now:  # life showed indoors (or the door went blind): the spell is over
            situations.probe(eng, p, FAMILY, None, 0.0, t, due)
        return
    start = p.door_t  # the last door: the door moving is the person too
    if not c.has_bed and start >= c.ep.bed_window:
        # no bed sensor: once the evening has begun a quiet is read as going to bed (phases.going_to_bed),
        # so a quiet after coming home then is too (house A: home at 23:39, nothing until 00:40)
        if "just_home" in p.waiting.now:
            situations.probe(eng, p, FAMILY, None, 0.0, t, due)
        return
    situations.probe(eng, p, FAMILY, "just_home", start, t, due)
    limit = thr.wait_s["just_home"]
    if t < start + limit:
        due.append(start + limit)
        return
    key = f"{p.id}:silence:{start:.0f}"
    situations.flag(p, "just_home", key)
    c.add(_alert(eng, p, t, "silence", key, _message(c, start), {
        "since": eng.alert_time(start).isoformat(), "quiet_min": round((t - start) / 60, 1),
        "limit_min": round(limit / 60, 1), "learned": thr.wait_own["just_home"], "just_home": True,
        "came_in": eng.alert_time(p.door_in_t).isoformat(),
        "out_since": eng.alert_time(p.away_since).isoformat() if p.away_since is not None else None,
        "last_sensor": p.last_s.id if p.last_s is not None else None, "by_last_sensor": False,
        "sitting": False, "stood_up": False, "limit": state_of(eng, p, "silence")}))


def _message(c: Tick, start: float) -> str:
    """What happened, with the times the core saw (going out, the door, the last door move), and the limit
    that decided it in the person's own figures."""
    eng, p, t, pr = c.eng, c.p, c.t, c.pr
    came = p.door_in_t
    assert came is not None
    out = f" (out since {_day_clock(c, p.away_since, came)})" if p.away_since is not None else ""
    last = f", the door last moved at {_clock(eng, start)}" if _clock(eng, start) != _clock(eng, came) else ""
    usual = situations.usual_words(eng, p, "just_home", "Before any sign of life indoors after coming home", pr.poss)
    return (f"{c.name} came home by the front door at {_clock(eng, came)}{out} and there has been no sign of "
            f"{pr.obj} indoors since ({duration(t - start)}{last}). {usual}. Possible fall.")


def _day_clock(c: Tick, t0: float, t1: float) -> str:
    """The clock time of ``t0``, with its date when that is not the day of ``t1`` (an outing of days)."""
    a, b = c.eng.alert_time(t0), c.eng.alert_time(t1)
    return _clock(c.eng, t0) if a.date() == b.date() else f"{_clock(c.eng, t0)} on {a.day} {a:%B}"
