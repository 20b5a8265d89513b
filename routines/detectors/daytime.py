"""Daytime care detectors (from tick, after the night ones): stillness at home, no kitchen activity (no
meal), and an appliance left on far longer than usual.

Each compares the live situation with the person's own learned limits (:mod:`routines.detectors.thresholds`),
adds an explained alert through ``c.add``, or the time it falls due to ``c.due``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routines.detectors import situations
from routines.detectors.common import Tick, _alert, _clock, _hm
from routines.detectors.thresholds import appliance_limit, stillness_checkable, stuck_on
from routines.explain import (
    OWN,
    PRIOR,
    SETTING,
    Basis,
    duration,
    marker_basis,
    of_days,
    starting_words,
)
from routines.learning import state_of
from routines.state import DAY, NIGHT, SensorState

if TYPE_CHECKING:
    from routines.alert import Alert
    from routines.state import SensorState

# An appliance's 'on' spells must first look like use: carers hear of one left on only once its sensor
# has shown this many completed on-spells shorter than a stuck one (routines.engine.STUCK_ON_S). Until
# then a long 'on' goes to technicians, once a week per sensor. One home's plugs in the recordings (house
# B's toaster and microwave tilt switches) cannot choose this number leave-one-home-out; it is the
# appliance model's own warm-up (5 spells) and two more, so a sensor stuck 'on' from the day it was
# fitted, or tipped after a few uses, is a technician's question before it is ever a carer's.
APPLIANCE_EVIDENCE_SPELLS = 7

# 'no meal' at bed time only after a real day up (a short morning nap taken for the night is not a day)
NO_MEAL_MIN_DAY_S = 4 * 3600.0
# 'no meal' waits this long at home for a first kitchen use, after getting up and after coming home (issue 14:
# house C's first month told 'no meal' at 19:44-23:06 on days out 09:44-21:55 and 07:31-18:54, each with a
# kitchen use within 80 min of coming home); no constant of its own: the wait after getting up, as before
AT_HOME_S = 7200.0
# ...but never past this (minutes after the day start: half an hour before it ends), as thresholds.no_meal_dsm
NO_MEAL_LAST_DSM = 1410.0


def silence(c: Tick) -> None:
    """No movement at home in the day, not in bed, for longer than is usual at this hour or after
    the sensor where the person was last seen."""
    (eng, p, t, thr, name, has_bed, blind, quiet, due, add) = (
        c.eng, c.p, c.t, c.thr, c.name, c.has_bed, c.blind, c.quiet, c.due, c.add)
    if (p.phase == DAY and not p.away and not p.in_bed and p.last_act > 0 and p.door_t is None
            and "silence" not in blind):
        limit = thr.silence_thr[p.last_slot]
        # without a bed sensor, last seen going to the bedroom may be lying down again (back to bed after
        # an early trip, a nap): as a mat-less bed cannot be seen, only the person's own longest quiet at
        # any hour is the limit (a home with a bed sensor does not judge stillness in bed at all)
        # and so may a quiet begun from the person's early usual bed time on, wherever last seen (house C
        # without its bed mats: the bathroom at 00:17, then asleep, was told 'no movement for 35 min' while
        # the night is read only after an hour's quiet): going to bed cannot be told from a fall then
        lying = not has_bed and ((p.last_s is not None and (p.last_s.bedroom or p.last_s.role == "bedroom_door"))
                                 or eng.dsm(p.last_act) >= thr.bed_lo_dsm)
        here = (p.last_s if p.last_s is not None and p.last_s.ctx_limit is not None
                and stillness_checkable(eng, p) is None and not lying else None)
        if lying:
            limit = max(limit, thr.silence_lying_s)
        # just stood up from the chair (it holds no weight now): quiet after standing up is its own
        # situation, not the hour's, whose long spells are the person seated; the chair sensor's own
        # quiet (both) is not used for it
        stood = (p.last_s is not None and p.last_s.chair and p.chair_count == 0 and thr.wait_own["stood_up"]
                 and not lying)
        if stood:
            here = None
        if here is not None and here.ctx_limit < limit:  # judged from where the person was last seen
            limit = here.ctx_limit
        else:
            here = None
        stood = stood and thr.wait_s["stood_up"] < limit
        if stood:
            limit = thr.wait_s["stood_up"]
        standing = p.last_s is not None and p.last_s.chair and p.chair_count == 0
        # just out of bed by day (up from a nap), nothing since but a first step: its own wait, if sooner
        risen = not standing and up_from_bed(c)
        by_exit = risen and thr.wait_s["day_bed_exit"] < limit
        if by_exit:
            limit, here, stood = thr.wait_s["day_bed_exit"], None, False
        sit = "stood_up" if standing else "day_bed_exit" if risen else None
        situations.probe(eng, p, DAY_SITUATIONS, sit, p.last_act, t, due)
        first_look = p.last_act + thr.wait_floor_s["stood_up"]
        if first_look > t and eng.has(p.id, "chair"):  # when a quiet after standing up could first count
            due.append(first_look)
        if quiet >= limit:
            q = thr.silence_q[p.last_slot]
            usual = (situations.usual_words(eng, p, "stood_up", f"After standing up from the {p.last_s.label}", c.pr.poss)
                     if stood else _bed_exit_words(c) if by_exit else _silence_words(c, limit, here, lying))
            key = f"{p.id}:silence:{p.last_act:.0f}"
            if sit is not None:
                situations.flag(p, sit, key)
            what = (f"{name} got out of bed at {_clock(eng, p.out_since)}, up for the day since "
                    f"{_clock(eng, p.wake_t)}, and " + (
                        f"there has been no sign of life anywhere since ({duration(quiet)})"
                        if p.last_act <= p.out_since + 1.0 else
                        f"there has been no movement since {_clock(eng, p.last_act)} ({duration(quiet)})")
                    if risen and p.out_since is not None and p.wake_t is not None else
                    f"No movement from {name} for {duration(quiet)}, since {_clock(eng, p.last_act)}, "
                    f"while at home and not in bed")
            evidence = {"since": eng.alert_time(p.last_act).isoformat(), "quiet_min": round(quiet / 60, 1),
                        "limit_min": round(limit / 60, 1), "learned": q is not None or here is not None,
                        "last_sensor": p.last_s.id if p.last_s is not None else None,
                        "by_last_sensor": here is not None, "sitting": p.chair_count > 0, "stood_up": stood,
                        "limit": state_of(eng, p, "silence")}
            if risen:  # up from bed by day: whether its own wait decided (else the daytime limit did)
                evidence["day_bed_exit"] = by_exit
                evidence["learned"] = thr.wait_own["day_bed_exit"] if by_exit else evidence["learned"]
            add(_alert(eng, p, t, "silence", key, f"{what}. {usual}.", evidence))
        else:
            due.append(p.last_act + limit)
    elif p.waiting.now:  # (no spell going on: probe would return at once)
        situations.probe(eng, p, DAY_SITUATIONS, None, 0.0, t, due)


DAY_SITUATIONS = ("stood_up", "day_bed_exit")
# the first step after a bed exit: what the core sees this soon after it (as phases.up_a_moment reads one)
FIRST_STEP_S = 120.0


def up_from_bed(c: Tick) -> bool:
    """Out of bed by day, after the day's getting up (a nap, a lie-down; not the getting up itself, which
    'not up' and the night's limits judge), and nothing since but a first step: ``day_bed_exit``.

    Only from the person's latest usual wake on: before it an exit after an early 'up' is still the night's
    and the morning's business (house B: 'up' at 04:39 read from a small-hours exit, back on the bed, off
    at 04:59 and then the night's quiet; the situation told it at its learned limit, a false alarm each
    time the streams drew that day, 0.6 a month). A first step onto a seat is sitting down: quiet seated
    is the hour's question, not this one."""
    p = c.p
    return (c.has_bed and p.wake_t is not None and p.out_since is not None and p.out_since > p.wake_t + 1.0
            and p.last_act - p.out_since < FIRST_STEP_S and p.out_since >= c.ep.wake_q and p.chair_count == 0
            and "night_bed_exit" not in c.blind)


def _bed_exit_words(c: Tick) -> str:
    """Why the bed-exit wait decided: the person's own afternoons (counts of days learned), or the
    starting limit while they are being learned; and that it came before the daytime limit."""
    return situations.usual_words(c.eng, c.p, "day_bed_exit", "After getting out of bed by day", c.pr.poss) + (
        "; sooner than the daytime limit for this hour")


def no_meal(c: Tick) -> None:
    """No kitchen activity by the person's usual time, or at the latest by going to bed after a day up."""
    (eng, p, t, thr, pr, h0, ep, blind, due, add) = (
        c.eng, c.p, c.t, c.thr, c.pr, c.h0, c.ep, c.blind, c.due, c.add)
    # no kitchen activity by the usual time, or at the latest by going to bed for the night after a day
    # up at home without any (the learned deadline, a late quantile, can fall after the person's bed time)
    # (a late start moves the deadline to 2 h after getting up; it does not cancel the check: a person
    # found in bed by the not-up call may still go a whole day without eating)
    to_bed = (p.phase == NIGHT and p.bed_t is not None and p.wake_t is not None
              and p.bed_t - p.wake_t >= NO_MEAL_MIN_DAY_S)
    if ((p.phase == DAY or to_bed) and p.first_kitchen is None and p.wake_t is not None
            and eng.has(p.id, "kitchen") and "no_meal" not in blind):
        # back from going out (a day out, perhaps a meal out): as long at home to use the kitchen as after
        # getting up, at most until half an hour before the day ends (a day without a meal is told that day)
        back = max((b for _, b in p.outings if b is not None), default=None)
        home_by = None if back is None else min(back + AT_HOME_S, eng.at_dsm(NO_MEAL_LAST_DSM))
        usual_by = max(ep.no_meal, p.wake_t + AT_HOME_S, home_by or 0.0)
        deadline = min(usual_by, t) if to_bed else usual_by
        if t >= deadline and not p.away:
            usual = _no_meal_words(c, usual_by)
            woke = f" since {pr.subj} got up at {_clock(eng, p.wake_t)}" if p.wake_t is not None else ""
            if home_by is not None and home_by >= usual_by and back is not None:  # the home-coming decided
                woke += (f" (out until {_clock(eng, back)}: Hearth waited {duration(home_by - back)} "
                         f"after {pr.subj} came home)")
            if to_bed:
                woke += f", and {pr.subj} went to bed at {_clock(eng, p.bed_t)}"
            add(_alert(eng, p, t, "no_meal", f"{p.id}:no_meal:{eng._day_date}",
                       f"{usual}; no kitchen activity today{woke}.",
                       {"usual_first_kitchen": _hm(thr.kitchen_q, h0), "learned": thr.kitchen_learned,
                        "deadline": eng.alert_time(usual_by).isoformat(),
                        "limit": state_of(eng, p, "no_meal")}))
        elif t < deadline:
            due.append(deadline)


def _suspect(c: Tick, s: SensorState, what: str, normal: int) -> Alert | None:
    """The technicians' alert for a long 'on' from an appliance sensor not yet seen used normally."""
    eng, p, t = c.eng, c.p, c.t
    d = eng._day_date
    told = p.told.get(f"appliance_{s.id}")
    if d is None or (told is not None and (d - told).days < 7):
        return None
    p.told[f"appliance_{s.id}"] = d
    return _alert(eng, p, t, "blind_check", f"{p.id}:blind:appliance_suspect:{s.id}:{s.on_since:.0f}",
                  f"The {s.label} has said 'on' for {duration(t - s.on_since)}, since {_clock(eng, s.on_since)}, "
                  f"and Hearth has not yet seen it switched on and off as {c.name}'s {what} is used "
                  f"({normal} short use{'s' if normal != 1 else ''} so far, {APPLIANCE_EVIDENCE_SPELLS} needed): "
                  f"a sensor stuck 'on' is more likely than an appliance left on, so carers are not told. "
                  f"Please check how it is fitted.",
                  {"check": "appliance_on", "sensors": [s.id], "on_min": round((t - s.on_since) / 60, 1),
                   "normal_spells": normal})


def _appliance_words(c: Tick, s: SensorState, limit: float, q: float) -> str:
    """The person's own figures behind a learned 'left on' limit, and which limit decided: the budget's
    (the longest on-time learned that its share cannot pay for), the floor (house B's microwave: usually
    off within a minute, told at 30 min), or the margin on the usual time. Counts are spells learned."""
    st, m = c.eng.settings, s.on_model
    n = m.n
    b = c.p.thr.appliance.get(s.id)
    if b is not None and b.limit_s >= limit - 1.0 and b.limit_s > st.appliance_floor_min * 60 + 1.0:
        how = (f"at most {duration(limit)}, the starting limit" if b.capped else
               f"{st.situation_margin:g} times that, {duration(limit)}")
        return (f"it went off within {duration(b.base_s)} {of_days(b.within, b.learned, 'times')}; "
                f"the limit is {how}, so its learned times would have raised no more alerts than its share of "
                f"{c.name}'s false-alarm budget")
    k = int((m.values[:n] <= q + 1e-6).sum())
    usual = f"it went off within {duration(q)} {of_days(k, n, 'times')}"
    margin = st.appliance_margin
    return usual + (f"; Hearth waits at least {duration(limit)}" if limit > q * margin + 1.0 else
                    f"; the limit is {margin:g} times that, {duration(limit)}")


def appliance_on(c: Tick) -> None:
    """An appliance on far longer than usual (one that often stays on for hours: technicians only)."""
    eng, p, t, name, due, add = c.eng, c.p, c.t, c.name, c.due, c.add
    for s in eng.person_sensors[p.id]:
        if s.plug and s.on and s.on_since is not None:
            what = s.role.replace("_", " ") if s.role != "activity" else f"appliance on the {s.label}"
            if stuck_on(s):
                add(_alert(eng, p, t, "blind_check", f"{p.id}:blind:appliance_on:{s.id}",
                           f"Cannot check whether {name}'s {what} is left on: the {s.label} often stays 'on' for "
                           f"hours ({s.on_stuck} of its last {s.on_spells} on-spells); check how it is fitted.",
                           {"check": "appliance_on", "sensors": [s.id]}))
                continue
            limit, q = appliance_limit(eng, s)
            normal = s.on_spells - s.on_stuck
            if normal < APPLIANCE_EVIDENCE_SPELLS:
                # not yet seen switched on and off as an appliance is used: a long 'on' now is more likely
                # a sensor stuck on (a tilt switch left tipped, a plug reading standby) than a pan left on
                if t >= s.on_since + limit:
                    add(_suspect(c, s, what, normal))
                else:
                    due.append(s.on_since + limit)
                continue
            if s.on_told == s.on_since:
                continue  # carers were told of this spell: once (a switch left tipped for days is not re-told)
            if t >= s.on_since + limit:
                if q is not None:
                    usual = _appliance_words(c, s, limit, q)
                else:
                    usual = f"the starting limit is {duration(limit)}, set at install, until its own times are learned"
                a = _alert(eng, p, t, "appliance_on", f"{p.id}:appliance_on:{s.id}:{s.on_since:.0f}",
                           f"{name}'s {what} has been on for {duration(t - s.on_since)}, since "
                           f"{_clock(eng, s.on_since)}; {usual}.",
                           {"sensor": s.id, "on_min": round((t - s.on_since) / 60, 1),
                            "limit_min": round(limit / 60, 1)})
                if a is not None:
                    s.on_told = s.on_since
                add(a)
            else:
                due.append(s.on_since + limit)


def _silence_words(c: Tick, limit: float, here: SensorState | None, lying: bool) -> str:
    """What a daytime stillness was judged against, said with the counts the core really holds (quiet
    spells and days learned), or as the starting limit while the person's own is not yet learned."""
    eng, p, st, thr, pr = c.eng, c.p, c.st, c.thr, c.pr
    days = p.activity_total.n
    own = f"{days} day{'s' if days != 1 else ''}"
    if here is not None:
        return (f"After the {here.label}, {pr.poss} quiet spells at home have hardly ever lasted longer than "
                f"{duration(here.ctx_base)} (learned on {here.after_days} days)")

    def longest(base: float) -> str:
        return (f"{pr.poss} usual longest ({duration(base)}, from {own} learned)" if not thr.silence_prior else
                f"the usual longest Hearth starts with ({duration(base)}, from other people's routines with "
                f"{own} of {pr.poss} own)")

    lying_base = thr.silence_lying_base
    if lying and lying_base is not None and limit >= thr.silence_lying_s - 1:
        if p.last_s is not None and (p.last_s.bedroom or p.last_s.role == "bedroom_door"):
            where = f"{pr.subj.capitalize()} was last seen at the {p.last_s.label}, and lying down"
        else:  # the quiet began from the early usual bed time on (silence: lying)
            bed = _hm(thr.bed_lo_dsm, c.h0)
            when = (f"{pr.poss} early usual bed time ({bed})" if thr.bed_learned else
                    f"the early bed time Hearth starts with ({bed}), until {pr.poss} own is learned")
            where = f"The quiet began after {when}, and going to bed"
        return (f"{where} cannot be seen here (no bed sensor), so only a quiet spell far longer than "
                f"{longest(lying_base)} is flagged")
    if thr.silence_blind is not None and limit >= thr.silence_cap_s - 1:
        return ("Going out cannot be seen here (no working front door sensor), so only a quiet spell far "
                f"longer than {longest(thr.silence_blind)} is flagged")
    if thr.silence_prior:
        b = Basis(PRIOR, days, needed=st.own_routine_days)
        return f"The limit at this time of day is {duration(limit)}: {starting_words(eng, b, pr.poss)}"
    q = thr.silence_q[p.last_slot]
    if q is not None:
        h = p.last_slot
        spells = int(p.silence.count[[(h - 1) % 24, h, (h + 1) % 24]].sum())
        return (f"At this time of day {pr.poss} quiet spells at home have rarely lasted longer than {duration(q)} "
                f"({spells} quiet spells around this hour, over {own} learned)")
    return f"The starting limit is {duration(limit)} until {pr.poss} own days are learned"


def _no_meal_words(c: Tick, usual_by: float) -> str:
    """The first kitchen use 'no meal' waits for: the person's own as a count of the days learned, or the
    starting limit set at install (and which)."""
    eng, p, thr, name, pr, h0 = c.eng, c.p, c.thr, c.name, c.pr, c.h0
    b = marker_basis(eng, p.kitchen_model, "first_kitchen", thr.kitchen_q)
    if b.source == OWN:
        return (f"{name} usually uses the kitchen by {_hm(thr.kitchen_q, h0)} "
                f"(by then {of_days(b.within, b.days)})")
    setting = c.st.default_first_kitchen_time if b.source == SETTING else ""
    return f"No kitchen activity from {name} by {_clock(eng, usual_by)} ({starting_words(eng, b, pr.poss, setting)})"
