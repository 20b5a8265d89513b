"""State changes the clock decides (from tick, before the care detectors): going to bed for the night,
getting up for the day, a back-to-bed that was a night-time trip, and having gone out.

Each step reads and updates the person's phase (DAY/NIGHT) and adds the time it must look again to
``c.due``; they run in the order :data:`routines.detectors.tick.STEPS` gives, each seeing what the one
before decided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routines.detectors.common import Tick, _parse_hhmm
from routines.detectors.episodes import _got_up
from routines.detectors.health import any_unwell
from routines.detectors.thresholds import _epochs
from routines.learning import MARKER_BOUNDS
from routines.state import DAY, NIGHT

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.limits import Deadlines
    from routines.settings import RoutineSettings
    from routines.state import PersonState


def going_to_bed(c: Tick) -> None:
    """Settled (in bed, or quiet at home without a bed sensor) long enough: the night has begun."""
    p, t, due = c.p, c.t, c.due
    if p.phase == DAY:
        settled = settling(p, c.st, c.has_bed, c.ep)
        if settled is not None:
            since, ready, late = settled
            if t >= ready:
                p.phase, p.night_bed_t = NIGHT, since
                if not late:
                    p.bed_t = since
            else:
                due.append(ready)


def settling(p: PersonState, st: RoutineSettings, has_bed: bool, ep: Deadlines) -> tuple[float, float, bool] | None:
    """By day: (settling since, when that is the night begun, still last night's sleep), or None when the
    person is not settling. Read by :func:`going_to_bed` and, when a bed mat says the person got into bed by
    day, by :func:`routines.detectors.episodes.look_after_bed` (when to look again: the same time)."""
    # still up from last night (no wake yet today): settling before the latest usual wake is that
    # night's sleep, however late, and the day's own bed time is still to come
    late = p.wake_t is None and p.bed_t is None
    # settling since when, for how long: in bed (a bed sensor), or the last activity (no bed sensor,
    # which needs a longer quiet); gone out is not gone to bed
    if has_bed and p.in_bed and p.in_bed_since is not None:
        since, settle = p.in_bed_since, st.settle_min * 60
    elif not has_bed and p.last_act > 0 and not p.away and p.door_t is None:
        since, settle = p.last_act, 3 * st.settle_min * 60
    else:
        return None
    late = late and since < ep.wake_q
    ready = since + settle
    return since, (ready if late else max(ready, ep.bed_window)), late


def look_after_bed(eng: RoutineEngine, p: PersonState, t: float, delay: float) -> float:
    """When to look again after a bed mat said the person got into bed or out of it at ``t``: ``delay`` on
    (the checks of someone in bed differ from those of someone up), or, when that look could only tell
    when the night begins, then.

    Getting into bed by day (a third of a quiet home's looks, a mat flickering as the person sits down
    and gets up) with no fault, no outing or door being judged and no situation's spell going on: of the
    steps of :data:`routines.detectors.tick.STEPS`, going to bed then only computes when the night begins
    (:func:`settling`), back-to-bed's settling is looked at when due anyway (the mat's own return,
    :func:`routines.detectors.episodes.bed_change`), 'no meal' and an appliance left on wait for the
    deadlines already held, and the others judge only someone out of bed, at night, out or at the door.
    So a look before that time would change nothing and raise nothing; looking then (or at the later
    of the two, if the night begins sooner) gives the very alerts and learning of looking at both. Only
    new limits could change what that look finds: the engine keeps the look it moved and still makes it
    if the limits change before it (an outcome, a checkpoint restored; ``RoutineEngine._moved_look``).
    """
    due = t + delay
    if (p.in_bed and p.phase == DAY and not p.waiting.now and not p.away and p.door_t is None
            and p.door_night_t is None and not any_unwell(eng, p)):
        settled = settling(p, eng.settings, True, _epochs(eng, p))
        if settled is not None and settled[1] > due:
            return settled[1]
    return due


def back_to_bed_trip(c: Tick) -> None:
    """Back in bed soon after getting up, before the latest usual wake, and stayed: a night-time trip."""
    p, t, st, has_bed, ep, due = c.p, c.t, c.st, c.has_bed, c.ep, c.due
    # up since before the plausible earliest getting-up time (a broken night: awake from 01:41 until
    # dawn), then back in bed before the latest usual wake and settled: the night's main sleep is still to
    # end, however long the person was up; getting up is when that sleep ends, never the small-hours exit
    # (the small-hours test last: it reads the wall clock, and nearly every look fails an earlier test)
    if (p.phase == DAY and has_bed and p.in_bed and p.wake_t is not None and p.bed_t is None
            and p.back_trip is not None and p.back_trip[0] < ep.wake_q
            and (p.back_trip[0] - p.wake_t < st.back_to_bed_max_up_min * 60 or p.wake_t < _plausible_from(c))):
        back = p.back_trip[0] + st.settle_min * 60
        if t >= back:  # back in bed before the latest usual wake, and stayed: that was a night-time trip
            p.phase, p.wake_t = NIGHT, None
            if p.back_trip[1] >= st.bed_exit_min_s:
                p.night_exits += 1
                if p.back_trip[1] < st.back_to_bed_max_up_min * 60:  # hours awake are not a trip's length
                    p.exit_pending.append(p.back_trip[1])
            p.back_trip = None
        else:
            due.append(back)


def _plausible_from(c: Tick) -> float:
    """Epoch seconds of today's plausible earliest getting up (:data:`routines.learning.MARKER_BOUNDS`)."""
    lo = _parse_hhmm(MARKER_BOUNDS["wake"][0], c.h0)
    return c.eng.at_dsm(lo if lo < 720 else lo - 1440)


def up_a_moment(c: Tick) -> None:
    """'Up' for one moment with nothing since: not up after all (or look again when that is known)."""
    p, t, st, has_bed, due = c.p, c.t, c.st, c.has_bed, c.due
    if (p.phase == DAY and has_bed and p.bed_t is None and p.wake_t is not None and not p.in_bed
            and p.out_since is not None and abs(p.out_since - p.wake_t) <= 1.0 and p.last_act - p.out_since < 120.0
            and t - p.last_act >= st.up_confirm_min * 60 and not p.away):
        # 'up' was one moment with nothing since: not up after all. Only the getting up itself (the exit
        # the wake was read from): a later exit the same day (up from a nap, then nothing) is the day's, judged
        # by the daytime limits; undoing the day there told 'not up by 09:00' and 'out of bed at night' at 15:45
        p.phase, p.wake_t = NIGHT, None
    elif p.phase == DAY and has_bed and p.wake_t is not None and p.bed_t is None and not p.in_bed \
            and p.last_act - p.wake_t < 120.0 and t < p.last_act + st.up_confirm_min * 60:
        due.append(p.last_act + st.up_confirm_min * 60)


def evening_lull(c: Tick) -> None:
    """No bed sensor, busy again well before the usual bed time: the 'night' was an evening lull."""
    eng, p, thr, has_bed = c.eng, c.p, c.thr, c.has_bed
    if (p.phase == NIGHT and not has_bed and p.bed_t is not None and p.burst_n >= 3 and p.burst_start > p.bed_t
            and eng.dsm(p.burst_start) < thr.bed_med - 60):
        p.phase, p.bed_t = DAY, None  # busy again well before the usual bed time: an evening lull, not the night


def getting_up(c: Tick) -> None:
    """The night ends: out of bed (confirmed in the small hours), or a burst of activity after the earliest wake."""
    p, t, st, has_bed, ep, due = c.p, c.t, c.st, c.has_bed, c.ep, c.due
    if p.phase == NIGHT and p.bed_t is None:  # a night begun this evening ends only after the day boundary
        earliest = ep.earliest
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


def night_trip_no_bed(c: Tick) -> None:
    """No bed sensor: a burst up in the small hours, then the night's quiet again, was a night-time trip."""
    p, t, st, has_bed, ep, due = c.p, c.t, c.st, c.has_bed, c.ep, c.due
    # (after the other phase changes, so a burst just read as 'up' is re-checked when its quiet is due)
    if (p.phase == DAY and not has_bed and p.wake_t is not None and p.bed_t is None and not p.away
            and p.door_t is None and p.last_act < ep.wake_lo
            and p.last_act - p.wake_t < st.back_to_bed_max_up_min * 60):
        back = p.last_act + 3 * st.settle_min * 60  # as long a quiet as going to bed needs without a bed sensor
        if t >= back:  # a burst up in the small hours, then the night's quiet again: a night-time trip
            p.phase, p.wake_t, p.burst_n = NIGHT, None, 0  # that burst is spent: up only with the next one
        else:
            due.append(back)


def gone_out(c: Tick) -> None:
    """Front door, then no other activity for a while: the person has gone out."""
    p, t, st, due = c.p, c.t, c.st, c.due
    if p.door_t is not None and not p.away:
        confirm = p.door_t + st.away_confirm_min * 60
        if t >= confirm and p.last_nondoor < p.door_t:
            p.away, p.away_since, p.away_seen, p.door_in_t = True, p.door_t, None, None
            p.outings.append([p.door_t, None])
        elif t < confirm:
            due.append(confirm)

