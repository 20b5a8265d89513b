"""State changes, detectors, day rollover and learning for one person (called by :mod:`routines.engine`).

Detectors compare the live situation with thresholds taken from the person's OWN learned days (a
quantile plus a margin, with a floor and a minimum of evidence), or with technician defaults while still
learning. Each alert says in plain words what is usual for this person and what is happening now.
"""

from __future__ import annotations

import math
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

import numpy as np

from routines.alert import Alert, Audience, Severity
from routines.explain import Pronouns, duration, hhmm, share
from routines.models import GAP_BINS, GAP_EDGES, GAP_MIN_S
from routines.state import DAY, NIGHT, PersonState, SensorState
from routines.summary import DaySummary

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from sensors.events import DeviceHealth

URG, WARN, INFO = Severity.URGENT, Severity.WARNING, Severity.INFO
CARE, TECH = Audience.CARE, Audience.TECHNICAL

# kind -> (severity, audience)
KINDS = {
    "not_up": (URG, CARE), "night_bed_exit": (URG, CARE), "night_door": (URG, CARE), "silence": (URG, CARE),
    "no_meal": (WARN, CARE), "appliance_on": (WARN, CARE),
    "trend_night_visits": (INFO, CARE), "trend_activity": (INFO, CARE),
    "sensor_offline": (WARN, TECH), "sensor_silent": (WARN, TECH), "battery_low": (INFO, TECH),
    "blind_check": (WARN, TECH),
}
# context -> care alert kinds it pauses (learning pauses for any context day)
CONTEXT_PAUSES = {
    "carer_visit": {"not_up", "night_bed_exit", "night_door", "silence", "no_meal"},
    "visitor": {"night_door", "silence", "night_bed_exit"},
    "holiday": set(KINDS) - {"sensor_offline", "battery_low"},
    "hospital": set(KINDS) - {"sensor_offline", "battery_low"},
    # a span the gateway did not watch (clock jump, power cut): every deadline in it is unknown, not missed
    "clock_unreliable": set(KINDS),
}
# check -> (which sensors it needs, words for a technician)
CHECKS = {
    "not_up": ("bed", "cannot check getting up"),
    "night_bed_exit": ("bed", "cannot check night-time bed exits"),
    "night_door": ("door", "cannot check the front door at night"),
    "no_meal": ("kitchen", "cannot check meals"),
    "silence": ("any", "cannot fully check daytime stillness"),
}


# active hours a sensor may stay quiet before its rhythm is learned: rarely used things get a week
# 'no meal' at bed time only after a real day up (a short morning nap taken for the night is not a day)
NO_MEAL_MIN_DAY_S = 4 * 3600.0
COLD_SILENT_HOURS = {r: 170 for r in ("front_door", "back_door", "keys", "washing_machine", "dishwasher", "iron",
                                      "oven", "freezer", "heater", "toaster", "microwave", "cupboard")}


def _hm(minutes: float | None, st_hour: int) -> str:
    return hhmm((minutes or 0.0) + st_hour * 60)


def _clock(eng: RoutineEngine, t: float) -> str:
    d = eng.alert_time(t)
    return f"{d.hour:02d}:{d.minute:02d}"


def _parse_hhmm(s: str, st_hour: int) -> float:
    h, m = s.split(":")
    return (int(h) * 60 + int(m) - st_hour * 60) % 1440


def _alert(eng: RoutineEngine, p: PersonState, t: float, kind: str, key: str, message: str,
           evidence: dict[str, Any]) -> Alert | None:
    """Build an alert once per situation key, unless a context pauses this kind."""
    if key in p.fired:
        return None
    for ctx in eng.active_contexts(p.id, t):
        if kind in CONTEXT_PAUSES[ctx]:
            return None
    sev, aud = KINDS[kind]
    p.fired[key] = t
    p.day_alerts.append(kind)
    p.alert_days[key] = eng._day_date
    return Alert(eng.alert_time(t), p.id, kind, sev, aud, message, key=key, evidence=evidence)


# ---- thresholds ------------------------------------------------------------------------------------

def refresh_thresholds(eng: RoutineEngine, p: PersonState) -> None:
    st = eng.settings
    h0 = st.day_start_hour
    q = st.usual_quantile
    thr: dict[str, Any] = {}
    dq = st.deadline_quantile
    wake_ok = p.wake_model.ready
    wake_q = p.wake_model.quantile(dq) if wake_ok else _parse_hhmm(st.default_wake_time, h0)
    wake_lo = p.wake_model.quantile(1 - q) if wake_ok else wake_q - 240
    thr["wake_learned"], thr["wake_q"] = wake_ok, wake_q
    # weekdays and weekends apart, each once it has its own days (else the pooled days)
    thr["wake_q_by_type"] = tuple(m.quantile(dq) if m.ready else wake_q for m in p.wake_by_type)
    usual_wake = p.wake_model.quantile(q) if wake_ok else wake_q  # the usual wake, for "still in bed"
    thr["wake_usual_by_type"] = tuple(m.quantile(q) if m.ready else usual_wake for m in p.wake_by_type)
    thr["not_up_dsm"] = wake_q + st.wake_margin_min
    thr["earliest_wake_dsm"] = max(0.0, wake_lo - 60)
    bed_ok = p.bed_model.ready
    bed_med = p.bed_model.quantile(0.5) if bed_ok else _parse_hhmm(st.default_bed_time, h0)
    bed_lo = p.bed_model.quantile(1 - q) if bed_ok else bed_med - 60
    thr["bed_learned"], thr["bed_med"] = bed_ok, bed_med
    # the evening starts no sooner than 10 h after the latest usual wake: a learned bed time can never
    # drag the night into the afternoon (a quiet afternoon taken for bed, learned, then earlier still)
    thr["bed_window_dsm"] = max(thr["earliest_wake_dsm"] + 180, wake_q + 600, bed_lo - 120)
    thr["sleep"] = (bed_med, wake_lo)  # usual sleep hours, minutes since day start (wraps past day end)
    k_ok = p.kitchen_model.ready
    thr["kitchen_learned"] = k_ok
    thr["kitchen_q"] = p.kitchen_model.quantile(dq) if k_ok else _parse_hhmm(st.default_first_kitchen_time, h0)
    # at the latest half an hour before the day ends: a day without a meal is still told that day
    thr["no_meal_dsm"] = min(thr["kitchen_q"] + (st.kitchen_margin_min if k_ok else 0.0), 1410.0)
    e_ok = p.exit_len.ready
    exit_q = p.exit_len.quantile(q) if e_ok else None
    thr["exit_learned"], thr["exit_q"] = e_ok, exit_q
    thr["exit_thr_s"] = (max(st.night_exit_floor_min * 60, exit_q * st.night_exit_margin) if exit_q is not None
                         else st.default_night_exit_min * 60)
    sil, silq = [], p.silence.quantiles(st.silence_quantile)
    # cold start, conservative: nothing below the cap before one whole day is learned (a sparse home can
    # be quiet for hours on an ordinary morning), then the default or half again the longest quiet spell
    # this home has shown so far, whichever is longer
    cold = (st.silence_cap_min * 60 if p.activity_total.n == 0
            else max(st.default_silence_min * 60, 1.5 * p.silence.longest()))
    for qs in silq:
        v = cold if qs is None else qs * st.silence_margin
        sil.append(min(st.silence_cap_min * 60, max(st.silence_floor_min * 60, v)))
    checkable = stillness_checkable(eng, p) is None if p.id in eng.person_sensors else False
    # Blind to going out (no front door that works): an outing looks exactly like lying still, so an
    # hourly limit alarms on every longer outing. The limit grows to cover this person's own longest
    # quiet spells at any hour (their usual outings), up to a longer cap; technicians are told (blind_check).
    thr["silence_cap_s"], thr["silence_blind"] = st.silence_cap_min * 60, None
    over = p.silence.overall_quantile(st.blind_silence_quantile)
    blind = (st.silence_cap_min * 60 if over is None else
             min(st.blind_silence_cap_min * 60, max(st.silence_cap_min * 60, over * st.silence_margin)))
    # also the limit where lying down cannot be seen (last seen going to the bedroom, no bed sensor)
    thr["silence_lying_s"], thr["silence_lying_base"] = blind, over
    if over is not None and not checkable:
        thr["silence_cap_s"], thr["silence_blind"] = blind, over
        sil = [max(v, blind) for v in sil]
    thr["silence_thr"], thr["silence_q"] = sil, silq
    # no limit at all where it cannot be used (no extra ticks), nor after the kitchen: food is made there,
    # not eaten, so the quiet after it is a meal elsewhere, not a stay by that sensor (the hourly limit holds)
    for s in eng.person_sensors.get(p.id, ()):
        s.ctx_limit, s.ctx_base = context_limit(eng, s) if checkable and not s.kitchen else (None, None)
    p.thr = thr


def context_limit(eng: RoutineEngine, s: SensorState) -> tuple[float | None, float | None]:
    """(seconds of stillness after ``s`` before alerting, the usual longest quiet after it), or
    (None, None) while too few gaps after this sensor are learned.

    A carer knows a long silence after the toilet flush is rarer than after sitting down: the limit is
    the gap length that only a share ``stillness_context_alpha`` of this person's own gaps after this
    sensor outlast (the weighted survival of those gaps), times a margin, never below a floor.

    >>> from routines.engine import RoutineEngine
    >>> from routines.home import Home, Person, SensorInfo
    >>> from sensors.events import SensorKind
    >>> eng = RoutineEngine(Home("UTC", (Person("p1", "Ann", "she"),),
    ...                          (SensorInfo("flush", SensorKind.CONTACT, "toilet", "toilet_flush", "p1"),)))
    >>> s = eng._sensors["flush"]
    >>> learn_context_gaps(s, 400, [400.0, 500.0, 900.0])
    >>> s.after_days = 14
    >>> [round(x) for x in context_limit(eng, s)]
    [1976, 988]
    """
    st = eng.settings
    if s.after_w < st.stillness_context_min_gaps or s.after_days < st.stillness_context_min_days:
        return None, None
    tail = np.cumsum(s.after_hist[::-1])  # weight of the gaps in this bin or longer, longest bin first
    k = int(np.searchsorted(tail, st.stillness_context_alpha * s.after_w, side="right"))
    base = float(GAP_EDGES[GAP_BINS - k]) if k < GAP_BINS else GAP_MIN_S  # upper edge of that bin
    return max(st.stillness_context_floor_min * 60, st.stillness_context_margin * base), base


def stillness_checkable(eng: RoutineEngine, p: PersonState) -> str | None:
    """None when stillness can be judged from where the person was last seen (within the hour), else why
    not, for technicians: without a front door that works, going out cannot be told from lying still."""
    doors = [s for s in eng.person_sensors[p.id] if s.door]
    if not doors:
        return "no front door sensor, so going out cannot be told from stillness"
    if all(s.n == 0 for s in doors) and p.wake_model.n + p.activity_total.n >= 2 * eng.settings.learning_days:
        return f"the {doors[0].label} has never fired, so going out cannot be told from stillness"
    return None


def learn_context_gaps(s: SensorState, n: int, longs: list[float]) -> None:
    """Learn one day's gaps after sensor ``s``: ``n`` gaps in all, the lengths of those of 5+ minutes."""
    s.after_w += n
    s.after_days += n > 0
    for x in longs:
        s.after_hist[min(max(int(np.searchsorted(GAP_EDGES, x, side="right")) - 1, 0), GAP_BINS - 1)] += 1.0


def _epochs(eng: RoutineEngine, p: PersonState) -> dict[str, float]:
    """Today's deadlines as epoch seconds (wall-clock, DST-safe), cached per person day."""
    thr = p.thr
    ep = thr.get("_epochs")
    if ep is None or ep["day"] != eng._day_start:
        if eng._day_date is not None:  # today's kind of day decides the usual wake time
            thr["wake_q"] = thr["wake_q_by_type"][eng._day_date.weekday() >= 5]
            thr["not_up_dsm"] = thr["wake_q"] + eng.settings.wake_margin_min
            thr["wake_usual"] = thr["wake_usual_by_type"][eng._day_date.weekday() >= 5]
        ep = {"day": eng._day_start, "not_up": eng.at_dsm(thr["not_up_dsm"]), "wake_q": eng.at_dsm(thr["wake_q"]),
              "wake_lo": eng.at_dsm(thr["sleep"][1]),
              "earliest": eng.at_dsm(thr["earliest_wake_dsm"]), "bed_window": eng.at_dsm(thr["bed_window_dsm"]),
              "no_meal": eng.at_dsm(thr["no_meal_dsm"]) if thr["no_meal_dsm"] < 1440 else math.inf,
              "not_up_still": eng.at_dsm(min(thr.get("wake_usual", thr["wake_q"]), thr["wake_q"])
                                         + eng.settings.wake_margin_min)}
        ep["not_up_alert"] = ep["not_up"]
        thr["not_up_weak"] = False
        if eng._day_date is not None and not eng.has(p.id, "bed"):
            # without a bed sensor, a day first seen coming in through the front door after the deadline
            # (left unseen) looks like 'not up' until then: where that is not rare for this kind of day,
            # wait for the person's own latest usual return (only the not-up alarm; night-time stays put)
            wk = eng._day_date.weekday() >= 5
            days, unseen = p.unseen_out[wk]
            ret = p.returns_by_type[wk]
            dq = eng.settings.deadline_quantile
            if ret.ready and days > 0 and unseen >= (1 - dq) * days:
                thr["not_up_weak"] = True
                back = ret.quantile(dq) + eng.settings.wake_margin_min
                ep["not_up_alert"] = max(ep["not_up"], eng.at_dsm(back))
        thr["_epochs"] = ep
    return ep


# ---- state changes (from the per-event path; rare) ---------------------------------------------------

def pulsing(p: PersonState) -> bool:
    """Do this person's bed mats pulse on movement (brief on-spells) rather than hold 'occupied'?

    Learned from the mats' own on-spells; until then a mat is taken to hold its state.
    """
    return p.bed_spells >= 20 and p.bed_short >= 0.7 * p.bed_spells


def bed_change(eng: RoutineEngine, p: PersonState, s: SensorState, t: float, occupied: bool) -> bool:
    """A bed mat event; False when it only repeats the mat's state.

    In bed means bed activity with no 'up' activity since (:func:`left_bed`): a mat that holds
    'occupied' is left when it goes off, a mat that pulses on movement only when the person is seen
    elsewhere, and a mat stuck 'on' cannot keep a person in bed who is busy in the kitchen.
    """
    if occupied == s.on:
        if not (occupied and not p.in_bed):
            return False
        _to_bed(eng, p, t)  # the mat says occupied again after the person was seen up: back in bed
        p.last_bed = t
        return True
    s.on = occupied
    if occupied:
        p.bed_count += 1
        s.on_since = t
        if not p.in_bed:
            _to_bed(eng, p, t)
    else:
        p.bed_count = max(0, p.bed_count - 1)
        if s.on_since is not None:
            p.bed_spells += 1
            p.bed_short += t - s.on_since < 60.0
            if p.bed_spells >= 400:  # keep it recent: a mat can be replaced or re-seated
                p.bed_spells //= 2
                p.bed_short //= 2
        s.on_since = None
        if p.bed_count == 0 and p.in_bed and not pulsing(p):
            p.in_bed = False
            p.out_since = t
    p.last_bed = t
    return True


def left_bed(eng: RoutineEngine, p: PersonState, t: float) -> None:
    """'Up' activity (not a mat, not the bedroom) while in bed: the person got up at the last bed event
    (a mat's last pulse), or now if the mats have said nothing for a while (one stuck 'occupied')."""
    p.in_bed = False
    p.out_since = p.last_bed if t - p.last_bed < 1800.0 else t
    eng._due = min(eng._due, t + 20.0)


def _to_bed(eng: RoutineEngine, p: PersonState, t: float) -> None:
    out = p.out_since
    if p.phase == DAY and p.wake_t is not None and p.bed_t is None and out is not None:
        # back in bed after getting up: a night-time trip only if the person STAYS in bed (evaluate
        # decides after settle_min); sitting on the bed to dress after the bathroom is not going back
        p.back_trip = (t, t - out)
        eng._due = min(eng._due, t + eng.settings.settle_min * 60)
    if out is None or t - out >= eng.settings.bed_exit_min_s or p.in_bed_since is None:
        if out is not None and p.phase == NIGHT and t - out >= eng.settings.bed_exit_min_s:
            p.night_exits += 1
            p.exit_pending.append(t - out)
        p.in_bed_since = t
    p.out_since = None
    p.in_bed = True


def chair_change(eng: RoutineEngine, p: PersonState, t: float, occupied: bool) -> None:
    if occupied:
        p.chair_count += 1
        if p.chair_count == 1:
            p.chair_since = t
    else:
        p.chair_count = max(0, p.chair_count - 1)
        if p.chair_count == 0 and p.chair_since is not None:
            p.sitting_s += t - p.chair_since
            p.chair_since = None


def front_door(eng: RoutineEngine, p: PersonState, t: float) -> None:
    p.door_t = t
    eng._due = min(eng._due, t + 60.0)
    # A night exit is the door after the person went to bed and before getting up: never a clock window
    # alone (evening outings; with no bed sensor 'gone to bed' comes from the evening's own settling
    # quiet, see evaluate). Not a door while out (coming home), nor a door in a 'night' never ended by a
    # wake long past the latest usual wake (that is 'not up', already told; the door may be a return).
    if p.phase == NIGHT and not p.away and (p.bed_t is not None or t < _epochs(eng, p)["not_up"]):
        if p.door_night_t is None:
            p.door_night_t = t


def back_home(eng: RoutineEngine, p: PersonState, t: float, sensor: str = "") -> None:
    """Non-door activity: the person is in (returned, or never left).

    Once out, coming home passes the front door. Without a door since, one sensor alone twitching (a
    seat mat pulsing with nobody on it, a pet) is not a return: a second, different sensor is needed,
    and the return dates from the first.
    """
    if p.away:
        if sensor and (p.door_t is None or p.away_since is None or p.door_t <= p.away_since):  # no door since
            seen = p.away_seen
            if seen is None or seen[0] == sensor:
                p.away_seen = (sensor, seen[1] if seen is not None else t)
                return
            t = seen[1]
        p.away, p.away_seen = False, None
        if p.outings and p.outings[-1][1] is None:
            p.outings[-1][1] = t
        eng._due = min(eng._due, t + 1.0)
    p.door_t = None
    p.door_night_t = None


def hour_passed(eng: RoutineEngine, start: float, end: float) -> None:
    """Learn each sensor's reporting cadence in 'active hours' (hours the person was active at home)."""
    for pid, sensors in eng.person_sensors.items():
        p = eng._persons[pid]
        active = p.last_act >= start and not p.away
        for s in sensors:
            if s.last_seen >= start:
                if active or s.run:
                    s.cadence.learn_one(float(s.run))
                s.run = 0
            elif active:
                s.run += 1
                if s.silent_since is None and s.run >= s.silent_limit:
                    s.silent_since = end
                    eng._due = min(eng._due, end)


def _silent_limit(eng: RoutineEngine, s: SensorState) -> float:
    st = eng.settings
    rare = COLD_SILENT_HOURS.get(s.role, 0)
    if s.cadence.ready:
        learned = max((s.cadence.quantile(0.99) or 0.0) * st.silent_margin + 1, 1.5 * (s.cadence.quantile(1.0) or 0))
        return max(st.silent_min_active_hours, learned, rare / 2)
    # still learning its rhythm: give it a generous start, or twice its longest pause yet
    longest = s.cadence.quantile(1.0) if s.cadence.n else 0.0
    start = COLD_SILENT_HOURS.get(s.role, 48)
    return max(st.silent_min_active_hours, start, 2 * (longest or 0.0) + 1)


def health(eng: RoutineEngine, s: SensorState, t: float, h: DeviceHealth) -> list[Alert]:
    st = eng.settings
    p = s.p
    out: list[Alert] = []
    if h.available is False and s.offline_since is None:
        s.offline_since = t
        eng._due = min(eng._due, t + st.offline_grace_min * 60)
    elif h.available is True and s.offline_since is not None:
        s.offline_since = None
        eng._due = min(eng._due, t)
    if h.battery is not None:
        s.battery = h.battery
        s.battery_low_runs = s.battery_low_runs + 1 if h.battery <= st.battery_low_percent else 0
        if s.battery_low_runs >= 2 or h.battery <= 5:  # sustained, or critically low
            day = eng._day_date.isoformat() if eng._day_date else ""
            a = _alert(eng, p, t, "battery_low", f"{p.id}:battery_low:{s.id}:{day}",
                       f"The {s.label} battery is at {h.battery:.0f}%; please replace it soon.",
                       {"sensor": s.id, "battery": h.battery})
            if a:
                out.append(a)
    return out


# ---- detectors (from tick) ------------------------------------------------------------------------

def _unhealthy(eng: RoutineEngine, s: SensorState, t: float) -> bool:
    if s.offline_since is not None and t - s.offline_since >= eng.settings.offline_grace_min * 60:
        return True
    return s.silent_since is not None


def blind_checks(eng: RoutineEngine, p: PersonState, t: float) -> dict[str, list[SensorState]]:
    """Checks that cannot be trusted now, with the sensors that make them blind."""
    sensors = eng.person_sensors[p.id]
    bad = [s for s in sensors if _unhealthy(eng, s, t)]
    if not bad:
        return {}
    out: dict[str, list[SensorState]] = {}
    for check, (need, _) in CHECKS.items():
        if need == "any":
            # stillness can only be judged if no motion/seat sensor (where a person may be) is down
            culprits = [s for s in bad if s.code in (1, 3) or s.kitchen]
            if culprits:
                out[check] = culprits
            continue
        group = [s for s in sensors if getattr(s, need)]
        if group and all(s in bad for s in group):
            out[check] = group
    return out


def evaluate(eng: RoutineEngine, p: PersonState, t: float) -> tuple[list[Alert], float]:
    st = eng.settings
    thr = p.thr
    name = eng.names[p.id].name
    pr = Pronouns(eng.names[p.id].pronoun)
    h0 = st.day_start_hour
    out: list[Alert] = []
    due = [eng._day_end]

    def add(a: Alert | None) -> None:
        if a is not None:
            out.append(a)

    # technical first: they decide which checks are blind
    for s in eng.person_sensors[p.id]:
        if s.offline_since is not None:
            since = s.offline_since + st.offline_grace_min * 60
            if t >= since:
                add(_alert(eng, p, t, "sensor_offline", f"{p.id}:sensor_offline:{s.id}:{s.offline_since:.0f}",
                           f"The {s.label} has been offline since {_clock(eng, s.offline_since)}.",
                           {"sensor": s.id, "since": eng.alert_time(s.offline_since).isoformat()}))
            else:
                due.append(since)
        if s.silent_since is not None:
            usual = s.cadence.quantile(0.99) if s.cadence.ready else None
            words = (f"it usually reports at least every {max(1, math.ceil(usual or 0))} active hour(s)"
                     if usual is not None else "it has not yet shown a usual rhythm")
            add(_alert(eng, p, t, "sensor_silent", f"{p.id}:sensor_silent:{s.id}:{s.silent_since:.0f}",
                       f"The {s.label} has said nothing for {s.run} hours in which {name} was active at home "
                       f"(last heard {_clock(eng, s.last_seen) if s.last_seen else 'never'}); {words}.",
                       {"sensor": s.id, "active_hours_silent": s.run, "usual_max_active_hours": usual}))
    blind = blind_checks(eng, p, t)
    for check, culprits in blind.items():
        words = f"{CHECKS[check][1]} for {name}: " + ", ".join(
            f"{s.label} {'offline' if s.offline_since is not None else 'silent'}" for s in culprits)
        p.day_blind.add(words)
        first = min((s.offline_since or s.silent_since or t) for s in culprits)
        add(_alert(eng, p, t, "blind_check", f"{p.id}:blind:{check}:{first:.0f}", words[0].upper() + words[1:] + ".",
                   {"check": check, "sensors": [s.id for s in culprits]}))

    if not p.stillness_told and p.activity_total.n >= st.learning_days:
        why = stillness_checkable(eng, p)
        if why is not None:  # told once: a fact of this install, not a passing fault
            p.stillness_told = True
            add(_alert(eng, p, t, "blind_check", f"{p.id}:blind:stillness_hour",
                       f"Cannot check {name}'s stillness within an hour here: {why}; only long daytime "
                       f"silences are checked. Fit or check the front door contact.",
                       {"check": "stillness_hour", "sensors": [s.id for s in eng.person_sensors[p.id] if s.door]}))

    has_bed = eng.has(p.id, "bed")
    ep = _epochs(eng, p)
    if thr.get("not_up_weak") and not p.not_up_weak_told:  # told once: a habit of this person in this install
        p.not_up_weak_told = True
        add(_alert(eng, p, t, "blind_check", f"{p.id}:blind:not_up_outings",
                   f"'Not up' is a weak check for {name} here: with no bed sensor, days when {pr.subj} is first "
                   f"seen coming in at the front door (gone out unseen) look like not getting up, so it waits "
                   f"until {_hm((ep['not_up_alert'] - eng._day_start) / 60, eng.settings.day_start_hour)} on "
                   f"such days. Fit a bed sensor, or check the front door contact.",
                   {"check": "not_up", "sensors": [s.id for s in eng.person_sensors[p.id] if s.door]}))
    quiet = t - p.last_act

    # phase changes: going to bed for the night, getting up for the day
    if p.phase == DAY:
        # still up from last night (no wake yet today): settling before the latest usual wake is that
        # night's sleep, however late, and the day's own bed time is still to come
        late = p.wake_t is None and p.bed_t is None
        # settling since when, for how long: in bed (a bed sensor), or the last activity (no bed sensor,
        # which needs a longer quiet); gone out is not gone to bed
        since, settle = None, 0.0
        if has_bed and p.in_bed and p.in_bed_since is not None:
            since, settle = p.in_bed_since, st.settle_min * 60
        elif not has_bed and p.last_act > 0 and not p.away and p.door_t is None:
            since, settle = p.last_act, 3 * st.settle_min * 60
        if since is not None:
            late = late and since < ep["wake_q"]
            ready = since + settle
            ready = ready if late else max(ready, ep["bed_window"])
            if t >= ready:
                p.phase, p.night_bed_t = NIGHT, since
                if not late:
                    p.bed_t = since
            else:
                due.append(ready)
    if (p.phase == DAY and has_bed and p.in_bed and p.wake_t is not None and p.bed_t is None
            and p.back_trip is not None and p.back_trip[0] < ep["wake_q"]
            and p.back_trip[0] - p.wake_t < st.back_to_bed_max_up_min * 60):
        back = p.back_trip[0] + st.settle_min * 60
        if t >= back:  # back in bed before the latest usual wake, and stayed: that was a night-time trip
            p.phase, p.wake_t = NIGHT, None
            if p.back_trip[1] >= st.bed_exit_min_s:
                p.night_exits += 1
                p.exit_pending.append(p.back_trip[1])
            p.back_trip = None
        else:
            due.append(back)
    if (p.phase == DAY and has_bed and p.bed_t is None and p.wake_t is not None and not p.in_bed
            and p.out_since is not None and p.out_since >= p.wake_t - 1.0 and p.last_act - p.out_since < 120.0
            and t - p.last_act >= st.up_confirm_min * 60 and not p.away):
        p.phase, p.wake_t = NIGHT, None  # 'up' was one moment with nothing since: not up after all
    elif p.phase == DAY and has_bed and p.wake_t is not None and p.bed_t is None and not p.in_bed \
            and p.last_act - p.wake_t < 120.0 and t < p.last_act + st.up_confirm_min * 60:
        due.append(p.last_act + st.up_confirm_min * 60)
    if (p.phase == NIGHT and not has_bed and p.bed_t is not None and p.burst_n >= 3 and p.burst_start > p.bed_t
            and eng.dsm(p.burst_start) < thr["bed_med"] - 60):
        p.phase, p.bed_t = DAY, None  # busy again well before the usual bed time: an evening lull, not the night
    if p.phase == NIGHT and p.bed_t is None:  # a night begun this evening ends only after the day boundary
        earliest = ep["earliest"]
        if has_bed:
            if not p.in_bed and p.out_since is not None:
                if p.out_since >= earliest:
                    # provisional: back to bed soon after undoes it (bed_change); one moment up with nothing
                    # at all since is not getting up (it is undone below)
                    if t - p.out_since < st.up_confirm_min * 60 or p.last_act - p.out_since >= 120.0:
                        _got_up(p, p.out_since)
                else:  # up in the small hours: only 'up' once clearly up and about
                    up_at = max(p.out_since + st.up_confirm_min * 60, earliest)
                    if t >= up_at and t - p.last_up < st.up_confirm_min * 60:
                        _got_up(p, p.out_since)
                    elif t < up_at:
                        due.append(up_at)
        elif p.burst_n >= 3 and p.burst_start >= earliest:
            if p.wake_t is None:
                p.came_in = p.burst_door
            _got_up(p, p.burst_start)

        elif t < earliest:
            due.append(earliest)

    # (after the phase changes above, so a burst just read as 'up' is re-checked when its quiet is due)
    if (p.phase == DAY and not has_bed and p.wake_t is not None and p.bed_t is None and not p.away
            and p.door_t is None and p.last_act < ep["wake_lo"]
            and p.last_act - p.wake_t < st.back_to_bed_max_up_min * 60):
        back = p.last_act + 3 * st.settle_min * 60  # as long a quiet as going to bed needs without a bed sensor
        if t >= back:  # a burst up in the small hours, then the night's quiet again: a night-time trip
            p.phase, p.wake_t, p.burst_n = NIGHT, None, 0  # that burst is spent: up only with the next one
        else:
            due.append(back)

    # not up by the usual time
    if p.phase == NIGHT and not p.away and "not_up" not in blind and p.wake_t is None:
        deadline = ep["not_up_alert"]
        up_moment = p.out_since is not None and p.last_act - p.out_since < 120.0  # up a moment, nothing since
        if has_bed and (p.in_bed or up_moment) and thr["wake_learned"] and pulsing(p):
            # sooner, past the usual wake, when not even the bed has moved for a while (sustained stillness);
            # only mats that pulse on movement can say so (one holding 'occupied' is as quiet for a sleeper)
            still_at = max(ep["not_up_still"], p.last_act + st.not_up_still_min * 60)
            if still_at < deadline:
                deadline = still_at
        if t >= deadline and (p.bed_t is None or p.bed_t < deadline) and deadline > eng.first_t:
            usual = (f"{name} is usually up by {_hm(thr['wake_q'], h0)} ({share(st.deadline_quantile)})"
                     if thr["wake_learned"] else
                     f"{name} is not up by {_hm(thr['not_up_dsm'], h0)} (the starting setting of "
                     f"{_hm(thr['wake_q'], h0)} plus {st.wake_margin_min:.0f} min, until {pr.poss} own routine is learned)")
            since = p.bed_t or p.night_bed_t or p.in_bed_since or p.last_act
            if has_bed and p.in_bed:
                last_up = (f"; last up at {_clock(eng, p.last_nonbed)}" if p.last_nonbed > since else "")
                now_words = f"no movement since {pr.subj} went to bed at {_clock(eng, since)}{last_up}"
            else:
                now_words = f"no movement since {_clock(eng, p.last_act)}"
            add(_alert(eng, p, t, "not_up", f"{p.id}:not_up:{eng._day_date}", f"{usual}; {now_words}.",
                       {"usual_wake": _hm(thr["wake_q"], h0), "learned": thr["wake_learned"],
                        "deadline": eng.alert_time(deadline).isoformat(), "in_bed": p.in_bed,
                        "last_activity": eng.alert_time(p.last_act).isoformat() if p.last_act else None}))
        elif t < deadline:
            due.append(deadline)
        if t < ep["not_up_alert"]:
            due.append(ep["not_up_alert"])

    # out of bed at night far longer than usual, and still
    if (p.phase == NIGHT and has_bed and not p.in_bed and p.out_since is not None and not p.away
            and p.chair_count == 0 and "night_bed_exit" not in blind):
        out_for = t - p.out_since
        last_move = max(p.last_nonbed, p.out_since)
        fire_at = max(p.out_since + thr["exit_thr_s"], last_move + st.night_exit_quiet_min * 60)
        if p.last_up >= p.last_act:  # last seen outside the bedroom: stillness there is not lying in bed
            fire_at = min(fire_at, max(p.last_act, p.out_since) + st.night_still_away_min * 60)
        if t >= fire_at:
            usual = (f"{pr.poss.capitalize()} night-time trips usually end within "
                     f"{duration(thr['exit_q'])} ({share(st.usual_quantile)})" if thr["exit_learned"] else
                     f"the starting limit is {duration(thr['exit_thr_s'])} until {pr.poss} own nights are learned")
            add(_alert(eng, p, t, "night_bed_exit", f"{p.id}:night_bed_exit:{p.out_since:.0f}",
                       f"{name} got out of bed at {_clock(eng, p.out_since)} and has not returned "
                       f"({duration(out_for)}); no movement since {_clock(eng, last_move)}. {usual}. Possible fall.",
                       {"out_since": eng.alert_time(p.out_since).isoformat(), "out_min": round(out_for / 60, 1),
                        "limit_min": round(thr["exit_thr_s"] / 60, 1), "learned": thr["exit_learned"]}))
        else:
            due.append(fire_at)

    # away from home: front door then no other activity
    if p.door_t is not None and not p.away:
        confirm = p.door_t + st.away_confirm_min * 60
        if t >= confirm and p.last_nondoor < p.door_t:
            p.away, p.away_since, p.away_seen = True, p.door_t, None
            p.outings.append([p.door_t, None])
        elif t < confirm:
            due.append(confirm)

    # front door during sleep hours and no sign of return
    if p.door_night_t is not None and "night_door" not in blind:
        fire_at = p.door_night_t + st.night_door_wait_min * 60
        if t >= fire_at and p.last_nondoor < p.door_night_t:
            bed_lo, wake_lo = thr["sleep"]
            add(_alert(eng, p, t, "night_door", f"{p.id}:night_door:{p.door_night_t:.0f}",
                       f"The front door opened at {_clock(eng, p.door_night_t)}, during {name}'s usual sleep hours "
                       f"({_hm(bed_lo, h0)}–{_hm(wake_lo, h0)}), and there has been no sign of {pr.obj} since "
                       f"({duration(t - p.door_night_t)}).",
                       {"door_time": eng.alert_time(p.door_night_t).isoformat(),
                        "waited_min": round((t - p.door_night_t) / 60, 1)}))
        elif t < fire_at:
            due.append(fire_at)

    # daytime stillness at home, not in bed
    if (p.phase == DAY and not p.away and not p.in_bed and p.last_act > 0 and p.door_t is None
            and "silence" not in blind):
        limit = thr["silence_thr"][p.last_slot]
        # without a bed sensor, last seen going to the bedroom may be lying down again (back to bed after
        # an early trip, a nap): as a mat-less bed cannot be seen, only the person's own longest quiet at
        # any hour is the limit (a home with a bed sensor does not judge stillness in bed at all)
        lying = (not has_bed and p.last_s is not None and (p.last_s.bedroom or p.last_s.role == "bedroom_door")
                 and "silence_lying_s" in thr)
        here = (p.last_s if p.last_s is not None and p.last_s.ctx_limit is not None
                and stillness_checkable(eng, p) is None and not lying else None)
        if lying:
            limit = max(limit, thr["silence_lying_s"])
        if here is not None and here.ctx_limit < limit:  # judged from where the person was last seen
            limit = here.ctx_limit
        else:
            here = None
        if quiet >= limit:
            q = thr["silence_q"][p.last_slot]
            lying_base = thr.get("silence_lying_base")
            usual = (f"After the {here.label} {pr.poss} quiet spells at home end within {duration(here.ctx_base)} "
                     f"(all but {st.stillness_context_alpha * 1000:g} in 1000)" if here is not None else
                     f"{pr.subj.capitalize()} was last seen at the {p.last_s.label}, and lying down cannot be seen "
                     f"here (no bed sensor), so only a quiet spell far longer than {pr.poss} usual longest "
                     f"({duration(lying_base)}, {round(st.blind_silence_quantile * 1000)} in 1000) is flagged"
                     if lying and lying_base is not None and limit >= thr["silence_lying_s"] - 1 else
                     f"Going out cannot be seen here (no working front door sensor), so only a quiet spell far "
                     f"longer than {pr.poss} usual longest ({duration(thr['silence_blind'])}, "
                     f"{round(st.blind_silence_quantile * 1000)} in 1000) is flagged"
                     if thr["silence_blind"] is not None and limit >= thr["silence_cap_s"] - 1 else
                     f"At this time of day {pr.poss} quiet spells at home end within {duration(q)} "
                     f"({round(st.silence_quantile * 100)} in 100)" if q is not None else
                     f"The starting limit is {duration(limit)} until {pr.poss} own days are learned")
            add(_alert(eng, p, t, "silence", f"{p.id}:silence:{p.last_act:.0f}",
                       f"No movement from {name} for {duration(quiet)}, since {_clock(eng, p.last_act)}, "
                       f"while at home and not in bed. {usual}.",
                       {"since": eng.alert_time(p.last_act).isoformat(), "quiet_min": round(quiet / 60, 1),
                        "limit_min": round(limit / 60, 1), "learned": q is not None or here is not None,
                        "last_sensor": p.last_s.id if p.last_s is not None else None,
                        "by_last_sensor": here is not None, "sitting": p.chair_count > 0}))
        else:
            due.append(p.last_act + limit)

    # no kitchen activity by the usual time, or at the latest by going to bed for the night after a day
    # up at home without any (the learned deadline, a late quantile, can fall after the person's bed time)
    # (not on a day 'not up' already called someone: the late start explains the late breakfast)
    to_bed = (p.phase == NIGHT and p.bed_t is not None and p.wake_t is not None
              and p.bed_t - p.wake_t >= NO_MEAL_MIN_DAY_S)
    if ((p.phase == DAY or to_bed) and p.first_kitchen is None and p.wake_t is not None
            and eng.has(p.id, "kitchen") and "no_meal" not in blind and "not_up" not in p.day_alerts):
        usual_by = max(ep["no_meal"], p.wake_t + 7200.0)
        deadline = min(usual_by, t) if to_bed else usual_by
        if t >= deadline and not p.away:
            usual = (f"{name} usually uses the kitchen by {_hm(thr['kitchen_q'], h0)} ({share(st.deadline_quantile)})"
                     if thr["kitchen_learned"] else
                     f"No kitchen activity from {name} by {_clock(eng, usual_by)} (the starting setting, "
                     f"until {pr.poss} own routine is learned)")
            woke = f" since {pr.subj} got up at {_clock(eng, p.wake_t)}" if p.wake_t is not None else ""
            if to_bed:
                woke += f", and {pr.subj} went to bed at {_clock(eng, p.bed_t)}"
            add(_alert(eng, p, t, "no_meal", f"{p.id}:no_meal:{eng._day_date}",
                       f"{usual}; no kitchen activity today{woke}.",
                       {"usual_first_kitchen": _hm(thr["kitchen_q"], h0), "learned": thr["kitchen_learned"]}))
        elif t < deadline:
            due.append(deadline)

    # appliance left on far longer than usual (a sensor that often stays on for hours: technicians only)
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
            if t >= s.on_since + limit:
                usual = (f"it is usually off within {duration(q)} ({share(st.usual_quantile)})" if q is not None
                         else f"the starting limit is {duration(limit)}")
                add(_alert(eng, p, t, "appliance_on", f"{p.id}:appliance_on:{s.id}:{s.on_since:.0f}",
                           f"{name}'s {what} has been on for {duration(t - s.on_since)}, since "
                           f"{_clock(eng, s.on_since)}; {usual}.",
                           {"sensor": s.id, "on_min": round((t - s.on_since) / 60, 1),
                            "limit_min": round(limit / 60, 1)}))
            else:
                due.append(s.on_since + limit)
    return out, min(due)


def _got_up(p: PersonState, t: float) -> None:
    p.phase = DAY
    if p.wake_t is None:
        p.wake_t = t
    if p.first_kitchen is not None and p.first_kitchen < t:
        p.first_kitchen = None  # a night-time drink is not breakfast
    p.door_night_t = None


# ---- person days ------------------------------------------------------------------------------------

def day_payload(eng: RoutineEngine, p: PersonState) -> dict[str, Any]:
    """Everything learnable about the person day so far."""
    hourly = [0] * 24
    rooms: dict[str, int] = {}
    for s in eng.person_sensors[p.id]:
        n = 0
        for h, c in enumerate(s.hourly):
            hourly[h] += c
            n += c
        if n:
            rooms[s.room] = rooms.get(s.room, 0) + n
    d = eng._day_date
    minutes_out = 0.0
    for a, b in p.outings:
        minutes_out += ((b if b is not None else eng._day_end) - a) / 60
    events = sum(hourly)
    return {
        "date": d, "weekend": d.weekday() >= 5 if d else False,
        "wake": eng.dsm(p.wake_t) if p.wake_t else None,
        "first_kitchen": eng.dsm(p.first_kitchen) if p.first_kitchen else None,
        "bed": eng.dsm(p.bed_t) if p.bed_t else None,
        "night_exits": p.night_exits, "exit_lengths": list(p.exit_pending), "gaps": list(p.gaps),
        "minutes_out": minutes_out, "events": events, "hourly": hourly, "rooms": rooms,
        "kitchen_events": p.kitchen_events,
        "appliance_on": {s.id: list(s.on_pending) for s in eng.person_sensors[p.id] if s.on_pending},
        "outings": [(a, b) for a, b in p.outings],
        "ctx_gaps": {s.id: (s.after_n, list(s.after_long)) for s in eng.person_sensors[p.id] if s.after_n},
    }


def _features(pl: dict[str, Any]) -> dict[str, float | None]:
    h = pl["hourly"]
    return {"wake": pl["wake"], "first_kitchen": pl["first_kitchen"], "bed": pl["bed"],
            "night_exits": pl["night_exits"], "minutes_out": pl["minutes_out"], "events": pl["events"],
            "events_morning": sum(h[6:12]), "events_afternoon": sum(h[12:18]), "events_evening": sum(h[18:24]),
            "kitchen_events": pl["kitchen_events"]}


def learn_day(eng: RoutineEngine, p: PersonState, pl: dict[str, Any]) -> None:
    """Learn a day's payload; parts set to None (or left out) by :func:`split_flagged` are skipped."""
    weekend = bool(pl.get("weekend"))
    if pl.get("wake") is not None:
        p.wake_model.learn_one(pl["wake"])
        p.wake_by_type[weekend].learn_one(pl["wake"])
    p.kitchen_model.learn_one(pl.get("first_kitchen"))
    p.bed_model.learn_one(pl.get("bed"))
    for x in pl.get("exit_lengths", ()):
        p.exit_len.learn_one(x)
    for g in pl.get("gaps", ()):
        p.silence.learn_one(g)
    if pl.get("whole_day", True):  # whole-day features: not from a day that raised a care alarm
        p.night_exits_model.learn_one(float(pl["night_exits"]))
        p.minutes_out_model.learn_one(pl["minutes_out"])
        p.activity_total.learn_one(float(pl["events"]))
        p.profile.learn_one((weekend, pl["hourly"]))
        p.daily.learn_one(_features(pl))
    for sid, durations in pl.get("appliance_on", {}).items():
        s = eng._sensors.get(sid)
        if s is not None:
            for x in durations:
                s.on_model.learn_one(x)
    for sid, (n, longs) in pl.get("ctx_gaps", {}).items():
        s = eng._sensors.get(sid)
        if s is not None:
            learn_context_gaps(s, n, longs)


# care alert kind -> the day's markers it says were unusual (never learned unless a carer says false alarm)
FLAGGED_MARKERS = {"not_up": ("wake",), "no_meal": ("first_kitchen",), "night_door": ("bed",)}


def split_flagged(eng: RoutineEngine, p: PersonState, pl: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what to learn now, what to keep back) of a day that raised care alerts.

    A model never learns from what it flagged, but one alert must not keep a whole day out: every marker
    the alerts were not about is learned, so a home's long quiet spells or late mornings are not held
    back for ever by an unrelated alert that day (the loop that made the same spell alarm again and
    again). Kept back: the flagged markers, the quiet spells and night exits at or past their alert
    limit, the appliance spells past theirs, and the whole-day features.
    """
    kinds = set(p.day_alerts)
    thr = p.thr
    now, back = dict(pl), {"date": pl["date"], "weekend": pl["weekend"], "whole_day": True,
                           "night_exits": pl["night_exits"], "minutes_out": pl["minutes_out"],
                           "events": pl["events"], "hourly": pl["hourly"], "first_kitchen": pl["first_kitchen"],
                           "wake": None, "bed": None, "kitchen_events": pl["kitchen_events"]}
    now["whole_day"] = False
    for kind in kinds:
        for marker in FLAGGED_MARKERS.get(kind, ()):
            back[marker], now[marker] = pl[marker], None
    if "first_kitchen" not in {m for k in kinds for m in FLAGGED_MARKERS.get(k, ())}:
        back["first_kitchen"] = None
    sil = p.thr["silence_thr"]
    now["gaps"] = [g for g in pl["gaps"] if g[1] < sil[g[0]]]
    back["gaps"] = [g for g in pl["gaps"] if g[1] >= sil[g[0]]]
    lim = p.thr["exit_thr_s"]
    now["exit_lengths"] = [x for x in pl["exit_lengths"] if x < lim]
    back["exit_lengths"] = [x for x in pl["exit_lengths"] if x >= lim]
    now["appliance_on"], back["appliance_on"] = {}, {}
    auto: dict[str, Any] = {"weekend": pl["weekend"], "whole_day": False, "appliance_on": {}}
    for sid, xs in pl["appliance_on"].items():
        s = eng._sensors[sid]
        a_lim = appliance_limit(eng, s)[0]
        now["appliance_on"][sid] = [x for x in xs if x < a_lim]
        back["appliance_on"][sid] = [x for x in xs if x >= a_lim]
        auto["appliance_on"][sid] = [x for x in xs if a_lim <= x < 2 * a_lim]
    # quiet after a sensor at or past that sensor's own limit: kept back like the quiet spells
    now["ctx_gaps"], back["ctx_gaps"], auto["ctx_gaps"] = {}, {}, {}
    for sid, (n, longs) in pl.get("ctx_gaps", {}).items():
        c_lim = eng._sensors[sid].ctx_limit or math.inf
        now["ctx_gaps"][sid] = (n, [x for x in longs if x < c_lim])
        back["ctx_gaps"][sid] = (0, [x for x in longs if x >= c_lim])
        # a quiet spell under the everyday cap that ended by itself (the person moved again) was not a fall
        auto["ctx_gaps"][sid] = (0, [x for x in longs if c_lim <= x < eng.settings.silence_cap_min * 60])
    # what ended by itself soon after its limit: learned later unless someone marks the alert real
    st = eng.settings
    wake_limit = thr.get("not_up_dsm", 0.0) + 120
    auto["wake"] = back["wake"] if back["wake"] is not None and back["wake"] <= wake_limit else None
    auto["first_kitchen"] = back["first_kitchen"]
    auto["bed"] = back["bed"]
    auto["gaps"] = [g for g in back["gaps"] if g[1] < min(2 * sil[g[0]], thr.get("silence_cap_s", st.silence_cap_min * 60))]
    auto["exit_lengths"] = [x for x in back["exit_lengths"] if x < 2 * lim]
    back["auto"] = auto
    return now, back


def settle_unconfirmed(eng: RoutineEngine, p: PersonState) -> None:
    """Learn the self-ended parts of flagged days nobody marked real within ``settle_unconfirmed_days``."""
    days = eng.settings.settle_unconfirmed_days
    if not days or eng._day_date is None:
        return
    for d in [d for d in p.flagged if (eng._day_date - d).days >= days]:
        back = p.flagged[d]
        if not back.get("real") and back.get("auto"):
            learn_day(eng, p, back["auto"])
            back["auto"] = None


def appliance_limit(eng: RoutineEngine, s: SensorState) -> tuple[float, float | None]:
    """(seconds on before a warning, the usual longest on-time or None while learning)."""
    st = eng.settings
    q = s.on_model.quantile(st.usual_quantile) if s.on_model.ready else None
    return (max(st.appliance_floor_min * 60, q * st.appliance_margin) if q is not None
            else st.default_appliance_on_min * 60), q


def stuck_on(s: SensorState) -> bool:
    """Does this appliance sensor often stay 'on' for hours (stuck, or not switched by the person)?

    Then 'left on' cannot be told from the sensor's own habit: a check for technicians, not carers.
    """
    return s.on_stuck >= 3 and s.on_stuck >= 0.1 * s.on_spells


def summarise(eng: RoutineEngine, p: PersonState, pl: dict[str, Any], live: bool = False) -> DaySummary:
    h0 = eng.settings.day_start_hour
    thr = p.thr

    def clock(m: float | None) -> dtime | None:
        if m is None:
            return None
        mm = round(m + h0 * 60) % 1440
        return dtime(mm // 60, mm % 60)

    exp = p.profile.expected(pl["weekend"]) if p.profile.ready else [0.0] * 24
    return DaySummary(
        person=p.id, date=pl["date"], wake_time=clock(pl["wake"]),
        usual_wake_time=clock(p.wake_model.quantile(0.5)) if thr["wake_learned"] else None,
        bed_time=clock(pl["bed"]), usual_bed_time=clock(thr["bed_med"]) if thr["bed_learned"] else None,
        appliance_uses=dict(p.appliance_uses), kitchen_events=pl["kitchen_events"],
        outings=[(eng.alert_time(a), eng.alert_time(b) if b is not None else None) for a, b in pl["outings"]],
        night_bed_exits=pl["night_exits"], hourly_activity=tuple(pl["hourly"]),
        usual_hourly_activity=tuple(round(float(x), 2) for x in exp),
        blind=sorted(p.day_blind), alerts=list(dict.fromkeys(p.day_alerts)),
        first_kitchen_time=clock(pl["first_kitchen"]), minutes_out=round(pl["minutes_out"], 1),
        sitting_minutes=round(p.sitting_s / 60, 1), longest_quiet_min=round(p.longest_quiet / 60, 1),
        room_activity=pl["rooms"], profile_score=round(p.daily.score_one(_features(pl)), 3),
        contexts=sorted(p.day_contexts | eng.active_contexts(p.id, eng._day_start, eng._day_end)),
    )


def finish_day(eng: RoutineEngine, p: PersonState) -> list[Alert]:
    pl = day_payload(eng, p)
    summary = summarise(eng, p, pl)
    p.summaries.append(summary)
    care_flagged = any(KINDS[k][1] == CARE and KINDS[k][0] != INFO for k in p.day_alerts)
    unseen = _unseen_outing(eng, p)
    if unseen:
        pl = {**pl, "wake": None}  # a return from an outing is not a wake time (night start hangs on wakes)
    for m in (p.wake_model, *p.wake_by_type, *p.returns_by_type, p.kitchen_model, p.bed_model, p.night_exits_model, p.exit_len, p.minutes_out_model,
              p.activity_total, p.silence, p.profile, p.daily):
        m.decay()
    for s in eng.person_sensors[p.id]:
        s.on_model.decay()
        s.cadence.decay()
        s.after_hist *= s.on_model.factor
        s.after_w *= s.on_model.factor
        s.silent_limit = _silent_limit(eng, s)
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
    settle_unconfirmed(eng, p)
    refresh_thresholds(eng, p)
    return _weekly_trends(eng, p)


def _unseen_outing(eng: RoutineEngine, p: PersonState) -> bool:
    """Was the person first seen today coming in at the front door, after the not-up deadline?"""
    return (p.came_in and p.wake_t is not None and "not_up_dsm" in p.thr
            and eng.dsm(p.wake_t) > p.thr["not_up_dsm"])


def start_day(eng: RoutineEngine, p: PersonState) -> None:
    p.wake_t = p.bed_t = p.first_kitchen = p.back_trip = None
    p.came_in = False
    p.kitchen_events = p.night_exits = 0
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
        "usual": {"wake_by": _hm(p.thr["wake_q"], h0), "bed": _hm(p.thr["bed_med"], h0),
                  "first_kitchen_by": _hm(p.thr["kitchen_q"], h0),
                  "night_exit_limit_min": round(p.thr["exit_thr_s"] / 60, 1)},
        "contexts": sorted(eng.active_contexts(p.id, t)),
    }
