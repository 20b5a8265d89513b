"""Night-time care detectors (from tick, after the phase changes): not up by the usual time, out of bed
at night far longer than usual, and the front door at night with no sign of return.

Each compares the live situation with the person's own learned limits (:mod:`routines.detectors.thresholds`),
adds an explained alert through ``c.add``, or the time it falls due to ``c.due``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routines.detectors import situations
from routines.detectors.common import Tick, _alert, _clock, _hm, _parse_hhmm
from routines.detectors.episodes import in_night_hours, in_sleep_hours, night_began, pulsing, up_for_the_day
from routines.explain import (
    OWN,
    PRIOR,
    count_of,
    duration,
    marker_basis,
    of_days,
    starting_words,
    usual_bed,
    wake_basis,
)
from routines.learning import MARKER_BOUNDS, state_of
from routines.state import NIGHT

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.state import PersonState


def not_up(c: Tick) -> None:
    """Still in bed (or not seen up) past the person's usual latest wake time, plus a margin."""
    (eng, p, t, thr, pr, h0, has_bed, ep, blind, due, add) = (
        c.eng, c.p, c.t, c.thr, c.pr, c.h0, c.has_bed, c.ep, c.blind, c.due, c.add)
    if p.phase == NIGHT and not p.away and "not_up" not in blind and p.wake_t is None:
        # a night begun later than the usual bed time ends as much later (the same sleep)
        shift = late_night(c)
        deadline = base = ep.not_up_alert + shift
        up_moment = p.out_since is not None and p.last_act - p.out_since < 120.0  # up a moment, nothing since
        still = has_bed and (p.in_bed or up_moment) and thr.wake_learned and pulsing(p)
        if still:
            # sooner, past the usual wake (still_wake_quantile), when not even the bed has moved for longer than this
            # person's bed stays still on ordinary mornings (situation 'morning_still', learned from their own
            # mornings; the starting limit until then); only mats that pulse on movement can say so (one
            # holding 'occupied' is as quiet for a sleeper); not moved later by a late night: a bed that has
            # not moved at all is the evidence here
            still_at = max(ep.not_up_still, p.last_act + thr.wait_s["morning_still"])
            if still_at < deadline:
                deadline = still_at
            if t < ep.not_up_still:
                due.append(ep.not_up_still)  # the morning's stillness is learned from then on
        # out by the front door at the deadline and home since (an unseen night away, then the door read as
        # going out and coming back: house A's first weeks told 'not up' at 20:32 as he came in): up, not 'not up'
        came_home = bool(p.outings) and p.outings[-1][1] is not None and p.outings[-1][1] >= deadline
        if t >= deadline and (p.bed_t is None or p.bed_t < deadline) and deadline > eng.first_t and not came_home:
            usual = _not_up_words(c, deadline) + (_late_words(c, base) if shift > 0 else "")
            since = p.bed_t or p.night_bed_t or p.in_bed_since or p.last_act
            if has_bed and p.in_bed and p.last_act <= since + 59:
                now_words = f"no movement since {pr.subj} went to bed at {_clock(eng, since)}"
            elif has_bed and p.in_bed:  # moved since going to bed: name the last movement seen, and where
                where = f", by the {p.last_s.label}" if p.last_s is not None else ""
                now_words = (f"in bed since {pr.subj} went to bed at {_clock(eng, since)}; last movement seen at "
                             f"{_clock(eng, p.last_act)}{where}")
            else:
                now_words = f"no movement since {_clock(eng, p.last_act)}"
            if deadline < base:  # told sooner on stillness: say why (the person's own mornings), before the usual deadline
                now_words += (f". Told before {_clock(eng, base)}: not even the bed has moved for "
                              f"{duration(t - p.last_act)}; "
                              + situations.usual_words(eng, p, "morning_still", "in bed in the morning", pr.poss))
                situations.flag(p, "morning_still", f"{p.id}:not_up:{eng._day_date}")  # never learned from
            add(_alert(eng, p, t, "not_up", f"{p.id}:not_up:{eng._day_date}", f"{usual}; {now_words}.",
                       {"usual_wake": _hm(thr.wake_q, h0), "learned": thr.wake_learned,
                        "usual_deadline": eng.alert_time(ep.not_up_alert).isoformat(),
                        "limit": state_of(eng, p, "not_up"),
                        "deadline": eng.alert_time(deadline).isoformat(), "in_bed": p.in_bed,
                        "late_night_min": round(shift / 60, 1),
                        "last_activity": eng.alert_time(p.last_act).isoformat() if p.last_act else None,
                        **({"still_limit_min": round(thr.wait_s["morning_still"] / 60, 1),  # told sooner: which
                            "still_learned": thr.wait_own["morning_still"]} if deadline < base else {})}))
        elif t < deadline:
            due.append(deadline)
        if t < base:
            due.append(base)
        # the morning's stillness, learned between that wake (plus margin) and the usual deadline; a spell still
        # going at the usual deadline teaches nothing (that morning alerts then anyway: a sooner limit costs
        # it no false alarm, and C's late mornings, still 3 h 51 min, pushed its limit past 4 h for none
        # saved); looked at after the alert, so that a morning that raised it is flagged before it ends
        if still and t >= base:
            situations.drop(p, "morning_still", p.last_act)
        morning = still and ep.not_up_still <= t < base
        situations.probe(eng, p, MORNING, "morning_still" if morning else None, p.last_act, t, due)
    else:
        situations.probe(eng, p, MORNING, None, 0.0, t, due)


MORNING = ("morning_still",)


def late_night(c: Tick) -> float:
    """Seconds last night began after the latest usual bed time (0 if not later): 'not up' waits as much longer
    (a night begun at 07:42 does not end at the usual time), at most until the latest plausible getting up
    (:data:`routines.learning.MARKER_BOUNDS`) plus the margin. No constant of its own: house B's first
    weeks told 'not up' on mornings after nights begun at 03:36-08:15 (not_up 20 -> 9 over 5 seeds)."""
    eng, p, thr = c.eng, c.p, c.thr
    night = p.bed_t if p.bed_t is not None else p.night_bed_t
    if night is None:
        return 0.0
    late = night - eng.at_dsm((thr.bed_med if thr.bed_late is None else thr.bed_late) - 1440)
    cap = eng.at_dsm(_parse_hhmm(MARKER_BOUNDS["wake"][1], c.h0) + c.st.wake_margin_min) - c.ep.not_up_alert
    return max(0.0, min(late, cap)) if late >= 60.0 else 0.0  # (within the minute the words can say: not late)


def _late_words(c: Tick, base: float) -> str:
    """Why 'not up' waited longer: the bed time seen, how much after the usual one (the person's own, or
    the starting one while it is not), and until when."""
    eng, p, pr, h0 = c.eng, c.p, c.pr, c.h0
    night = p.bed_t if p.bed_t is not None else p.night_bed_t
    assert night is not None  # a shift comes only from a night seen beginning
    bed = f"{pr.poss} latest usual bed time" if usual_bed(eng, p) is not None else "the starting bed time"
    usual = p.thr.bed_med if p.thr.bed_late is None else p.thr.bed_late
    late = night - eng.at_dsm(usual - 1440)  # the true lateness (the wait may be capped)
    return (f"; {pr.subj} went to bed at {_clock(eng, night)}, {duration(late)} after {bed} "
            f"({_hm(usual, h0)}), so Hearth waited until {_clock(eng, base)}")


def _not_up_words(c: Tick, deadline: float) -> str:
    """What 'not up' compares with: the person's own latest usual wake, as a count of the days learned,
    or the starting limit set at install (and which) while that is not yet their own."""
    eng, p, thr, name, pr, h0 = c.eng, c.p, c.thr, c.name, c.pr, c.h0
    weekend = eng._day_date is not None and eng._day_date.weekday() >= 5
    b, what = wake_basis(eng, p, weekend, thr.wake_q)
    if b.source == OWN:
        return f"{name} is usually up by {_hm(thr.wake_q, h0)} (up by then {of_days(b.within, b.days, what)})"
    if b.source == PRIOR:
        return f"{name} is not up by {_clock(eng, deadline)} ({starting_words(eng, b, pr.poss)})"
    setting = f"{c.st.default_wake_time} plus {c.st.wake_margin_min:.0f} min"
    return f"{name} is not up by {_hm(thr.not_up_dsm, h0)} ({starting_words(eng, b, pr.poss, setting)})"


def night_bed_exit(c: Tick) -> None:
    """Out of bed at night far longer than the person's usual night-time trips, and still."""
    (eng, p, t, st, thr, name, pr, has_bed, blind, due, add) = (
        c.eng, c.p, c.t, c.st, c.thr, c.name, c.pr, c.has_bed, c.blind, c.due, c.add)
    # at night by the core's reading (went to bed, not up yet), or within the night hours set for the
    # person whatever it read: that check needs no learning and watches from the first night
    if (has_bed and not p.in_bed and p.out_since is not None and not p.away
            and p.chair_count == 0 and "night_bed_exit" not in blind
            and (p.phase == NIGHT or in_night_hours(eng, p, p.out_since))):
        out_for = t - p.out_since
        last_move = max(p.last_nonbed, p.out_since)
        fire_at = max(p.out_since + thr.exit_thr_s, last_move + st.night_exit_quiet_min * 60)
        # two questions apart from how long the person is usually out of bed: how soon life shows anywhere
        # after leaving the bed, and how long the quiet lasts once seen about the home (situations)
        wait = thr.wait_s
        sit = ("night_first_sign" if p.last_act <= p.out_since + 1.0 else
               "night_still" if p.last_up >= p.last_act else  # last seen outside the bedroom
               "night_bedroom" if p.last_s is not None and p.last_s.bedroom and not p.last_s.bed else None)
        still_from = max(p.last_act, p.out_since)
        if sit is not None and still_from - p.out_since >= st.night_up_after_min * 60:
            sit = "night_up"  # up and about for a while first: awake at night, not a trip to the toilet
        if sit is not None:
            fire_at = min(fire_at, still_from + wait[sit])
        if p.phase != NIGHT and (not in_night_hours(eng, p, still_from) or up_for_the_day(eng, p, still_from)
                                 or p.out_since < night_began(eng, p, still_from)):
            # read as up: the stillness began outside the night hours or in the person's morning, or the
            # person left bed before tonight's night hours began (up all day, still in the night: not an exit)
            if p.waiting.now:  # (no spell going on: probe would return at once; most looks, by day)
                situations.probe(eng, p, NIGHT_SITUATIONS, None, 0.0, t, due)
                situations.probe(eng, p, ("night_back",), None, 0.0, t, due)
            return
        situations.probe(eng, p, NIGHT_SITUATIONS, sit, still_from, t, due)
        situations.probe(eng, p, ("night_back",), "night_back", p.out_since, t, due)
        if t >= fire_at:
            by_sit = sit is not None and fire_at < p.out_since + thr.exit_thr_s - 1
            usual = (_situation_words(eng, p, sit, pr.poss) if by_sit else
                     situations.usual_words(eng, p, "night_back", "Out of bed at night", pr.poss)
                     if thr.exit_by_budget else _exit_words(c))
            since = ("there has been no sign of life anywhere since" if sit == "night_first_sign" else
                     f"last seen by the {p.last_s.label} at {_clock(eng, still_from)}, no movement since"
                     if sit in ("night_bedroom", "night_up") and p.last_s is not None
                     else f"no movement since {_clock(eng, still_from)}")  # the last movement the core saw
            key = f"{p.id}:night_bed_exit:{p.out_since:.0f}"
            situations.flag(p, sit if by_sit else "night_back", key)
            add(_alert(eng, p, t, "night_bed_exit", key,
                       f"{name} got out of bed at {_clock(eng, p.out_since)} and has not returned "
                       f"({duration(out_for)}); {since}. {usual}. Possible fall.",
                       {"out_since": eng.alert_time(p.out_since).isoformat(), "out_min": round(out_for / 60, 1),
                        "limit_min": round((fire_at - still_from if by_sit else thr.exit_thr_s) / 60, 1),
                        "learned": thr.wait_own[sit] if by_sit else
                        thr.wait_own["night_back"] if thr.exit_by_budget else thr.exit_learned,
                        "limit": SITUATION_LIMIT[sit] if by_sit else
                        "starting" if thr.exit_by_budget and not thr.wait_own["night_back"]
                        else state_of(eng, p, "night_bed_exit")}))
        else:
            due.append(fire_at)
    elif p.waiting.now:  # (no spell going on: probe would return at once; most looks, by day)
        situations.probe(eng, p, NIGHT_SITUATIONS, None, 0.0, t, due)
        situations.probe(eng, p, ("night_back",), None, 0.0, t, due)


NIGHT_SITUATIONS = ("night_first_sign", "night_still", "night_bedroom", "night_up")
# the alert's 'limit' evidence when a situation's wait decided it
SITUATION_LIMIT = {"night_first_sign": "first_sign", "night_still": "still_away", "night_bedroom": "still_bedroom",
                   "night_up": "up_still"}


def _situation_words(eng: RoutineEngine, p: PersonState, sit: str, poss: str) -> str:
    """Why this wait: the person's own nights (true counts of days), or the starting limit while learning."""
    if sit == "night_still" and not p.thr.wait_own[sit]:  # the starting limit, watched from the first night
        return (f"Last seen outside the bedroom, and nothing has moved for {duration(p.thr.wait_s[sit])} "
                f"(watched from the first night, whatever {poss} usual trips)")
    what = {"night_first_sign": "Before any other sign of life after getting out of bed at night",
            "night_still": "Last seen outside the bedroom at night, and nothing moving since",
            "night_bedroom": "Out of bed at night and last seen in the bedroom",
            "night_up": "Up and about at night for a while, and nothing moving since"}[sit]
    return situations.usual_words(eng, p, sit, what, poss)


def _exit_words(c: Tick) -> str:
    """The night-time trip limit: the person's own trips as counts of the trips learned, or the starting
    limit set at install (and which) while it is not yet their own."""
    eng, p, thr, pr = c.eng, c.p, c.thr, c.pr
    b = marker_basis(eng, p.exit_len, "exit_len", thr.exit_q, p.night_exits_model.n)
    if b.source == OWN:
        return (f"{pr.poss.capitalize()} night-time trips end within {duration(thr.exit_q)} "
                f"({count_of(b.within, b.days, 'trips')})")
    if b.source == PRIOR:
        return f"The limit is {duration(thr.exit_thr_s)}: {starting_words(eng, b, pr.poss)}"
    return (f"The limit is {duration(thr.exit_thr_s)}: "
            f"{starting_words(eng, b, pr.poss, f'{c.st.default_night_exit_min:.0f} min', 'night-time trips')}")


def night_door(c: Tick) -> None:
    """The front door during sleep hours, and no sign of the person since."""
    (eng, p, t, st, thr, name, pr, h0, blind, due, add) = (
        c.eng, c.p, c.t, c.st, c.thr, c.name, c.pr, c.h0, c.blind, c.due, c.add)
    if p.door_night_t is not None and "night_door" not in blind:
        fire_at = p.door_night_t + st.night_door_wait_min * 60
        if t >= fire_at and p.last_nondoor < p.door_night_t:
            # the person's usual sleep hours where they hold the door (learned, or the prior's), else the set ones
            usual = (thr.bed_learned or thr.bed_prior) and in_sleep_hours(eng, p, p.door_night_t)
            if p.door_night_set and not usual:
                start, end = eng.night[p.id]
                during = f"during the night hours set for {name} ({_hm(start, 0)}–{_hm(end, 0)})"
            else:
                bed_lo, wake_lo = thr.sleep
                hours = f"({_hm(bed_lo, h0)}–{_hm(wake_lo, h0)})"
                own = (usual_bed(eng, p) is not None
                       and marker_basis(eng, p.wake_model, "wake", wake_lo).source == OWN)
                during = (f"during {name}'s usual sleep hours {hours}" if own else
                          f"during the sleep hours Hearth starts with {hours}, until {name}'s own are learned")
            add(_alert(eng, p, t, "night_door", f"{p.id}:night_door:{p.door_night_t:.0f}",
                       f"The front door opened at {_clock(eng, p.door_night_t)}, {during}, and there has been "
                       f"no sign of {pr.obj} since ({duration(t - p.door_night_t)}).",
                       {"door_time": eng.alert_time(p.door_night_t).isoformat(),
                        "waited_min": round((t - p.door_night_t) / 60, 1),
                        "limit": "night_hours" if p.door_night_set else "sleep_hours"}))
        elif t < fire_at:
            due.append(fire_at)
