"""Thresholds from the person's own learned days: the deadlines and limits every detector compares with.

:func:`refresh_thresholds` recomputes them at rollover (a quantile plus a margin, with a floor and a
minimum of evidence, or technician defaults while still learning); :func:`_epochs` turns today's into
epoch seconds; stillness after a particular sensor and appliance on-times have their own limits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from routines.detectors import appliances, quietbudget, situations
from routines.detectors.common import _parse_hhmm
from routines.learning import guard_limits
from routines.limits import Deadlines, Thresholds
from routines.models import GAP_BINS, GAP_EDGES, GAP_MIN_S, MarkerModel, gap_bin
from routines.prior import blended_table, prior_weight, quantile_of

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.settings import RoutineSettings
    from routines.state import PersonState, SensorState


def _blend(eng: RoutineEngine, m: MarkerModel, name: str, days: int | None = None) -> Callable[[float], float | None]:
    """Quantiles of the person's own values of marker ``name`` together with the population prior's,
    weighted as a few days and fading as the person's own days grow (:mod:`routines.prior`); the
    person's own only, once the model has warmed up and there is no prior (or it has faded). ``days``: the
    check's own evidence, when the model holds only part of it (weekday or weekend wakes).

    Several quantiles are read from one blend at each day end, so the blend is sorted once here; once the
    prior has faded it is the model's own (cached) quantiles, which are the same numbers."""
    st = eng.settings
    pr = eng.prior.marker(name) if eng.prior is not None else None
    n = m.n
    if pr is None:
        return m.quantile
    v, w = m.values[:n], m.weights[:n]
    own = n if days is None else days * pr.per_day
    if prior_weight(pr, own, st.prior_days, st.own_routine_days) <= 0:
        return m.quantile if n and w.sum() > 0 else lambda q: None
    table = blended_table(v, w, own, pr, st.prior_days, st.own_routine_days)
    return lambda q: quantile_of(table, q)


def has_prior(eng: RoutineEngine, name: str) -> bool:
    return eng.prior is not None and eng.prior.marker(name) is not None and eng.settings.prior_days > 0


# The conservative start (issue 14, item 1): while the 'no meal' check's own days are few, the person's
# usual-latest first kitchen use is lifted toward a late start (NO_MEAL_START less the margin), and the
# lift fades linearly to nothing as the check's own days reach ``own_routine_days``. A limit that starts
# late and tightens with ordinary days learns the person's late days as ordinary; one that starts early
# flags them, and decision 4 of issue 11 then lets it creep later only 30 minutes a week.
# Leave-one-home-out over the three recordings (benchmarks.prior harvest): no bound from two homes holds
# the third's latest first kitchen use (17:58 without C, against C's 21:24 and 22:59; 22:59 without A or
# B, past the deadline), so the start is set by decision 1 instead: a day with no kitchen use is told by
# 21:00, and half an hour before it leaves room for the check's cadence.
NO_MEAL_START = "20:30"
# Getting up starts conservative too: 'not up' is first told at the latest getting up in the prior (the
# other homes' days) plus WAKE_START_WIDEN_MIN, never past the plausible latest (routines.learning
# MARKER_BOUNDS), and that start fades like the no-meal one as the person's own wakes are learned. The
# widening is the one MARKER_BOUNDS chose leave-one-home-out on the labelled main sleep (any two homes
# widened by 2 h hold every day of the third), and it holds on the core's own wakes too (benchmarks.prior
# harvest: latest wake A 09:30, B 10:30, C 09:36; B held out, A and C give 11:36; A held out 12:30; C 12:30).
# Without it the first weeks of house B (up as late as 11:00) had a 'not up' most mornings (issue 14).
# Only the alert waits: the hour the core reads as 'still night' (a door before it, for one) stays as it was.
WAKE_START_WIDEN_MIN = 120.0


def start_lift(eng: RoutineEngine, name: str, usual: float, own_days: int, start: float) -> float:
    """``usual`` (minutes since day start) lifted toward the conservative ``start`` by the share of the
    prior's weight still left for marker ``name`` (all of it on day 1, none at ``own_routine_days``)."""
    st = eng.settings
    pr = eng.prior.marker(name) if eng.prior is not None else None
    if pr is None or st.prior_days <= 0:
        return usual
    left = max(0.0, 1.0 - own_days / st.own_routine_days)
    return usual + left * max(0.0, start - usual)


def wake_start(eng: RoutineEngine) -> float | None:
    """The conservative start of 'not up' (minutes since day start): the prior's latest getting up plus
    :data:`WAKE_START_WIDEN_MIN`, at most the plausible latest; None without a prior."""
    from routines.learning import MARKER_BOUNDS

    pr = eng.prior.marker("wake") if eng.prior is not None else None
    if pr is None or eng.settings.prior_days <= 0:
        return None
    latest = _parse_hhmm(MARKER_BOUNDS["wake"][1], eng.settings.day_start_hour)
    return min(float(pr.values.max()) + WAKE_START_WIDEN_MIN, latest)


def refresh_thresholds(eng: RoutineEngine, p: PersonState) -> None:
    st = eng.settings
    h0 = st.day_start_hour
    q = st.usual_quantile
    prev_wait = p.thr.wait_s
    thr = Thresholds()
    dq = st.deadline_quantile
    # a limit comes from the person's own days once warmed up, or from the population prior blended
    # with them while learning, or (no prior) from the technician's starting settings
    wake_ok = p.wake_model.ready
    wake_use = wake_ok or has_prior(eng, "wake")
    wake = _blend(eng, p.wake_model, "wake")
    wake_q = wake(dq) if wake_use else _parse_hhmm(st.default_wake_time, h0)
    wake_lo = wake(1 - q) if wake_use else wake_q - 240
    thr.wake_learned, thr.wake_q, thr.wake_prior = wake_ok, wake_q, wake_use and not wake_ok
    # weekdays and weekends apart, each once it has its own days (else the pooled days)
    by_type = [_blend(eng, m, "wake", p.wake_model.n) for m in p.wake_by_type]
    thr.wake_q_by_type = tuple(b(dq) if m.ready else wake_q for b, m in zip(by_type, p.wake_by_type, strict=True))
    # the wake from which 'still in bed' may alert sooner (its stillness limit is the person's own:
    # situations 'morning_still'): the usual one unless set (the median catches early days in bed sooner)
    sq = q if st.still_wake_quantile is None else st.still_wake_quantile
    usual_wake = wake(sq) if wake_use else wake_q
    thr.wake_usual_by_type = tuple(b(sq) if m.ready else usual_wake
                                      for b, m in zip(by_type, p.wake_by_type, strict=True))
    thr.not_up_dsm = wake_q + st.wake_margin_min
    thr.wake_start = wake_start(eng)  # the conservative start 'not up' waits for while learning (_epochs)
    thr.earliest_wake_dsm = max(0.0, wake_lo - 60)
    bed_ok = p.bed_model.ready
    bed_use = bed_ok or has_prior(eng, "bed")
    bed = _blend(eng, p.bed_model, "bed")
    bed_med = bed(0.5) if bed_use else _parse_hhmm(st.default_bed_time, h0)
    bed_lo = bed(1 - q) if bed_use else bed_med - 60
    thr.bed_learned, thr.bed_med, thr.bed_prior = bed_ok, bed_med, bed_use and not bed_ok
    thr.bed_late = bed(dq) if bed_use else bed_med  # the latest usual bed time ('not up' after a late night)
    # the evening starts no sooner than 10 h after the latest usual wake: a learned bed time can never
    # drag the night into the afternoon (a quiet afternoon taken for bed, learned, then earlier still)
    thr.bed_window_dsm = max(thr.earliest_wake_dsm + 180, wake_q + 600, bed_lo - 120)
    thr.bed_lo_dsm = max(bed_lo, thr.bed_window_dsm)
    thr.sleep = (bed_med, wake_lo)  # usual sleep hours, minutes since day start (wraps past day end)
    k_ok = p.kitchen_model.ready
    k_use = k_ok or has_prior(eng, "first_kitchen")
    thr.kitchen_learned, thr.kitchen_prior = k_ok, k_use and not k_ok
    # the conservative start's first kitchen use: 'no meal' then starts at NO_MEAL_START
    k_start = _parse_hhmm(NO_MEAL_START, h0) - st.kitchen_margin_min
    thr.kitchen_q = (start_lift(eng, "first_kitchen", _blend(eng, p.kitchen_model, "first_kitchen")(
                                   budget_quantile(eng, p, p.kitchen_model)),
                                   p.kitchen_model.n, k_start) if k_use
                        else _parse_hhmm(st.default_first_kitchen_time, h0))
    # at the latest half an hour before the day ends: a day without a meal is still told that day
    thr.no_meal_dsm = min(thr.kitchen_q + (st.kitchen_margin_min if k_use else 0.0), 1410.0)
    e_ok = p.exit_len.ready
    e_use = e_ok or has_prior(eng, "exit_len")
    exit_q = _blend(eng, p.exit_len, "exit_len", p.night_exits_model.n)(q) if e_use else None
    thr.exit_learned, thr.exit_q, thr.exit_prior = e_ok, exit_q, e_use and not e_ok
    thr.exit_thr_s = (max(st.night_exit_floor_min * 60, exit_q * st.night_exit_margin) if exit_q is not None
                         else st.default_night_exit_min * 60)
    extra = silence_prior(eng, p)
    # once a month of the person's own days is learned, the hours' and the sensors' limits come from the
    # daytime-quiet share of the false-alarm budget instead (quietbudget): the quantiles are then not made
    budget = p.activity_total.n >= st.situation_min_days and extra is None
    sil, silq = [], [] if budget else p.silence.quantiles(st.silence_quantile, extra)
    thr.silence_prior = extra is not None
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
    thr.silence_cap_s, thr.silence_blind = st.silence_cap_min * 60, None
    over = p.silence.overall_quantile(st.blind_silence_quantile, extra)
    blind = (st.silence_cap_min * 60 if over is None else
             min(st.blind_silence_cap_min * 60, max(st.silence_cap_min * 60, over * st.silence_margin)))
    # also the limit where lying down cannot be seen (last seen going to the bedroom, no bed sensor)
    thr.silence_lying_s, thr.silence_lying_base = blind, over
    if over is not None and not checkable:
        thr.silence_cap_s, thr.silence_blind = blind, over
        sil = [max(v, blind) for v in sil]
    thr.silence_thr, thr.silence_q = sil, silq
    # no limit at all where it cannot be used (no extra ticks), nor after the kitchen: food is made there,
    # not eaten, so the quiet after it is a meal elsewhere, not a stay by that sensor (the hourly limit holds)
    # (from the budget, only which sensors have one: the budget sets those, the others have none)
    ctx = []
    for s in eng.person_sensors.get(p.id, ()):
        if not checkable or s.kitchen or not context_learned(st, s):
            s.ctx_limit, s.ctx_base = None, None
        elif budget:
            ctx.append(s)
        else:
            s.ctx_limit, s.ctx_base = context_limit(eng, s)
    thr.silence_budget = budget
    if budget:
        silq = quietbudget.refresh(eng, p, ctx, situations.rate_per_day(eng, p))
        sil = [min(st.silence_cap_min * 60, max(st.silence_floor_min * 60, b * quietbudget.margin(st))) for b in silq]
        if thr.silence_blind is not None:
            sil = [max(v, blind) for v in sil]
        thr.silence_thr, thr.silence_q = sil, silq
    thr.appliance = appliances.refresh(eng, p)  # each appliance's limit from the budget, once its spells are learned
    p.thr = thr
    situations.refresh(eng, p, prev_wait)  # the waiting limits per situation (thr.wait_s)
    # how long until back in bed: from the budget once the person's own nights are learned, never shorter
    # than twice their usual trip (a few weeks of nights cannot show every longer one); until then the
    # situation's starting limit (night_back_start_min: its cap), as a trip's length is the person's own
    # and twice the first few trips learned is no evidence of the longer ones (issue 14: house B's first
    # month had 24 trip alerts at 45-92 min over 5 seeds); the quiet limits watch from the first night
    thr.exit_by_budget = thr.wait_s["night_back"] > thr.exit_thr_s
    if thr.exit_by_budget:
        thr.exit_thr_s = thr.wait_s["night_back"]
    guard_limits(eng, p)  # wherever limits are made (day end, outcome, restore): never an implausible usual time


def budget_quantile(eng: RoutineEngine, p: PersonState, m: MarkerModel) -> float:
    """The share of the person's days the 'no meal' deadline waits for: once ``situation_min_days`` of their
    own are learned, all but its share of the false-alarm budget (a day later than the deadline is one
    alert, so the learned days past it stay within the share), else ``deadline_quantile``.

    'Not up' stays at ``deadline_quantile``: from the budget (benchmarks.seeds, 5 seeds) it found 7 of 82
    fewer in house C and 2 of 101 fewer in house B for 0.1 fewer false alarms a month in C, none in B."""
    st = eng.settings
    if m.n < st.situation_min_days:
        return st.deadline_quantile
    return 1.0 - situations.rate_per_day(eng, p)


def silence_prior(eng: RoutineEngine, p: PersonState) -> np.ndarray | None:
    """The prior's quiet spells (24 x bins, per day) weighted as ``prior_days`` days, fading as the
    person's own days are learned; None once faded (or without a prior)."""
    st = eng.settings
    if eng.prior is None or eng.prior.silence is None:
        return None
    w = st.prior_days * max(0.0, 1.0 - p.activity_total.n / st.own_routine_days)
    return eng.prior.silence * w if w > 0 else None


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
    if not context_learned(st, s):
        return None, None
    tail = np.cumsum(s.after_hist[::-1])  # weight of the gaps in this bin or longer, longest bin first
    k = int(np.searchsorted(tail, st.stillness_context_alpha * s.after_w, side="right"))
    base = float(GAP_EDGES[GAP_BINS - k]) if k < GAP_BINS else GAP_MIN_S  # upper edge of that bin
    return max(st.stillness_context_floor_min * 60, st.stillness_context_margin * base), base


def context_learned(st: RoutineSettings, s: SensorState) -> bool:
    """Enough gaps after ``s`` learned, over enough days, for a limit of its own (:func:`context_limit`)."""
    return s.after_w >= st.stillness_context_min_gaps and s.after_days >= st.stillness_context_min_days


def stillness_checkable(eng: RoutineEngine, p: PersonState) -> str | None:
    """None when stillness can be judged from where the person was last seen (within the hour), else why
    not, for technicians: without a front door that works, going out cannot be told from lying still."""
    for s in eng.person_sensors[p.id]:  # asked at every look once learned: the common answer first
        if s.door and s.n:
            return None  # a door that has fired
    if not eng.has(p.id, "door"):
        return "no front door sensor, so going out cannot be told from stillness"
    if p.wake_model.n + p.activity_total.n >= 2 * eng.settings.learning_days:
        doors = [s for s in eng.person_sensors[p.id] if s.door]
        return f"the {doors[0].label} has never fired, so going out cannot be told from stillness"
    return None


def learn_context_gaps(s: SensorState, n: int, longs: list[float]) -> None:
    """Learn one day's gaps after sensor ``s``: ``n`` gaps in all, the lengths of those of 5+ minutes."""
    s.after_w += n
    s.after_days += n > 0
    for x in longs:
        s.after_hist[gap_bin(x)] += 1.0


def _epochs(eng: RoutineEngine, p: PersonState) -> Deadlines:
    """Today's deadlines as epoch seconds (wall-clock, DST-safe), cached per person day."""
    thr = p.thr
    ep = thr.epochs
    if ep is None or ep.day != eng._day_start:
        if eng._day_date is not None:  # today's kind of day decides the usual wake time
            thr.wake_q = thr.wake_q_by_type[eng._day_date.weekday() >= 5]
            thr.not_up_dsm = thr.wake_q + eng.settings.wake_margin_min
            thr.wake_usual = thr.wake_usual_by_type[eng._day_date.weekday() >= 5]
        # the conservative start while the person's own wakes are few (WAKE_START_WIDEN_MIN): only the alert
        start = thr.wake_start
        lift = 0.0 if start is None else start_lift(eng, "wake", thr.wake_q, p.wake_model.n, start) - thr.wake_q
        not_up = eng.at_dsm(thr.not_up_dsm)
        ep = Deadlines(day=eng._day_start, not_up=not_up, not_up_alert=eng.at_dsm(thr.not_up_dsm + lift),
                       not_up_still=eng.at_dsm(min(thr.wake_q if thr.wake_usual is None else thr.wake_usual,
                                                   thr.wake_q) + lift + eng.settings.wake_margin_min),
                       wake_q=eng.at_dsm(thr.wake_q), wake_lo=eng.at_dsm(thr.sleep[1]),
                       earliest=eng.at_dsm(thr.earliest_wake_dsm), bed_window=eng.at_dsm(thr.bed_window_dsm),
                       no_meal=eng.at_dsm(thr.no_meal_dsm) if thr.no_meal_dsm < 1440 else math.inf)
        thr.not_up_weak = False
        if eng._day_date is not None and not eng.has(p.id, "bed"):
            # without a bed sensor, a day first seen coming in through the front door after the deadline
            # (left unseen) looks like 'not up' until then: where that is not rare for this kind of day,
            # wait for the person's own latest usual return (only the not-up alarm; night-time stays put)
            wk = eng._day_date.weekday() >= 5
            days, unseen = p.unseen_out[wk]
            ret = p.returns_by_type[wk]
            dq = eng.settings.deadline_quantile
            if ret.ready and days > 0 and unseen >= (1 - dq) * days:
                thr.not_up_weak = True
                back = ret.quantile(dq) + eng.settings.wake_margin_min
                ep.not_up_alert = max(ep.not_up_alert, eng.at_dsm(back))
        thr.epochs = ep
    return ep



def appliance_limit(eng: RoutineEngine, s: SensorState) -> tuple[float, float | None]:
    """(seconds on before a warning, the usual longest on-time or None while learning): the usual time
    times ``appliance_margin`` (at least the floor), or at least the budget's limit once there is one
    (:mod:`routines.detectors.appliances`: read from the limits in force, ``p.thr``)."""
    st = eng.settings
    q = s.on_model.quantile(st.usual_quantile) if s.on_model.ready else None
    if q is None:
        return st.default_appliance_on_min * 60, q
    b = s.p.thr.appliance.get(s.id) if s.p is not None else None
    return max(st.appliance_floor_min * 60, q * st.appliance_margin, b.limit_s if b is not None else 0.0), q


def stuck_on(s: SensorState) -> bool:
    """Does this appliance sensor often stay 'on' for hours (stuck, or not switched by the person)?

    Then 'left on' cannot be told from the sensor's own habit: a check for technicians, not carers.
    Two such spells, not three: house B's tilt switches gave carers a 'left on' for the third.
    """
    return s.on_stuck >= 2 and s.on_stuck >= 0.1 * s.on_spells

