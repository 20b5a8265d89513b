"""The day boundary and beyond: a day's summary, learning it at day end (:func:`finish_day`), the next
day's fresh start (:func:`start_day`), weekly trend notes, and the per-person status for technicians.
"""

from __future__ import annotations

from datetime import time as dtime
from typing import TYPE_CHECKING, Any

from routines.alert import Alert
from routines.detectors.common import CARE, CHECKS, INFO, KINDS, _alert, _hm
from routines.detectors.days import _features, day_payload, learn_day, settle_unconfirmed, split_flagged
from routines.detectors.health import _unhealthy, blind_checks, silent_limits
from routines.detectors.outing import learn_outings
from routines.detectors.thresholds import refresh_thresholds, stillness_checkable
from routines.explain import Pronouns, usual_bed, usual_wake
from routines.learning import learning_status, note_own, refuse_markers, tell_refused
from routines.state import DAY, NIGHT, PersonState
from routines.summary import DaySummary
from routines.unusual import unusual_words

if TYPE_CHECKING:
    from routines.engine import RoutineEngine


def summarise(eng: RoutineEngine, p: PersonState, pl: dict[str, Any], live: bool = False) -> DaySummary:
    h0 = eng.settings.day_start_hour

    def clock(m: float | None) -> dtime | None:
        if m is None:
            return None
        mm = round(m + h0 * 60) % 1440
        return dtime(mm // 60, mm % 60)

    exp = p.profile.expected(pl["weekend"]) if p.profile.ready else [0.0] * 24
    return DaySummary(
        person=p.id, date=pl["date"], wake_time=clock(pl["wake"]),
        # the same usual times the day's alerts cite (routines.explain): one source of truth, the person's own only
        usual_wake_time=clock(usual_wake(eng, p, pl["weekend"])),
        bed_time=clock(pl["bed"]), usual_bed_time=clock(usual_bed(eng, p)),
        appliance_uses=dict(p.appliance_uses), kitchen_events=pl["kitchen_events"],
        outings=[(eng.alert_time(a), eng.alert_time(b) if b is not None else None) for a, b in pl["outings"]],
        night_bed_exits=pl["night_exits"], hourly_activity=tuple(pl["hourly"]),
        usual_hourly_activity=tuple(round(float(x), 2) for x in exp),
        blind=sorted(p.day_blind), alerts=list(dict.fromkeys(p.day_alerts)),
        first_kitchen_time=clock(pl["first_kitchen"]), minutes_out=round(pl["minutes_out"], 1),
        sitting_minutes=round(p.sitting_s / 60, 1), longest_quiet_min=round(p.longest_quiet / 60, 1),
        room_activity=pl["rooms"], profile_score=round(p.daily.score_one(_features(pl)), 3),
        unusual=() if live else unusual_words(p.daily.outside(_day_features(p, pl)), h0),
        contexts=sorted(p.day_contexts | eng.active_contexts(p.id, eng._day_start, eng._day_end)),
        meals=p.meals if eng.has(p.id, "kitchen") else None,
    )


def _day_features(p: PersonState, pl: dict[str, Any]) -> dict[str, float | None]:
    """The daily profile's features of a day as the weekly note may name them: a day first seen coming in
    at the front door has no getting up to compare (its 'wake' is the return home)."""
    feats = _features(pl)
    if p.came_in:
        feats["wake"] = None
    return feats


def finish_day(eng: RoutineEngine, p: PersonState) -> list[Alert]:
    pl = day_payload(eng, p)
    summary = summarise(eng, p, pl)
    p.summaries.append(summary)
    care_flagged = any(KINDS[k][1] == CARE and KINDS[k][0] != INFO for k in p.day_alerts)
    unseen = _unseen_outing(eng, p)
    if unseen:
        pl = {**pl, "wake": None}  # a return from an outing is not a wake time (night start hangs on wakes)
    pl, told = refuse_markers(eng, p, pl)  # a wake or bed time outside plausible hours is never learned
    for m in (p.wake_model, *p.wake_by_type, *p.returns_by_type, p.kitchen_model, p.bed_model, p.night_exits_model, p.exit_len,
              p.activity_total, p.silence, p.profile, p.daily):
        m.decay()
    for s in eng.person_sensors[p.id]:
        s.on_model.decay()
        s.cadence.decay()
        s.after_hist *= s.on_model.factor
        s.after_w *= s.on_model.factor
    silent_limits(eng, eng.person_sensors[p.id])  # (each from its own faded cadence)
    if not summary.contexts and pl["events"] and pl["date"] is not None and not eng.has(p.id, "bed"):
        rec = p.unseen_out[pl["weekend"]]
        f = p.wake_model.factor
        rec[0], rec[1] = rec[0] * f + 1.0, rec[1] * f + unseen
        if unseen:
            p.returns_by_type[pl["weekend"]].learn_one(eng.dsm(p.wake_t))
    if summary.contexts or pl["events"] == 0:
        pass  # a known context or an empty day (away, hospital) teaches nothing about the usual day
    elif care_flagged:
        now, back = split_flagged(eng, p, pl)
        learn_day(eng, p, now)
        p.flagged[pl["date"]] = back  # learned later only if the alert proves a false alarm
        while len(p.flagged) > 14:
            del p.flagged[next(iter(p.flagged))]
    else:
        learn_day(eng, p, pl)
    learn_outings(eng, p, learn=not summary.contexts)
    if not settle_unconfirmed(eng, p):  # (when it ended on a refresh, one more would give the same limits)
        refresh_thresholds(eng, p)
    told += tell_refused(eng, p)
    note_own(eng, p)
    return told + _weekly_trends(eng, p)


def _unseen_outing(eng: RoutineEngine, p: PersonState) -> bool:
    """Was the person first seen today coming in at the front door, after the not-up deadline?"""
    return (p.came_in and p.wake_t is not None and eng.dsm(p.wake_t) > p.thr.not_up_dsm)


def start_day(eng: RoutineEngine, p: PersonState) -> None:
    p.wake_t = p.bed_t = p.first_kitchen = p.back_trip = None
    p.came_in = False
    p.kitchen_events = p.night_exits = p.meals = 0  # an episode counts on the day it reaches a meal's length
    p.exit_pending, p.gaps, p.day_alerts = [], [], []
    p.longest_quiet = p.sitting_s = 0.0
    p.appliance_uses, p.day_blind, p.day_contexts = {}, set(), set()
    p.outings = [[eng._day_start, None]] if p.away else []
    for s in eng.person_sensors[p.id]:
        s.hourly[:] = [0] * 24
        s.on_pending = []
        s.after_n, s.after_long = 0, []
    if p.phase == DAY and (p.in_bed or (not eng.has(p.id, "bed") and eng._day_start - p.last_act > 3600)):
        p.phase = NIGHT  # asleep (or quiet) at the day boundary: the new day has not started for them yet
    keep = eng._day_start - 2 * 86400
    p.fired = {k: v for k, v in p.fired.items() if v >= keep}
    p.alert_days = {k: v for k, v in p.alert_days.items() if k in p.fired}


def _weekly_trends(eng: RoutineEngine, p: PersonState) -> list[Alert]:
    days = list(p.summaries)
    d = days[-1].date
    if d.weekday() != 6 or len(days) < 28:
        return []
    st = eng.settings
    name = eng.names[p.id].name
    pr = Pronouns(eng.names[p.id].pronoun)
    recent, before = days[-7:], days[-28:-7]
    t = eng._day_end
    out: list[Alert] = []
    n_recent = sum(s.night_bed_exits for s in recent) / 7
    n_before = sum(s.night_bed_exits for s in before) / len(before)
    if n_recent >= max(n_before * st.trend_ratio, n_before + 1.0):
        a = _alert(eng, p, t, "trend_night_visits", f"{p.id}:trend_night_visits:{d}",
                   f"{name} got up at night {n_recent:.1f} times a night this week, against {n_before:.1f} in the "
                   f"three weeks before. Worth a gentle check (sleep, bladder, infection).",
                   {"this_week": round(n_recent, 2), "before": round(n_before, 2)})
        if a:
            out.append(a)
    a_recent = sum(sum(s.hourly_activity) for s in recent) / 7
    a_before = sum(sum(s.hourly_activity) for s in before) / len(before)
    if a_before > 0 and a_recent * st.trend_ratio <= a_before:
        a = _alert(eng, p, t, "trend_activity", f"{p.id}:trend_activity:{d}",
                   f"{name} was less active at home this week: {a_recent:.0f} sensor events a day against "
                   f"{a_before:.0f} in the three weeks before. Has {pr.subj} been unwell or out more?",
                   {"this_week": round(a_recent, 1), "before": round(a_before, 1)})
        if a:
            out.append(a)
    return out


def person_status(eng: RoutineEngine, p: PersonState, t: float) -> dict[str, Any]:
    st = eng.settings
    h0 = st.day_start_hour
    days = p.wake_model.n if p.wake_model.n else p.activity_total.n
    blind = blind_checks(eng, p, t)
    return {
        "name": eng.names[p.id].name,
        "days_learned": days,
        "confidence": round(min(1.0, days / st.learning_days), 2),
        "learning": days < st.learning_days,
        "phase": "night" if p.phase == NIGHT else "day",
        "away": p.away,
        "degraded": bool(blind) or any(_unhealthy(eng, s, t) for s in eng.person_sensors[p.id]),
        "blind": [f"{CHECKS[c][1]}: " + ", ".join(s.label for s in ss) for c, ss in blind.items()]
        + ([f"cannot check stillness within an hour: {why}"] if (why := stillness_checkable(eng, p)) else []),
        "unhealthy_sensors": [s.id for s in eng.person_sensors[p.id] if _unhealthy(eng, s, t)],
        "usual": {"wake_by": _hm(p.thr.wake_q, h0), "bed": _hm(p.thr.bed_med, h0),
                  "first_kitchen_by": _hm(p.thr.kitchen_q, h0),
                  "night_exit_limit_min": round(p.thr.exit_thr_s / 60, 1)},
        "contexts": sorted(eng.active_contexts(p.id, t)),
        # per check, in words: what status, console and uplink all show (routines.learning)
        "checks": learning_status(eng, p),
        "prior": eng.prior.version if eng.prior is not None else None,
    }
