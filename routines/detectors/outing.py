"""Not back when usual: an outing far longer than the person's own outings begun at that time of day, or
one still going at the person's usual bed time (and past the latest they came home from outings begun then).

An outing is what the core reads at the front door: the door, then nothing indoors for
``away_confirm_min`` (:func:`routines.detectors.phases.gone_out`); it ends at the first door since
(:func:`routines.detectors.episodes.back_home`). So the check needs a front door sensor that works: a home
without one never reads an outing and this never fires (going out there looks like stillness, judged by
the blind-home silence limit instead).

Limits (:func:`limits`), the earlier of:

- length: the longest of the person's own outings begun within 2 h of this departure (the last 240
  outings), times :data:`MARGIN`, and at least :data:`MIN_EXTRA_MIN` more; with too few outings at that
  time of day, the longest at any time; before :class:`routines.models.OutingModel` warm-up, none by default
  (the starting limit :attr:`~routines.settings.RoutineSettings.default_outing_min` if an installer set one:
  real people cross any limit short enough to tell a departure with no return within 8 h often, 10 of 56
  outings in house C and 18 of 44 in house A lasted over 8 h, so a guessed one is a false alarm most weeks);
- bed time (once the person's own bed time is learned, and only for a person who is (almost) never out at
  it, :func:`bed_rule`): the later of the usual bed time and :data:`RETURN_MARGIN_MIN` past the latest the
  person came home from outings begun within 2 h of this departure (with too few there, from any outing). An
  outing that began after it is judged by its length alone (the night door check watches the small hours);
- night out (a person out at bed time more often than that): an outing still going at the usual bed time is
  a night out, whose length the outings that ended before bed time do not tell, so it is told only once past
  its length limit AND the usual bed time the next day (a night and a whole day away). The same while fewer
  than ``learning_days`` days are learned against the person's own bed time (whether the person stays out
  some nights is not known yet: in house A's first 28 days the length and bed-time limits told 10 nights
  away over 5 seeds, all false alarms, and 4 more while days before the own bed time counted as nights in),
  at the bed time the core holds (the starting one until the person's own is learned; it only delays).

Nights out (:meth:`routines.models.OutingModel.stays_out`): on how many of the last days learned the person
was still out at their usual bed time and came home by themselves later. A working man out until 1 am once
a week makes the bed-time limit a false alarm every week, so it is used only while that is at most one day
in :data:`STAYS_OUT_EVERY`. This is a count that switches a rule, not a limit moving later, but it is learned
within issue 11's decision 4 all the same: a night out that raised the alert counts only once a carer marks
it a false alarm or ``settle_unconfirmed_days`` pass with nobody marking it real, and one night out alone
never switches the rule off (at least two are needed), so one unmarked alert does not move a deadline by hours.

:data:`MARGIN` on the two recorded homes with a front door (python -m benchmarks.seeds, five seeds, the
``not_back`` lines; measured before the 30-min learning bound below), each judged by the other's choice: vk2008-A picks 1.5 (1.0 catches none of its
departures either, as its usual outings last 7-10 h, and adds 0.5 false alarms a month); vk2010-C would
pick 1.0 (recall 0.14 against 0.04, +0.1 false alarm a month), which costs vk2008-A 0.7 false alarms a
month for nothing caught. 1.5 holds on both; the other margins are the core's usual ones, not fitted.

An outing that raised this alert is learned only if it ended by itself soon after (:func:`learn_outings`).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from routines.detectors.common import Tick, _alert, _clock, _hm
from routines.explain import duration

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.state import PersonState

MARGIN = 1.5  # times the longest usual outing at that time of day
MIN_EXTRA_MIN = 60.0  # ... and at least this much longer (a 20-min walk is not overdue at 30 min)
# past the latest the person has come home from outings begun about then: as long past it as 'not up' waits
# past the latest usual wake (a recorded day repeated in the evaluation ends seconds after its own last time)
RETURN_MARGIN_MIN = 30.0
# an outing that raised the alert and ended by itself at most this long after it may be learned (then
# the person's normal has grown); later than that it is never learned (issue 11: nothing moves a limit by
# hours, and a person found the next morning is not a day out)
SETTLE_PAST_MIN = 30.0
# an outing far past its limit that ended by itself (the person came home) moves the length limit about then
# later by at most this much, at most once a week (issue 11, decision 4), however long it ran
STEP_MIN = 30.0
STEP_EVERY_DAYS = 7
# the bed-time limit is used only for a person still out at their usual bed time on at most one learned day
# in this many: each such day would be a false alarm, and one in 60 days is the 0.5 a month the check may
# cost (the budget of issue 11 is 1 a month across all checks), not a figure fitted to a home
STAYS_OUT_EVERY = 60


def bed_rule(eng: RoutineEngine, p: PersonState) -> bool | None:
    """Is the bed-time limit used for this person: only once :attr:`learning_days` of their own days are
    learned against their own bed time (False before; :func:`learn_outings` counts no day before it), and
    only while they were still out at their usual bed time on at most one day in :data:`STAYS_OUT_EVERY` of them (:meth:`routines.models.OutingModel.stays_out`); None: they were out at
    bed time more often than that (a person who stays out some nights)."""
    out, days = p.not_back.model.stays_out()
    if days < eng.settings.learning_days:
        return False
    return True if out <= max(1, days // STAYS_OUT_EVERY) else None


def limits(eng: RoutineEngine, p: PersonState, start: float) -> dict[str, Any]:
    """When an outing begun at ``start`` (epoch seconds) becomes overdue, and the figures that say why.

    Cached per outing in the person's thresholds (refreshed at day rollover).
    """
    cached = p.thr.outing
    if cached is not None and cached["start"] == start:
        return cached
    m = p.not_back.model
    dep = eng.dsm(start)
    own = m.around(dep)
    scope = "near" if own is not None else "any"
    if own is None:
        own = m.longest()
    if own is None and eng.settings.default_outing_min is None:
        length_s, scope = math.inf, "none"  # no length rule before the person's own outings are learned
    elif own is None:
        length_s, scope = eng.settings.default_outing_min * 60, "start"
    else:
        length_s = max(own[0] * MARGIN, own[0] + MIN_EXTRA_MIN * 60)
    ext = m.extension(dep) if own is not None else (0.0, 0)
    length_s += ext[0]
    out: dict[str, Any] = {"start": start, "length_s": length_s, "own": own, "scope": scope, "ext": ext,
                           "fire_at": start + length_s, "by": "length", "bed": None}
    bed = p.thr.bed_med
    ret = m.latest_return(dep)
    late = max(bed, ret[0] + RETURN_MARGIN_MIN) if ret is not None else bed
    # the person's own bed time only: a starting or similar homes' one is a guess, and a false alarm in the
    # first week at someone else's bed time costs the trust the check needs (the starting length limit holds)
    on = bed_rule(eng, p)
    if p.thr.bed_learned and dep < late < 1440.0 and on:  # the outing began before that bed time: judged by it too
        # wall clock of that moment on the day the outing began (an outing can run past the day boundary)
        wall = (eng._local(start) + timedelta(minutes=late - dep)).timestamp()
        out["bed"] = {"at": wall, "bed_dsm": bed, "late_dsm": late, "ret": ret}
        if wall < out["fire_at"]:
            out["fire_at"], out["by"] = wall, "bed"
    elif dep < bed and not on:
        # a person often out at bed time (None), or one whose nights are still being learned (False: fewer
        # than learning_days days, as likely to stay out some nights as not; 18 of house A's 44 outings lasted
        # over 8 h): an outing still going at bed time may be a night out, whose length the outings that
        # ended before bed time do not tell; it is told once past the length limit AND the next bed time (a
        # night and a whole day away), with the count of nights out in the words. The bed time the core holds
        # may still be the starting one: here it only ever makes the alert later, never raises one at
        # someone else's bed time
        wall = (eng._local(start) + timedelta(minutes=bed - dep)).timestamp()
        if out["fire_at"] > wall:
            nxt = (eng._local(start) + timedelta(minutes=bed - dep, days=1)).timestamp()
            out["bed"] = {"at": nxt, "bed_dsm": bed, "nights": m.stays_out(), "learning": on is False,
                          "own": bool(p.thr.bed_learned)}
            if nxt > out["fire_at"]:
                out["fire_at"], out["by"] = nxt, "night_out"
    p.thr.outing = out
    return out


def not_back(c: Tick) -> None:
    """Out by the front door for far longer than usual at that time of day, or past the usual bed time."""
    eng, p, t, name, pr, h0, due = c.eng, c.p, c.t, c.name, c.pr, c.h0, c.due
    if (not p.away or p.away_since is None or p.door_in_t is not None or not eng.has(p.id, "door")
            or "night_door" in c.blind):  # the door sensors all down: an outing's end cannot be seen
        return
    start = p.away_since
    lim = limits(eng, p, start)
    if t < lim["fire_at"]:
        if lim["fire_at"] < math.inf:
            due.append(lim["fire_at"])
        return
    own = lim["own"]
    if lim["by"] == "bed":
        b = lim["bed"]
        why = f"It is past {pr.poss} usual bed time ({_hm(b['bed_dsm'], h0)})"
        ret = b["ret"]
        if ret is not None:
            where = (f"starting within {p.not_back.model.window_min / 60:g} h of {_clock(eng, start)}" if ret[3]
                     else "at any time of day")
            late = ret[0] + RETURN_MARGIN_MIN > b["bed_dsm"]
            why += (f", and {pr.poss} outings {where} had all ended by "
                    + (f"{_hm(ret[0], h0)}" if late else "then")
                    + f" ({ret[1]} outings on the {ret[2]} days learned)"
                    + (f"; it is {RETURN_MARGIN_MIN:.0f} min past that" if late else ""))
    elif lim["by"] == "night_out":
        b = lim["bed"]
        k, n = b["nights"]
        bed_words = f"{pr.poss} usual bed time" if b.get("own", True) else "the starting bed time"
        if b.get("learning"):  # too few days learned to tell whether the person stays out some nights
            # the days counted are those compared with the person's own bed time (learn_outings)
            known = (f"Only {n} of {pr.poss} days are learned against {pr.poss} own bed time" if b.get("own", True)
                     else f"{pr.poss.capitalize()} own bed time is not learned yet")
            why = (f"{known}, so whether {pr.subj} stays out some nights is not known yet: an outing still going "
                   f"at {bed_words} ({_hm(b['bed_dsm'], h0)}) is told once past its length limit and that bed "
                   f"time the next day: {pr.subj} has now been away all night and a whole day")
        else:
            why = (f"{pr.subj.capitalize()} was still out at {bed_words} ({_hm(b['bed_dsm'], h0)}) "
                   f"on {k} of the {n} days learned, but has now been away all night and a whole day, past that "
                   f"bed time again")
    elif lim["scope"] == "start":
        why = (f"The starting limit set at install is {duration(lim['length_s'])}, "
               f"until {pr.poss} own outings are learned")
    else:
        where = (f"starting within {p.not_back.model.window_min / 60:g} h of {_clock(eng, start)}"
                 if lim["scope"] == "near" else "at any time of day")
        why = (f"{pr.poss.capitalize()} outings {where} lasted at most {duration(own[0])} "
               f"({own[1]} outings on the {own[2]} days learned)")
        if lim["ext"][0] > 0:  # learned a step at a time from outings past the limit (learn_outings)
            k = lim["ext"][1]
            why += (f", and {duration(lim['ext'][0])} more is allowed, as {k} of {pr.poss} outings begun about "
                    f"then ran past the limit before {pr.subj} came home")
    a = _alert(eng, p, t, "not_back", f"{p.id}:not_back:{start:.0f}",
                 f"{name} went out by the front door at {_clock(eng, start)} and is not back "
                 f"({duration(t - start)} so far). {why}.",
                 {"left": eng.alert_time(start).isoformat(), "out_min": round((t - start) / 60, 1),
                  "limit_min": round(lim["length_s"] / 60, 1) if lim["length_s"] < math.inf else None, "by": lim["by"], "scope": lim["scope"],
                  "usual_longest_min": round(own[0] / 60, 1) if own is not None else None,
                  "outings": own[1] if own is not None else 0, "days": own[2] if own is not None else 0})
    if a is not None:
        # (start, limit, at the starting limit?): how its outing may be learned when it ends (came_back)
        p.not_back.told = (start, lim["fire_at"] - start, lim["scope"] == "start")
        if lim["by"] == "bed":  # told at bed time: its length says nothing of the length limit's steps
            p.not_back.model.bed_told = start
        c.add(a)


def came_back(eng: RoutineEngine, p: PersonState, start: float, end: float) -> None:
    """An outing ended (the engine, after :func:`routines.detectors.episodes.back_home`): kept until the day
    ends, then learned (:func:`learn_outings`); with the alert's key and limit if it raised the alert."""
    told = p.not_back.told if p.not_back.told is not None and p.not_back.told[0] == start else None
    p.not_back.pending.append((start, end - start, f"{p.id}:not_back:{start:.0f}" if told else None,
                             told[1] if told else None, told[2] if told else False))
    p.not_back.told = None


def learn_outings(eng: RoutineEngine, p: PersonState, learn: bool) -> None:
    """At day end: learn the outings that ended today, except on a day a context explains (away with
    family, in hospital).

    One that raised the alert is learned only if it ended by itself soon after its limit, so that no
    single outing, nor one 'false alarm', moves a limit by hours (issue 11, decision 4), and a real 'never
    came back' found the next morning is never learned as an ordinary day out: past the starting limit, by
    less than that limit again (the install's guess was the person's usual, not theirs); past the person's
    own limit, by at most :data:`SETTLE_PAST_MIN`, and only once a carer marks it a false alarm or
    ``settle_unconfirmed_days`` pass with nobody marking it real. One further past its own limit, settled
    the same way, moves the length limit about that time of day :data:`STEP_MIN` later (at most that, at
    most once in :data:`STEP_EVERY_DAYS` days there), never by its own length: a person found the next
    morning was marked real and moves nothing. Outings still going at bed time count as nights out
    (:func:`bed_rule`), settled the same way when they raised the alert.
    """
    h0 = eng.settings.day_start_hour
    today = eng._day_date.toordinal() if eng._day_date is not None else 0
    m = p.not_back.model
    bed = p.thr.bed_med if p.thr.bed_learned else None
    if learn and bed is not None:
        # a day says whether the person was out at bed time only once that bed time is their own: before,
        # it was not looked at, and counting it as 'in at bed time' switched the bed-time rule on after a
        # week whatever the nights out still to come (house A: 4 first-month nights away told over 5 seeds)
        m.learn_night(today)
    for start, length, key, limit_s, starting in p.not_back.pending:
        if not learn:
            continue
        x = (eng.dsm(start), length, (eng._local(start) - timedelta(hours=h0)).date().toordinal())
        out_at_bed = bed is not None and x[0] < bed < x[0] + length / 60.0
        if out_at_bed and key is None:
            m.learn_night(x[2], out=True)
        elif out_at_bed:  # it raised the alert: a night out only once nobody marked it real (as below)
            m.late_held.append((today, x[2], key))
        if key is None or (starting and length < 2 * limit_s):
            m.learn_one(x)
        elif not starting and length <= limit_s + SETTLE_PAST_MIN * 60:
            p.not_back.held.append((today, *x, key))
        elif not starting and start != m.bed_told:  # far past its limit: a step of STEP_MIN once settled (below), never the length
            m.step_held.append((today, x[0], length - limit_s, key))
    p.not_back.pending = []
    settle = eng.settings.settle_unconfirmed_days
    keep = []
    for held in p.not_back.held:
        outcome = eng._outcomes.get(held[4])
        if outcome == "false_alarm" or (outcome != "real" and settle and today - held[0] >= settle):
            p.not_back.model.learn_one(held[1:4])
        elif outcome != "real" and today - held[0] < 30:  # marked real, or a month unsettled: dropped
            keep.append(held)
    p.not_back.held = keep
    late_keep = []
    for held_day, day, key in m.late_held:
        outcome = eng._outcomes.get(key)
        if outcome == "false_alarm" or (outcome != "real" and settle and today - held_day >= settle):
            m.learn_night(day, out=True)
        elif outcome != "real" and today - held_day < 30:
            late_keep.append((held_day, day, key))
    m.late_held = late_keep
    step_keep = []
    for held_day, dep, over, key in m.step_held:
        outcome = eng._outcomes.get(key)
        if outcome == "false_alarm" or (outcome != "real" and settle and today - held_day >= settle):
            if m.may_step(dep, today, STEP_EVERY_DAYS):
                m.step(dep, min(over, STEP_MIN * 60), today)
            # (another step taken about then this week: dropped; the next such outing is weighed again)
        elif outcome != "real" and today - held_day < 30:
            step_keep.append((held_day, dep, over, key))
    m.step_held = step_keep
