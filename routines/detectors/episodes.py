"""Episodes from the per-event path (rare state changes): in and out of bed, the chair, the front door,
coming home, and getting up (also decided on the clock, see :mod:`routines.detectors.phases`).

In bed means bed activity with no 'up' activity since; a back-to-bed soon after getting up is only a
night-time trip once the person stays (decided in :mod:`routines.detectors.phases`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from routines.detectors.common import NEVER
from routines.detectors.thresholds import _epochs
from routines.state import DAY, NIGHT, PersonState, SensorState

if TYPE_CHECKING:
    from routines.engine import RoutineEngine


def pulsing(p: PersonState) -> bool:
    """Do this person's bed mats pulse on movement (brief on-spells) rather than hold 'occupied'?

    Learned from the mats' own on-spells; until then a mat is taken to hold its state.
    """
    return p.bed_spells >= 20 and p.bed_short >= 0.7 * p.bed_spells


def bed_change(eng: RoutineEngine, p: PersonState, s: SensorState, t: float, occupied: bool) -> float | None:
    """A bed mat event: when the engine must look again (:data:`NEVER`: no need), or None when it only
    repeats the mat's state.

    In bed means bed activity with no 'up' activity since (:func:`left_bed`): a mat that holds
    'occupied' is left when it goes off, a mat that pulses on movement only when the person is seen
    elsewhere, and a mat stuck 'on' cannot keep a person in bed who is busy in the kitchen.
    """
    if occupied == s.on:
        if not (occupied and not p.in_bed):
            return None
        due = _to_bed(eng, p, t)  # the mat says occupied again after the person was seen up: back in bed
        p.last_bed = t
        return due
    s.on = occupied
    due = NEVER
    if occupied:
        p.bed_count += 1
        s.on_since = t
        if not p.in_bed:
            due = _to_bed(eng, p, t)
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
    return due


def left_bed(eng: RoutineEngine, p: PersonState, t: float) -> float:
    """'Up' activity (not a mat, not the bedroom) while in bed: the person got up at the last bed event
    (a mat's last pulse), or now if the mats have said nothing for a while (one stuck 'occupied').
    Returns when to look again (soon: the checks of someone up differ from those of someone in bed)."""
    p.in_bed = False
    p.out_since = p.last_bed if t - p.last_bed < 1800.0 else t
    return t + 20.0


def _to_bed(eng: RoutineEngine, p: PersonState, t: float) -> float:
    """Into bed at ``t``; returns when to look again (:data:`NEVER`: no need)."""
    out = p.out_since
    due = NEVER
    if p.phase == DAY and p.wake_t is not None and p.bed_t is None and out is not None:
        # back in bed after getting up: a night-time trip only if the person STAYS in bed (evaluate
        # decides after settle_min); sitting on the bed to dress after the bathroom is not going back
        p.back_trip = (t, t - out)
        due = t + eng.settings.settle_min * 60
    if out is None or t - out >= eng.settings.bed_exit_min_s or p.in_bed_since is None:
        if out is not None and p.phase == NIGHT and t - out >= eng.settings.bed_exit_min_s:
            p.night_exits += 1
            if t - out < eng.settings.back_to_bed_max_up_min * 60:  # hours awake are not a trip's length
                p.exit_pending.append(t - out)
        p.in_bed_since = t
    p.out_since = None
    p.in_bed = True
    return due


# A meal is a kitchen episode (kitchen events at most MEAL_GAP_S apart) of at least MEAL_MIN_EVENTS kitchen
# events as the core counts them (a motion sensor's 'on', a contact's every change, a plug switched on):
# chosen leave-one-home-out against the residents' own 'prepare breakfast / dinner' labels
# (python -m benchmarks.meals: each home's neighbours pick (90-180 min, 8-12 events); all three pick this)
MEAL_GAP_S = 180 * 60.0
MEAL_MIN_EVENTS = 12


def kitchen_use(p: PersonState, t: float) -> None:
    """One kitchen event: the day's meals count one more when an episode reaches a meal's length."""
    p.meal_run = p.meal_run + 1 if t - p.meal_last <= MEAL_GAP_S else 1
    p.meal_last = t
    if p.meal_run == MEAL_MIN_EVENTS:
        p.meals += 1


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


def front_door(eng: RoutineEngine, p: PersonState, t: float) -> float:
    """A front-door event; returns when to look again (a minute on: gone out, or a night exit)."""
    p.door_t = t
    due = t + 60.0
    if p.away:
        # a door while out is coming home: the first one is when (the door is opened, then shut, maybe
        # opened again for the shopping; the outing ends at the first, see back_home), unless nothing at all
        # followed that one for as long as going out is confirmed by (away_confirm_min): then the person went
        # out again through it, and this door is the coming home (house C's first month: a door at 17:11, 4 h
        # 44 min of nothing, a door at 21:55 read as home since 17:11, and 'no meal' told at 21:57)
        if p.door_in_t is None or t - p.door_in_t >= eng.settings.away_confirm_min * 60:
            p.door_in_t = t
        if p.door_night_t is None and in_night_hours(eng, p, t, own=False) and not up_for_the_day(eng, p, t):
            # read as out, but it is the night hours the technician set: the door may be the person
            # leaving after all (read as out after a quiet evening with no bed sensor, house A) as much as
            # coming home, and either way no sign of them after it is told as a night door
            p.door_night_t, p.door_night_set = t, True
        return due
    if p.door_night_t is not None:
        return due  # one night door at a time
    if in_night_hours(eng, p, t) and not up_for_the_day(eng, p, t):
        # the night hours the technician set (or the default): watched from the first night, whatever the
        # learning state or the phase the core has read (a person up at 02:00 who goes out is still told)
        p.door_night_t, p.door_night_set = t, True
        return due
    # A night exit is the door after the person went to bed and before getting up: never a clock window
    # alone (evening outings; with no bed sensor 'gone to bed' comes from the evening's own settling
    # quiet, see evaluate). Not a door in a 'night' never ended by a wake long past the latest usual wake
    # (that is 'not up', already told; the door may be a return).
    if p.phase == NIGHT and (p.bed_t is not None or t < _epochs(eng, p).not_up):
        # without a bed sensor 'gone to bed' is only a quiet evening: it takes the person's own usual
        # sleep hours as well (an evening outing after a quiet spell before the usual bed time is not a
        # night exit, and the alert's "during the usual sleep hours" must be true)
        if (not eng.has(p.id, "bed") and (p.thr.bed_learned or p.thr.bed_prior)
                and not in_sleep_hours(eng, p, t)):
            return due
        p.door_night_t, p.door_night_set = t, False
    return due


def in_night_hours(eng: RoutineEngine, p: PersonState, t: float, own: bool = True) -> bool:
    """Is ``t`` within the person's night hours (:attr:`routines.home.Person.night_hours`)?

    Those the technician set, from the first night; widened by the person's own usual sleep hours once
    the getting-up and bed-time checks both watch with the person's own routine (never narrowed: a
    learned window that is wrong would miss a night exit, and house B's learned one was, see the README);
    ``own=False``: only those the technician set (a door while read as out: widened to the person's own
    sleep hours it told house A's real late returns, 0.8 -> 2.0 false alarms a month, 5 seeds).
    """
    start, end = eng.night[p.id]
    d = eng.alert_time(t)
    m = d.hour * 60 + d.minute
    if (start <= m < end) if start < end else (m >= start or m < end):
        return True
    if not own:  # (only the hours the technician set)
        return False
    own = eng.settings.own_routine_days
    return p.wake_model.n >= own and p.bed_model.n >= own and in_sleep_hours(eng, p, t)


def night_began(eng: RoutineEngine, p: PersonState, t: float) -> float:
    """Epoch seconds of the start of the latest night-hours window begun at or before ``t`` (wall clock)."""
    start, _ = eng.night[p.id]
    d = eng.alert_time(t)
    s = d.replace(hour=start // 60, minute=start % 60, second=0, microsecond=0)
    if s > d:
        s -= timedelta(days=1)
    return s.timestamp()


def up_for_the_day(eng: RoutineEngine, p: PersonState, t: float) -> bool:
    """Read as up for the day (the core's getting up, within the night hours): the person's morning has
    begun (a door then is going out for the day, not a night exit; house C leaves about 20 min after
    getting up).

    Only a getting up within the night hours counts: a day read as never having ended (no bed time
    seen, the getting up long before them) leaves the night watched. A get-up read as such in the small
    hours (clearly up and about for ``up_confirm_min``, see :func:`routines.detectors.phases.getting_up`)
    counts too: a door then is not watched as a night exit (the price of quiet mornings for early risers).
    """
    w = p.wake_t
    if p.phase == NIGHT or w is None or w > t:
        return False
    start, end = eng.night[p.id]
    d = eng.alert_time(w)
    m = d.hour * 60 + d.minute
    within = (start <= m < end) if start < end else (m >= start or m < end)
    return within


def in_sleep_hours(eng: RoutineEngine, p: PersonState, t: float) -> bool:
    """Is ``t`` within the person's usual sleep hours, from the usual (median) bed time to the usual
    earliest wake (the window the night-door alert names)?"""
    bed, wake = p.thr.sleep  # minutes since the day start; bed is normally after wake
    m = eng.dsm(t)
    return (m >= bed or m < wake) if bed > wake else bed <= m < wake


def back_home(eng: RoutineEngine, p: PersonState, t: float, sensor: str = "") -> float:
    """Non-door activity: the person is in (returned, or never left).

    Once out, coming home passes the front door, and the outing ends at that door (the first one since
    going out), not at the first activity indoors (the kettle 20 minutes later). Without a door since,
    one sensor alone twitching (a seat mat pulsing with nobody on it, a pet) is not a return: a second,
    different sensor is needed, and the return dates from the first. Returns when to look again
    (:data:`NEVER`: no need).
    """
    due = NEVER
    if p.away:
        door_in = p.door_in_t
        if sensor and (p.door_t is None or p.away_since is None or p.door_t <= p.away_since):  # no door since
            seen = p.away_seen
            if seen is None or seen[0] == sensor:
                p.away_seen = (sensor, seen[1] if seen is not None else t)
                return due
            t = seen[1]
        elif door_in is not None:
            t = door_in
        p.away, p.away_seen, p.door_in_t = False, None, None
        if p.outings and p.outings[-1][1] is None:
            p.outings[-1][1] = max(t, p.outings[-1][0])  # an outing carried over the day boundary starts there
        due = t + 1.0
    p.door_t = None
    p.door_night_t = None
    return due



def _got_up(p: PersonState, t: float) -> None:
    p.phase = DAY
    if p.wake_t is None:
        p.wake_t = t
    if p.first_kitchen is not None and p.first_kitchen < t:
        p.first_kitchen = None  # a night-time drink is not breakfast
    if not p.door_night_set:  # a door in the set night hours stays watched: reading 'up' does not explain it
        p.door_night_t = None



def forget_whereabouts(eng: RoutineEngine, p: PersonState) -> None:
    """After a span the engine did not watch (:meth:`routines.engine.RoutineEngine._resume`): nothing from
    before it says where the person is now. Last seen, in bed, out, a door, a burst, the appliances on:
    all back to their first-start values, so they are judged afresh from the next event."""
    p.last_act = p.last_nonbed = p.last_nondoor = p.last_bed = p.last_up = 0.0
    p.last_s = None
    p.phase, p.wake_t, p.bed_t, p.night_bed_t, p.back_trip = DAY, None, None, None, None
    p.in_bed, p.bed_count, p.in_bed_since, p.out_since = False, 0, None, None
    p.chair_count, p.chair_since = 0, None
    p.away, p.away_since, p.away_seen, p.door_in_t = False, None, None, None
    p.door_t, p.door_night_t, p.door_night_set = None, None, False
    p.burst_start, p.burst_n, p.burst_door, p.came_in = 0.0, 0, False, False
    p.meal_last, p.meal_run = 0.0, 0
    p.outings = []  # an outing open when watching stopped: its end is unknown, and so is today's
    for s in eng.person_sensors[p.id]:
        s.on, s.on_since = None, None
