"""Person days: what a day teaches (:func:`day_payload`, :func:`learn_day`), what a day that raised care
alerts keeps back until it proves a false alarm (:func:`split_flagged`), and learning the self-ended
parts of such days nobody confirmed (:func:`settle_unconfirmed`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routines.detectors import appliances, quietbudget
from routines.detectors.thresholds import appliance_limit, learn_context_gaps, refresh_thresholds
from routines.models import MarkerModel
from routines.state import PersonState

if TYPE_CHECKING:
    from routines.engine import RoutineEngine


def day_payload(eng: RoutineEngine, p: PersonState) -> dict[str, Any]:
    """Everything learnable about the person day so far."""
    sensors = eng.person_sensors[p.id]
    # whole rows at once (whole numbers: the same sums in any order), not 24 steps of Python per sensor:
    # a quiet home's day end pays this for every sensor every day
    hourly = [sum(col) for col in zip(*(s.hourly for s in sensors), strict=True)] if sensors else [0] * 24
    rooms: dict[str, int] = {}
    for s in sensors:
        n = sum(s.hourly)
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
    """Learn a day's payload; parts set to None (or left out) by :func:`split_flagged` are skipped.

    A flagged day learned on a carer's "false alarm" (``clip_s`` set by :func:`split_flagged`) moves no
    limit later by more than ``clip_s``: one outcome must not move a deadline by hours.
    """
    if pl.get("clip_s"):
        pl = clip_payload(eng, p, pl, lambda _: pl["clip_s"])
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
    sil = p.thr.silence_thr
    now["gaps"] = [g for g in pl["gaps"] if g[1] < sil[g[0]]]
    back["gaps"] = [g for g in pl["gaps"] if g[1] >= sil[g[0]]]
    lim = p.thr.exit_thr_s
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
    wake_limit = thr.not_up_dsm + 120
    auto["wake"] = back["wake"] if back["wake"] is not None and back["wake"] <= wake_limit else None
    auto["first_kitchen"] = back["first_kitchen"]
    auto["bed"] = back["bed"]
    auto["gaps"] = [g for g in back["gaps"] if g[1] < min(2 * sil[g[0]], thr.silence_cap_s)]
    # (never past the cap on a night up: a trip that long is never normal by itself, however long the limit)
    auto["exit_lengths"] = [x for x in back["exit_lengths"]
                            if x < min(2 * lim, eng.settings.night_back_cap_min * 60)]
    back["auto"] = auto
    back["clip_s"] = FALSE_ALARM_MOVE_S
    return now, back


# Decision 4 of issue 11. One carer's "false alarm" may move a limit later by at most an hour (a real
# late morning is learned, but not a deadline pushed by hours from one day); what is learned from alerts
# nobody marked (settle_unconfirmed) by at most half an hour in any 7 days, per limit.
FALSE_ALARM_MOVE_S = 3600.0
SETTLE_WEEK_MOVE_S = 1800.0
# How much later than its first clip a settled day's marker may be released (minutes). benchmarks.seeds,
# five seeds, leave-one-home-out: uncapped and capped at 2 h give the same recall (0.44) and false alarms
# (5.1 and 5.2 per 30 d); the cap keeps a fixed stream's real troubles from moving 'no meal' by 3 h.
RELEASE_MAX_MIN = 120.0
# Every limit a settled or false-alarm day can move, by key: the day markers' usual times, and the
# stillness limit at each hour, the night-exit limit, each appliance's and each sensor's own. A quantile
# with one more value v <= x is at most max(old quantile, x), so clipping every value to
# (limit + budget) / margin moves that limit later by the budget at most, whatever the other values and
# the prior.
MARKERS = ("wake", "first_kitchen", "bed")


def limits_now(eng: RoutineEngine, p: PersonState) -> dict[str, float]:
    """Every limit in force, in seconds, by key (see :func:`clip_payload`)."""
    thr = p.thr
    out = {"wake:0": thr.wake_q_by_type[0] * 60, "wake:1": thr.wake_q_by_type[1] * 60,
           "wake": thr.wake_q * 60, "first_kitchen": thr.kitchen_q * 60,
           "bed": thr.bed_med * 60, "night_exit": thr.exit_thr_s}
    out.update({f"silence:{slot}": x for slot, x in enumerate(thr.silence_thr)})
    for s in eng.person_sensors.get(p.id, ()):
        if s.appliance:
            out[f"appliance:{s.id}"] = appliance_limit(eng, s)[0]
        if s.ctx_limit is not None:
            out[f"context:{s.id}"] = s.ctx_limit
    return out


def clip_payload(eng: RoutineEngine, p: PersonState, pl: dict[str, Any], budget: Callable[[str], float]) -> dict[str, Any]:
    """``pl`` with every value clipped so no limit moves later by more than ``budget(key)`` seconds.
    Limits are read from the thresholds in force (``p.thr``)."""
    thr, st = p.thr, eng.settings
    out = dict(pl)
    # day markers, minutes since the day start: the latest usual wake (the not-up deadline is it plus a
    # margin; a wake teaches the pooled and its own kind of day's, each the other's stand-in until ready:
    # the earliest of them bounds all), the latest usual first kitchen use (no meal likewise), the usual
    # bed time (the night's start)
    wakes = ("wake", "wake:0", "wake:1")
    refs = {"wake": (min(*thr.wake_q_by_type, thr.wake_q), min(budget(k) for k in wakes)),
            "first_kitchen": (thr.kitchen_q, budget("first_kitchen")), "bed": (thr.bed_med, budget("bed"))}
    for key, (ref, room) in refs.items():
        if pl.get(key) is not None:
            out[key] = min(pl[key], ref + room / 60)

    def clip(key: str, x: float, limit: float, margin: float) -> float:
        return min(x, (limit + budget(key)) / margin)

    # the stillness limits' margin: the budget's (situation_margin) once they are spent from it (quietbudget)
    m_sil, m_ctx = ((quietbudget.margin(st),) * 2 if thr.silence_budget
                    else (st.silence_margin, st.stillness_context_margin))
    if pl.get("gaps"):
        sil = thr.silence_thr
        out["gaps"] = [(slot, clip(f"silence:{slot}", g, sil[slot], m_sil)) for slot, g in pl["gaps"]]
    if pl.get("exit_lengths"):
        out["exit_lengths"] = [clip("night_exit", x, thr.exit_thr_s, st.night_exit_margin)
                               for x in pl["exit_lengths"]]
    if pl.get("appliance_on"):
        # an appliance's limit is the larger of two rules' (the usual time's, the budget's): clipped so
        # that neither moves past the limit plus the budget (appliances.clip_spells)
        out["appliance_on"] = {sid: appliances.clip_spells(
                                   eng._sensors[sid].on_model, xs,
                                   appliance_limit(eng, eng._sensors[sid])[0] + budget(f"appliance:{sid}"), st,
                                   appliances.active(eng, p))
                               for sid, xs in pl["appliance_on"].items() if sid in eng._sensors}
    if pl.get("ctx_gaps"):
        out["ctx_gaps"] = {}
        for sid, (n, longs) in pl["ctx_gaps"].items():
            c_lim = eng._sensors[sid].ctx_limit if sid in eng._sensors else None
            out["ctx_gaps"][sid] = (n, [clip(f"context:{sid}", x, c_lim, m_ctx)
                                        for x in longs] if c_lim is not None else list(longs))
    out.pop("clip_s", None)
    return out


def settle_used(eng: RoutineEngine, p: PersonState) -> dict[str, float]:
    """Seconds each limit has moved later through settled days in the last 7 days, by key."""
    assert eng._day_date is not None
    used: dict[str, float] = {}
    for back in p.flagged.values():
        for on, moved in [back.get("settled") or (None, {}), *back.get("released", ())]:
            if on is not None and (eng._day_date - on).days < 7:
                for k, v in moved.items():
                    used[k] = used.get(k, 0.0) + v
    return used


def settle_unconfirmed(eng: RoutineEngine, p: PersonState) -> bool:
    """Learn the self-ended parts of flagged days nobody marked real within ``settle_unconfirmed_days``,
    moving no limit later by more than ``SETTLE_WEEK_MOVE_S`` in any 7 days (decision 4 of issue 11).

    Each limit is charged what it really moved (the thresholds before and after), so the many settled
    days that hardly move a quantile do not use up the week's half hour; the clip is the guarantee.
    True when it ended on :func:`refresh_thresholds` with nothing learned since: ``p.thr`` is what another
    refresh would give (refreshing is idempotent), so the day end need not pay for one more.
    """
    days = eng.settings.settle_unconfirmed_days
    if not days or eng._day_date is None:
        return False
    due = [d for d in p.flagged if (eng._day_date - d).days >= days
           and not p.flagged[d].get("real") and p.flagged[d].get("auto")]
    for i, d in enumerate(due):
        if i == 0:  # (after the first, the limits are the refresh's that ended the last one: idempotent)
            refresh_thresholds(eng, p)  # the limits as they stand, with today's own day learned
        before, used = limits_now(eng, p), settle_used(eng, p)
        back = p.flagged[d]
        auto = back["auto"]
        clipped = clip_payload(eng, p, auto, lambda k, used=used: max(0.0, SETTLE_WEEK_MOVE_S - used.get(k, 0.0)))
        wk = bool(auto.get("weekend"))
        where = {k: [(i, m._pos, m.count) for i, m in enumerate(marker_models(p, k, wk))]
                 for k in MARKERS if clipped.get(k) is not None and clipped[k] < auto[k]}
        learn_day(eng, p, clipped)
        # a marker learned clipped is released toward its true value later, within each week's budget, and
        # by at most RELEASE_MAX_MIN more than its clip: a real late morning or meal nobody marked (still in
        # bed at 13:00) must not drag a limit by hours over the months, half an hour a week at a time
        # (release to what: (true value, kind of day, [(model, ring slot, values learned before it)]))
        back["release"] = {k: (min(auto[k], clipped[k] + RELEASE_MAX_MIN), wk, [(i, pos, n) for i, pos, n in ms
                                             if marker_models(p, k, wk)[i].count > n])
                           for k, ms in where.items()}
        refresh_thresholds(eng, p)
        after = limits_now(eng, p)
        back["auto"] = None
        back["settled"] = (eng._day_date, {k: after[k] - v for k, v in before.items() if after.get(k, v) > v})
    return release_clipped(eng, p, current=bool(due)) or bool(due)


def marker_models(p: PersonState, marker: str, weekend: bool) -> list[MarkerModel]:
    """The models a day marker is learned into (:func:`learn_day`)."""
    return {"wake": [p.wake_model, p.wake_by_type[weekend]], "first_kitchen": [p.kitchen_model],
            "bed": [p.bed_model]}[marker]


def release_clipped(eng: RoutineEngine, p: PersonState, current: bool = False) -> bool:
    """Raise the day markers a settled day taught clipped toward the values really seen, moving no limit
    later by more than what is left of ``SETTLE_WEEK_MOVE_S`` in the last 7 days (decision 4 of issue 11).

    A clip forever would make one late-eating evening in a month count as an early one for good: the
    limit could never learn that this person sometimes first uses the kitchen at 21:00. Raising one held
    value to at most (limit + budget) moves that quantile later by the budget at most, as learning one
    more such value would; each release is charged like a settled day. True when it refreshed the limits
    and they are current (it ends on a refresh, or on releases that moved no value). ``current``: the
    limits are already what a refresh would give (a day was just settled), so none is made first."""
    assert eng._day_date is not None
    pending = [b for b in p.flagged.values() if b.get("release")]
    if not pending:
        return False
    if not current:
        refresh_thresholds(eng, p)
    thr = p.thr
    refs = {"wake": min(*thr.wake_q_by_type, thr.wake_q), "first_kitchen": thr.kitchen_q,
            "bed": thr.bed_med}
    keys = {"wake": ("wake", "wake:0", "wake:1"), "first_kitchen": ("first_kitchen",), "bed": ("bed",)}
    for back in pending:
        before, used = limits_now(eng, p), settle_used(eng, p)
        left, changed = {}, False
        for marker, (true, wk, slots) in back["release"].items():
            room = min(max(0.0, SETTLE_WEEK_MOVE_S - used.get(k, 0.0)) for k in keys[marker])
            target = min(true, refs[marker] + room / 60)
            models = marker_models(p, marker, wk)
            held = []
            for i, pos, n in slots:
                m = models[i]
                if m.count > n + m.capacity:  # the slot has since been reused by a newer day
                    continue
                if m.values[pos] < target:
                    m.values[pos], changed = target, True
                    m.values_changed()
                if m.values[pos] < true:
                    held.append((i, pos, n))
            if held:
                left[marker] = (true, wk, held)
        back["release"] = left
        if not changed:  # no budget left this week: nothing moved, nothing to charge
            continue
        refresh_thresholds(eng, p)
        after = limits_now(eng, p)
        moved = {k: after[k] - v for k, v in before.items() if after.get(k, v) > v}
        if moved:
            back.setdefault("released", []).append((eng._day_date, moved))
    return True
