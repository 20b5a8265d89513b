"""Person days: what a day teaches (:func:`day_payload`, :func:`learn_day`), what a day that raised care
alerts keeps back until it proves a false alarm (:func:`split_flagged`), and learning the self-ended
parts of such days nobody confirmed (:func:`settle_unconfirmed`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from routines.detectors.thresholds import appliance_limit, learn_context_gaps
from routines.state import PersonState

if TYPE_CHECKING:
    from routines.engine import RoutineEngine


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

