"""Sensor health and blind checks: silent and offline sensors, low batteries, which care checks a sensor
fault leaves blind, and the technical alerts that run first in every evaluation (they decide which care
checks are blind).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from routines.alert import Alert
from routines.detectors.common import CHECKS, NEVER, Tick, _alert, _clock, _hm
from routines.detectors.thresholds import stillness_checkable
from routines.state import SensorState

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.state import PersonState
    from sensors.events import DeviceHealth

# active hours a sensor may stay quiet before its rhythm is learned: rarely used things get a week
COLD_SILENT_HOURS = {r: 170 for r in ("front_door", "back_door", "keys", "washing_machine", "dishwasher", "iron",
                                      "oven", "freezer", "heater", "toaster", "microwave", "cupboard")}


def hour_passed(eng: RoutineEngine, start: float, end: float) -> float:
    """Learn each sensor's reporting cadence in 'active hours' (hours the person was active at home).
    Returns when to look again: ``end`` once a sensor is newly silent (:data:`NEVER` otherwise)."""
    due = NEVER
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
                    due = end
    return due


def _silent_limit(eng: RoutineEngine, s: SensorState) -> float:
    if s.cadence.ready:
        return _learned_limit(eng, s, s.cadence.quantile(0.99), s.cadence.quantile(1.0))
    st = eng.settings
    # still learning its rhythm: give it a generous start, or twice its longest pause yet
    longest = s.cadence.quantile(1.0) if s.cadence.n else 0.0
    start = COLD_SILENT_HOURS.get(s.role, 48)
    return max(st.silent_min_active_hours, start, 2 * (longest or 0.0) + 1)


def _learned_limit(eng: RoutineEngine, s: SensorState, q99: float | None, q100: float | None) -> float:
    """The silent limit of a sensor whose cadence is learned, from its 99% and 100% quantiles."""
    st = eng.settings
    learned = max((q99 or 0.0) * st.silent_margin + 1, 1.5 * (q100 or 0))
    return max(st.silent_min_active_hours, learned, COLD_SILENT_HOURS.get(s.role, 0) / 2)


def silent_limits(eng: RoutineEngine, sensors: list[SensorState]) -> None:
    """Set every sensor's ``silent_limit`` (:func:`_silent_limit`), once a day after the cadences fade.

    The cadences whose ring is full (nearly all, after the first weeks) are read together: one stable sort,
    one running sum per row (left to right, as ``np.cumsum`` sums one) and the count of running weights
    below each share (:func:`bisect.bisect_left`'s index), so each quantile is the same float as
    ``MarkerModel.quantile``'s, to the last bit, at a few numpy calls a day instead of a few per sensor (a
    quiet home's day end spent a sixth of its time on these tables, built each day for two reads)."""
    cap = sensors[0].cadence.capacity if sensors else 0
    is_full = [s.cadence.count >= s.cadence.capacity == cap >= s.cadence.warmup for s in sensors]
    full = [s for s, f in zip(sensors, is_full, strict=True) if f]
    for s, f in zip(sensors, is_full, strict=True):
        if not f:  # still filling its ring (or another size): read alone
            s.silent_limit = _silent_limit(eng, s)
    if not full:
        return
    values = np.array([s.cadence.values for s in full])
    # a cadence counts whole hours (float(s.run)): as 16-bit integers they sort into the same stable order
    # (one order only is stable), which numpy finds by radix, three times faster than floats by timsort
    small = values.astype(np.int16)
    order = np.argsort(small if (small == values).all() else values, axis=1, kind="stable")
    order += np.arange(0, order.size, cap)[:, None]  # flat positions: one gather rather than take_along_axis
    cum = np.cumsum(np.array([s.cadence.weights for s in full]).ravel()[order], axis=1)
    total = cum[:, -1:]
    ordered = values.ravel()[order]
    # bisect_left's index in each row: how many running weights lie below the share of the total
    at99, at100 = (np.minimum((cum < share * total).sum(axis=1), cap - 1) for share in (0.99, 1.0))
    rows = np.arange(len(full))
    q99, q100 = ordered[rows, at99].tolist(), ordered[rows, at100].tolist()
    for s, a, b in zip(full, q99, q100, strict=True):
        s.silent_limit = _learned_limit(eng, s, a, b)


def health(eng: RoutineEngine, s: SensorState, t: float, h: DeviceHealth) -> tuple[list[Alert], float]:
    """One availability or battery report: (alerts, when to look again; :data:`NEVER`: no need)."""
    st = eng.settings
    p = s.p
    out: list[Alert] = []
    due = NEVER
    if h.available is False and s.offline_since is None:
        s.offline_since = t
        due = t + st.offline_grace_min * 60  # offline past its grace: blind checks, a technical alert
    elif h.available is True and s.offline_since is not None:
        s.offline_since = None
        due = t  # back: the checks it blinded can be judged again now
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
    return out, due


# ---- which checks sensor faults leave blind -------------------------------------------------------

def any_unwell(eng: RoutineEngine, p: PersonState) -> bool:
    """Is any of the person's sensors offline or silent (what the technical checks of a look need)?"""
    for s in eng.person_sensors[p.id]:  # (a plain loop: any() over a generator costs twice as much here)
        if s.offline_since is not None or s.silent_since is not None:
            return True
    return False


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
            # stillness can only be judged if no sensor showing where a person may be (a seat, a room's
            # motion: routines.sensor_kinds) is down
            culprits = [s for s in bad if s.presence or s.kitchen]
            if culprits:
                out[check] = culprits
            continue
        group = [s for s in sensors if getattr(s, need)]
        if group and all(s in bad for s in group):
            out[check] = group
    return out



# ---- technical alerts (from tick, first) --------------------------------------------------------------

def sensor_faults(c: Tick) -> None:
    """A sensor offline past its grace time, or silent through more active hours than is usual for it."""
    eng, p, t, st, name, add = c.eng, c.p, c.t, c.st, c.name, c.add
    for s in eng.person_sensors[p.id]:
        if s.offline_since is not None:
            since = s.offline_since + st.offline_grace_min * 60
            if t >= since:
                add(_alert(eng, p, t, "sensor_offline", f"{p.id}:sensor_offline:{s.id}:{s.offline_since:.0f}",
                           f"The {s.label} has been offline since {_clock(eng, s.offline_since)}.",
                           {"sensor": s.id, "since": eng.alert_time(s.offline_since).isoformat()}))
            else:
                c.due.append(since)
        if s.silent_since is not None:
            usual = s.cadence.quantile(0.99) if s.cadence.ready else None
            words = (f"it usually reports at least every {max(1, math.ceil(usual or 0))} active hour(s)"
                     if usual is not None else "it has not yet shown a usual rhythm")
            add(_alert(eng, p, t, "sensor_silent", f"{p.id}:sensor_silent:{s.id}:{s.silent_since:.0f}",
                       f"The {s.label} has said nothing for {s.run} hours in which {name} was active at home "
                       f"(last heard {_clock(eng, s.last_seen) if s.last_seen else 'never'}); {words}.",
                       {"sensor": s.id, "active_hours_silent": s.run, "usual_max_active_hours": usual}))


def blind_alerts(c: Tick) -> None:
    """Each care check the faulty sensors (``c.blind``) leave blind: noted in the day, told to technicians."""
    eng, p, t, name, add = c.eng, c.p, c.t, c.name, c.add
    for check, culprits in c.blind.items():
        words = f"{CHECKS[check][1]} for {name}: " + ", ".join(
            f"{s.label} {'offline' if s.offline_since is not None else 'silent'}" for s in culprits)
        p.day_blind.add(words)
        first = min((s.offline_since or s.silent_since or t) for s in culprits)
        add(_alert(eng, p, t, "blind_check", f"{p.id}:blind:{check}:{first:.0f}", words[0].upper() + words[1:] + ".",
                   {"check": check, "sensors": [s.id for s in culprits]}))


def stillness_unjudgeable(c: Tick) -> None:
    """Once learned: stillness cannot be judged within the hour in this install (no working front door)."""
    eng, p, t, st, name, add = c.eng, c.p, c.t, c.st, c.name, c.add
    if not p.stillness_told and p.activity_total.n >= st.learning_days:
        why = stillness_checkable(eng, p)
        if why is not None:  # told once: a fact of this install, not a passing fault
            p.stillness_told = True
            add(_alert(eng, p, t, "blind_check", f"{p.id}:blind:stillness_hour",
                       f"Cannot check {name}'s stillness within an hour here: {why}; only long daytime "
                       f"silences are checked. Fit or check the front door contact.",
                       {"check": "stillness_hour", "sensors": [s.id for s in eng.person_sensors[p.id] if s.door]}))


def not_up_weak(c: Tick) -> None:
    """Once: 'not up' waits for the person's usual return here (no bed sensor, often out unseen)."""
    eng, p, t, thr, name, pr, ep, add = c.eng, c.p, c.t, c.thr, c.name, c.pr, c.ep, c.add
    if thr.not_up_weak and not p.not_up_weak_told:  # told once: a habit of this person in this install
        p.not_up_weak_told = True
        add(_alert(eng, p, t, "blind_check", f"{p.id}:blind:not_up_outings",
                   f"'Not up' is a weak check for {name} here: with no bed sensor, days when {pr.subj} is first "
                   f"seen coming in at the front door (gone out unseen) look like not getting up, so it waits "
                   f"until {_hm((ep.not_up_alert - eng._day_start) / 60, eng.settings.day_start_hour)} on "
                   f"such days. Fit a bed sensor, or check the front door contact.",
                   {"check": "not_up", "sensors": [s.id for s in eng.person_sensors[p.id] if s.door]}))
