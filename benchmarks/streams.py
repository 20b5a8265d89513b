"""Longer streams from a short recording, by reordering whole days, and anomalies with ground truth.

A *day* runs from 04:00 to 04:00 (``DAY_START_S``), so a night's sleep onset and any night-time exit
belong to the evening they started in. A stream is a learning period of clean days followed by test
days; each target date gets a random recorded day of the same type (weekday or weekend), never the
same recorded day twice in a row. Where two recorded days meet, a sensor keeps the state the stream
left it in (no event is made up at the seam: in a real home no sensor changes state without someone
acting); the next day's first event that would repeat that state is dropped, so every stream is
internally consistent (no sensor turns on twice). The front door must agree at the seam: a day is
drawn among those that start with the door as the stream left it (else a day starting 'closed' after
one ending 'open' would lose its real opening, and an outing would look like a silence). So must the
person: a day that starts with them out (the recording's last act before its 04:00 was the front door,
nothing since) follows only a day that ended so, and a day that starts at home only one that ended at
home. Otherwise a person last seen at home at 04:00 would be gone all morning without opening the door
(house A's Sunday away until 19:37, after an evening in: a 'not up' no home could tell from a real one).

Two streams share one day sequence: the *clean* stream (false alarms are counted on its test days)
and the *anomalous* stream, where every other test day is a copy with exactly one injected anomaly
(the day after is a clean recovery day, not scored). Kinds and how each is made:

============== ======================================================== =========================
kind           injected into a copy of the day                          onset / deadline
============== ======================================================== =========================
collapse       silence from a random daytime moment a few minutes       onset + 60 min
               after real activity (at home, up, not at the door)
not_up         nothing after the night's sleep: no getting up           max(own wake, usual late
                                                                         wake = P90) + 60 min
night_bed_exit out of bed at night, one step on the night route         exit + 60 min
               (e.g. toilet door; a PIR only if nothing else), then nothing
night_door_exit out of bed at night, front door opens, then nothing      door + 60 min
no_kitchen     every kitchen sensor removed for the whole day           first usual kitchen use
                                                                         of that day / day end
not_back       leaves by the front door in the day, at one of the home's door + 8 h
               own departure times (08:00-19:00), and never comes back
============== ======================================================== =========================

The night's sleep is the longest of: a gap of 3 h or more in *up activity* (any ``on`` from a sensor
that is not a bed mat or bedroom motion), or a run of bed-mat events (pauses under 90 min) of 3 h or
more (pressure mats here pulse on movement rather than hold "occupied"). Getting up is the first up
activity after the night's last quiet of 30 min or more (:func:`_getting_up`): it agrees with the
residents' own labels within 15 min on 17 of 18 labelled days of house C (10 before, when a sleep ended
at the last mat event, often sitting on the bed to dress after the bathroom). Kinds a home cannot observe are skipped
(no bed sensor: ``not_up``, ``night_bed_exit``; no working front door: ``night_door_exit``, ``not_back``).

A departure (for ``not_back``) is a front door event followed by no other activity for 15 min or more;
the home's own departures between 08:00 and 19:00 give the times of day an injected one is drawn from.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

from benchmarks.homes import Event, RecordedHome, local_datetime
from routines.home import KITCHEN_ROLES

DAY = 86_400
HOUR = 3_600
DAY_START_S = 4 * HOUR  # a stream day starts at 04:00 local
URGENT_DEADLINE_S = HOUR
MIN_SLEEP_GAP_S = 3 * HOUR
GETTING_UP_QUIET_S = 30 * 60  # a quiet in up activity this long, ending the night, is lying in bed
BACK_TO_BED_S = 2 * HOUR  # up and back to bed within this long is still the night
LABEL_TOLERANCE_S = 15 * 60  # a sensor-found marker this close to the residents' label stands
GETTING_UP_SLACK_S = 10 * 60  # up activity this soon after the last mat event is the same getting up
KINDS = ("collapse", "not_up", "night_bed_exit", "night_door_exit", "no_kitchen", "not_back")
# kinds any care alarm detects (a carer calls or goes round, whatever the alarm says)
URGENT_KINDS = frozenset({"collapse", "not_up", "night_bed_exit", "night_door_exit", "not_back"})
NOT_BACK_DEADLINE_S = 8 * HOUR  # issue 11: a departure with no return must be caught within 8 h of leaving
DEPARTURE_QUIET_S = 15 * 60  # a front door event, then nothing else this long: the person went out
DEPARTURE_HOURS = (8 * HOUR, 19 * HOUR)  # daytime departures only (the night door check has its own kind)


def day_of(t: int) -> int:
    """Index of the 04:00-04:00 day holding local second ``t``."""
    return (t - DAY_START_S) // DAY


@dataclass(slots=True)
class SourceDay:
    index: int
    start: int  # local seconds of this day's 04:00
    events: list[Event]
    start_state: dict[str, bool]
    weekend: bool
    wake: int | None = None  # end of the morning's sleep gap
    bedtime: int | None = None  # start of the evening's sleep gap
    first_kitchen: int | None = None
    daytime_activity: list[int] = field(default_factory=list)  # candidate moments for a collapse
    starts_out: bool = False  # the person out at this day's 04:00 (:func:`_out_at`)
    ends_out: bool = False  # ... and at the next day's


@dataclass(slots=True)
class Truth:
    kind: str
    onset: int  # local seconds
    deadline: int
    stream_day: int
    source_day: int
    # when the injected situation began, where that is before the onset: a 'not up' day is silent from
    # the person's own getting-up moment, a day without the kitchen is so from getting up, so an alarm
    # from then on is a true one, if early
    start: int | None = None


@dataclass(slots=True)
class Stream:
    events: list[Event]
    start: int  # local seconds of day 0's 04:00
    days: int
    learning_days: int
    truths: list[Truth] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)  # the recorded day each stream day is a copy of

    @property
    def test_start(self) -> int:
        return self.start + self.learning_days * DAY

    @property
    def end(self) -> int:
        return self.start + self.days * DAY


@dataclass(slots=True)
class HomeProfile:
    """What the injectors need to know about a home, computed once from its recording."""

    home: RecordedHome
    days: list[SourceDay]
    bed: list[str]
    kitchen: set[str]
    motion: set[str]
    front_door: str | None
    night_route: str | None
    late_wake: dict[bool, int]  # weekend? -> seconds after midnight (P90 of own wake times)
    departures: list[int] = field(default_factory=list)  # the home's own daytime departures, s after midnight

    def supports(self, kind: str) -> str | None:
        """``None`` if the home can show ``kind``, else the reason it cannot."""
        if kind in ("not_up", "night_bed_exit") and not self.bed:
            return "no bed sensor"
        if kind in ("night_door_exit", "not_back") and self.front_door is None:
            return "no working front-door sensor"
        if kind == "not_back" and not self.departures:
            return "no daytime departure recorded"
        if kind == "no_kitchen" and not self.kitchen:
            return "no kitchen sensor"
        return None


def _getting_up(end: int, up: list[int], bed_on: list[int], morning_end: int) -> int:
    """The moment the person got up, for a night's sleep that ends at ``end``.

    A sleep found as a run of bed-mat events ends at the run's last mat event, which is often
    *after* getting up (sitting on the bed to dress after the bathroom): the residents' own labels
    put getting up 5-19 min earlier on most of house C's days. Getting up is the first up activity
    after the last quiet of 30 min or more in up activity that ends by ``end`` + 10 min (a toilet
    trip and back to bed before it stays part of the night). A sleep found as a gap in up activity
    already ends at such a moment and is unchanged.
    """
    i = bisect_right(up, end + GETTING_UP_SLACK_S) - 1
    while i > 0 and up[i] - up[i - 1] < GETTING_UP_QUIET_S:
        i -= 1
    wake = up[i] if i >= 0 and up[i] <= end + GETTING_UP_SLACK_S else end
    # up, then back in bed for a quiet of 30 min or more (the mats say lying there) within 2 h, before the
    # morning is over: that was a trip in the night, and getting up comes after it (a sleep found as a
    # gap in up activity ends at the first trip; the labels put getting up after the last one)
    j = bisect_right(up, wake) - 1
    while bed_on and j + 1 < len(up) and up[j] - wake <= BACK_TO_BED_S and up[j + 1] <= morning_end:
        a, b = up[j], up[j + 1]
        k = bisect_right(bed_on, a)
        if b - a >= GETTING_UP_QUIET_S and k < len(bed_on) and bed_on[k] < b:
            wake = b
        j += 1
    return wake


def labelled_wake(labels: list[tuple[int, int]], day_start: int) -> int | None:
    """The labelled getting up of the day starting at ``day_start`` (local seconds): the latest end of a
    'go to bed' interval in its first 10 h (a toilet trip and back to bed ends one interval early)."""
    return max((b for _, b in labels if day_start <= b < day_start + 10 * HOUR), default=None)


def _from_labels(sd: SourceDay, labels: list[tuple[int, int]], up: list[int]) -> None:
    """Correct a day's wake and bed time by the residents' own 'go to bed' labels, where they tell.

    Sensors alone mistake a toilet trip for getting up (house A has no bed sensor) and an evening in
    bed, awake, for the night (house C on 2008-12-05 is labelled up until 04:51). A marker more than
    15 min from its label takes the label: getting up at the first up activity from 5 min before the
    labelled end (labels are written by hand), bed time at the labelled start. A day whose evening has
    no labelled sleep before 04:00 while the next morning is labelled gets no bed time at all (no night
    is injected into it).
    """
    start = sd.start
    lab = labelled_wake(labels, start)
    if lab is not None:
        if sd.wake is None or abs(sd.wake - lab) > LABEL_TOLERANCE_S:
            i = bisect_left(up, lab - 5 * 60)
            sd.wake = up[i] if i < len(up) and up[i] - lab < 30 * 60 else lab
    evening = [a for a, b in labels if start + 15 * HOUR <= a < start + DAY and b - a >= HOUR]
    if evening:
        if sd.bedtime is None or abs(sd.bedtime - min(evening)) > LABEL_TOLERANCE_S:
            sd.bedtime = min(evening)
    elif labelled_wake(labels, start + DAY) is not None:
        sd.bedtime = None  # labelled: not in bed before the day ended


def _is_kitchen(room: str, role: str) -> bool:
    return "kitchen" in room.lower() or role in KITCHEN_ROLES


def profile(home: RecordedHome) -> HomeProfile:
    """Split the recording into days, find each day's markers and the home's sensor groups."""
    specs = {s.id: s for s in home.sensors}
    bed = [s.id for s in home.sensors if s.kind == "bed"]
    kitchen = {s.id for s in home.sensors if _is_kitchen(s.room, s.role)}
    motion = {s.id for s in home.sensors if s.kind == "motion"}
    front = next((s.id for s in home.sensors if s.role == "front_door"), None)
    not_up_activity = set(bed) | {s.id for s in home.sensors if s.kind == "motion" and "bed" in s.room}
    up = [t for t, sid, on in home.events if on and sid not in not_up_activity]
    sleeps = [(a, b) for a, b in pairwise(up) if b - a >= MIN_SLEEP_GAP_S]  # a long gap in up activity
    in_bed = [t for t, sid, on in home.events if on and sid in bed]
    if bed:  # or a run of bed-mat events (pauses under 90 min) lasting 3 h or more
        runs, run_start = [], in_bed[0]
        for a, b in pairwise([*in_bed, in_bed[-1] + DAY]):
            if b - a > 90 * 60:
                runs.append((run_start, a))
                run_start = b
        sleeps += [(a, b) for a, b in runs if b - a >= MIN_SLEEP_GAP_S]

    first, last = day_of(home.events[0][0]), day_of(home.events[-1][0])
    by_day: dict[int, list[Event]] = {}
    for ev in home.events:
        by_day.setdefault(day_of(ev[0]), []).append(ev)
    counts = [len(by_day.get(d, [])) for d in range(first + 1, last)]
    floor = 0.25 * median(counts) if counts else 0
    state = {s.id: False for s in home.sensors}
    days: list[SourceDay] = []
    for d in range(first, last + 1):
        evs = by_day.get(d, [])
        start = d * DAY + DAY_START_S
        if first < d < last and len(evs) >= floor:
            sd = SourceDay(d, start, evs, dict(state), local_datetime(start).weekday() >= 5)
            mornings = [(b - a, b) for a, b in sleeps if start <= b <= start + 10 * HOUR]
            sd.wake = _getting_up(max(mornings)[1], up, in_bed, start + 10 * HOUR) if mornings else None
            evenings = [(b - a, a) for a, b in sleeps if start + 15 * HOUR <= a <= start + DAY - HOUR]
            sd.bedtime = max(evenings)[1] if evenings else None
            if home.sleep_labels:
                _from_labels(sd, home.sleep_labels, up)
            sd.first_kitchen = next((t for t, sid, on in evs if on and sid in kitchen), None)
            lo = (sd.wake or start + 5 * HOUR) + 30 * 60
            hi = (sd.bedtime or start + 18 * HOUR) - 90 * 60
            sd.daytime_activity = [t for t, sid, on in evs if on and lo <= t <= hi and sid not in not_up_activity
                                   and specs[sid].role not in ("front_door", "keys")]
            sd.starts_out, sd.ends_out = _out_at(home.events, front, start), _out_at(home.events, front, start + DAY)
            days.append(sd)
        for _, sid, on in evs:
            state[sid] = on

    late: dict[bool, int] = {}
    for weekend in (False, True):
        wakes = sorted((d.wake - d.start + DAY_START_S) for d in days if d.wake and d.weekend == weekend)
        if len(wakes) < 5:
            wakes = sorted((d.wake - d.start + DAY_START_S) for d in days if d.wake)
        late[weekend] = wakes[min(len(wakes) - 1, int(0.9 * len(wakes)))] if wakes else 9 * HOUR
    return HomeProfile(home, days, bed, kitchen, motion, front, night_route(home, kitchen), late,
                       _departures(home.events, front))


def night_route(home: RecordedHome, kitchen: set[str]) -> str | None:
    """The sensor the person most often sets off between midnight and 05:00 outside the bedroom, the
    kitchen and the front door (a toilet door, a flush): an injected night exit takes one step there.

    A motion sensor only where no other sensor fires there at night. The step must be one both kits
    see (:mod:`benchmarks.kits`: with and without the motion sensors), so that they are judged on the
    same act; and a PIR's recorded 'on' can last hours (house B's bathroom PIR: on-spells of 1 s as a
    rule, but some of 4 h to 9 days), during which no step can be added on it: 23 of house B's 52
    injected bed exits (5 seeds) had no step at all, a silence no sensor could tell from sleep.
    """
    specs = {s.id: s for s in home.sensors}
    night = Counter(sid for t, sid, on in home.events
                    if on and (t % DAY) < 5 * HOUR and "bed" not in specs[sid].room and sid not in kitchen
                    and specs[sid].role not in ("front_door", "keys"))
    ranked = sorted(night, key=lambda sid: (specs[sid].kind == "motion", -night[sid]))
    return ranked[0] if ranked else None


def _out_at(events: list[Event], door: str | None, t: int) -> bool:
    """Was the person out just before local second ``t``: the last front door event before ``t``
    followed by no other sensor turning on (the same reading of 'went out' as :func:`_departures`)?

    >>> evs = [(100, "door", True), (110, "door", False), (500, "fridge", True), (900, "door", True)]
    >>> [_out_at(evs, "door", t) for t in (50, 200, 600, 1000)], _out_at(evs, None, 1000)
    ([False, True, False, True], False)
    """
    if door is None:
        return False
    last_door = max((e for e in events if e[1] == door and e[0] < t), default=None)
    return last_door is not None and not any(
        on and sid != door and last_door[0] < s < t for s, sid, on in events)


def _departures(events: list[Event], door: str | None) -> list[int]:
    """Times of day (s after midnight) of the recording's daytime departures: a front door event, then no
    other sensor turning on for :data:`DEPARTURE_QUIET_S`."""
    if door is None:
        return []
    out = []
    on = [t for t, sid, v in events if v and sid != door]
    for t, sid, _ in events:
        i = bisect_right(on, t)
        if sid == door and (i == len(on) or on[i] - t >= DEPARTURE_QUIET_S) \
                and DEPARTURE_HOURS[0] <= t % DAY <= DEPARTURE_HOURS[1]:
            out.append(t % DAY)
    return sorted(set(out))


# ---- injectors: (profile, day with events already moved to the target date, rng) -> (events, onset, deadline)

def _silence_from(t: int, events: list[Event], motion: set[str]) -> list[Event]:
    """Everything before ``t``; after it only motion sensors resetting (a PIR goes off by itself)."""
    kept = [e for e in events if e[0] < t]
    state: dict[str, bool] = {}
    for _, sid, on in kept:
        state[sid] = on
    on_at_t = {sid for sid, on in state.items() if on and sid in motion}
    resets: list[Event] = []
    for e in events:
        if e[0] >= t and not e[2] and e[1] in on_at_t:
            resets.append(e)
            on_at_t.discard(e[1])
    return kept + resets


def _night_window(p: HomeProfile, d: SourceDay) -> tuple[int, int] | None:
    if d.bedtime is None:
        return None
    lo, hi = d.bedtime + HOUR, min(d.bedtime + 5 * HOUR, d.start + DAY - 75 * 60)
    return (lo, hi) if lo < hi else None


def _out_in_day(p: HomeProfile, d: SourceDay, t: int) -> bool:
    """Is the person out at ``t`` of day ``d`` (as :func:`_out_at` reads it, from the day's own start)?"""
    before = [e for e in d.events if e[0] < t]
    if not any(sid == p.front_door for _, sid, _ in before):
        return d.starts_out and not any(on for _, _, on in before)
    return _out_at(before, p.front_door, t)


def _inject_collapse(p: HomeProfile, d: SourceDay, rng: random.Random):
    if not d.daytime_activity:
        return None
    t = rng.choice(d.daytime_activity) + rng.randint(1, 300)
    if t + URGENT_DEADLINE_S >= d.start + DAY:
        return None
    return _silence_from(t, d.events, p.motion), t, t + URGENT_DEADLINE_S


def _inject_not_up(p: HomeProfile, d: SourceDay, rng: random.Random):
    if d.wake is None or not p.bed:
        return None
    onset = max(d.wake, d.start - DAY_START_S + p.late_wake[d.weekend])
    if onset + URGENT_DEADLINE_S >= d.start + DAY:
        return None
    return _silence_from(d.wake - 1, d.events, p.motion), onset, onset + URGENT_DEADLINE_S, d.wake - 1


def _night_exit(p: HomeProfile, d: SourceDay, rng: random.Random, door: bool):
    window = _night_window(p, d)
    if window is None or (door and p.front_door is None) or (not door and not p.bed):
        return None
    t = rng.randint(*window)
    if _out_in_day(p, d, t):  # the 'bed time' was going out (house A's Friday 22:03): no one to get up
        return None
    evs = _silence_from(t, d.events, p.motion)
    state: dict[str, bool] = dict(d.start_state)
    for _, sid, on in evs:
        state[sid] = on
    evs += [(t, b, False) for b in p.bed if state.get(b)]
    if door:
        assert p.front_door is not None
        onset = t + 60
        if state.get(p.front_door):
            evs.append((t + 30, p.front_door, False))
        evs += [(onset, p.front_door, True), (onset + 20, p.front_door, False)]
    else:
        onset = t
        if p.night_route and not state.get(p.night_route):
            evs += [(t + 40, p.night_route, True), (t + 45, p.night_route, False)]
    evs.sort(key=lambda e: (e[0], e[2]))
    return evs, onset, onset + URGENT_DEADLINE_S


def _inject_no_kitchen(p: HomeProfile, d: SourceDay, rng: random.Random):
    if d.first_kitchen is None:
        return None
    # the day has no kitchen activity from getting up on: a food alarm from then on is true even before
    # the recorded day's own first kitchen use (the onset, when the day stops looking like that day)
    start = d.wake if d.wake is not None and d.wake < d.first_kitchen else None
    return [e for e in d.events if e[1] not in p.kitchen], d.first_kitchen, d.start + DAY, start


def _inject_not_back(p: HomeProfile, d: SourceDay, rng: random.Random):
    """Out by the front door at one of the home's own daytime departure times, while up and at home
    (activity in the half hour before), and nothing at all since."""
    if p.front_door is None or not p.departures or d.wake is None:
        return None
    midnight = d.start - DAY_START_S
    acts = d.daytime_activity
    doors = [t for t, sid, _ in d.events if sid == p.front_door]
    # at home: activity in the half hour before, and not just through the front door (the recorded day's
    # own departure a moment before would make the injected door read as coming home)
    cands = [midnight + x for x in p.departures
             if bisect_right(acts, midnight + x) > bisect_left(acts, midnight + x - 30 * 60)
             and bisect_right(doors, midnight + x + 600) == bisect_left(doors, midnight + x - 30 * 60)]
    if not cands:
        return None
    t = rng.choice(cands) + rng.randint(0, 300)
    evs = _silence_from(t, d.events, p.motion)
    state: dict[str, bool] = dict(d.start_state)
    for _, sid, on in evs:
        state[sid] = on
    evs += [(t, b, False) for b in p.bed if state.get(b)]
    if state.get(p.front_door):
        evs.append((t + 10, p.front_door, False))
    onset = t + 30
    evs += [(onset, p.front_door, True), (onset + 20, p.front_door, False)]
    evs.sort(key=lambda e: (e[0], e[2]))
    return evs, onset, onset + NOT_BACK_DEADLINE_S


INJECTORS = {
    "collapse": _inject_collapse,
    "not_up": _inject_not_up,
    "night_bed_exit": lambda p, d, rng: _night_exit(p, d, rng, door=False),
    "night_door_exit": lambda p, d, rng: _night_exit(p, d, rng, door=True),
    "no_kitchen": _inject_no_kitchen,
    "not_back": _inject_not_back,
}


def _moved(d: SourceDay, target_start: int) -> SourceDay:
    off = target_start - d.start

    def sh(t: int | None) -> int | None:
        return None if t is None else t + off

    return SourceDay(d.index, target_start, [(t + off, s, v) for t, s, v in d.events], d.start_state, d.weekend,
                     sh(d.wake), sh(d.bedtime), sh(d.first_kitchen), [t + off for t in d.daytime_activity],
                     d.starts_out, d.ends_out)


def build_streams(p: HomeProfile, learning_days: int, test_days: int, seed: int,
                  kinds: tuple[str, ...] = KINDS) -> tuple[Stream, Stream, dict[str, str]]:
    """The clean and the anomalous stream of one home, plus the kinds skipped and why.

    Deterministic for a given seed. Injection days are the even test days; the kinds cycle in a
    seeded order, and a day that cannot carry its kind (say no sleep gap found) is left clean.
    """
    # the day order has its own generator: what can be injected (and how many draws that takes) must
    # never change which days the clean stream holds, or every fix to an injector reshuffles the streams
    rng, order = random.Random(seed), random.Random(f"{seed}:days")
    skipped = {k: r for k in kinds if (r := p.supports(k))}
    usable = [k for k in kinds if k not in skipped]
    by_type = {w: [d for d in p.days if d.weekend == w] or p.days for w in (False, True)}
    start0 = p.days[0].start
    clean_evs: list[Event] = []
    anom_evs: list[Event] = []
    truths: list[Truth] = []
    clean_state = {s.id: False for s in p.home.sensors}
    anom_state = dict(clean_state)
    cycle: list[str] = []
    sources: list[int] = []
    prev = None
    for k in range(learning_days + test_days):
        target = start0 + k * DAY
        pool = by_type[local_datetime(target).weekday() >= 5]
        cands = [d for d in pool if d is not prev] or pool
        if p.front_door is not None:  # a day that starts with the front door as the stream left it
            door = clean_state.get(p.front_door, False)
            cands = [d for d in cands if d.start_state.get(p.front_door, False) == door] or cands
            # and with the person where it left them: rather a day of the other type than a person who
            # vanishes (or appears) at 04:00 without the door
            out = prev.ends_out if prev is not None else False
            cands = ([d for d in cands if d.starts_out == out]
                     or [d for d in p.days if d.starts_out == out and d is not prev
                         and d.start_state.get(p.front_door, False) == door] or cands)
        src = order.choice(cands)
        prev = src
        sources.append(src.index)
        day = _moved(src, target)
        _append_day(clean_evs, clean_state, day.events)
        injected = None
        if k >= learning_days and (k - learning_days) % 2 == 0 and usable:
            if not cycle:
                cycle = rng.sample(usable, len(usable))
            kind = cycle.pop()
            injected = INJECTORS[kind](p, day, rng)
            if injected is not None:
                truths.append(Truth(kind, injected[1], injected[2], k, src.index, *injected[3:]))
        if injected is None:
            _append_day(anom_evs, anom_state, day.events)
        else:
            _append_day(anom_evs, anom_state, injected[0])
    days = learning_days + test_days
    clean_evs.sort(key=lambda e: e[0])
    anom_evs.sort(key=lambda e: e[0])
    return (Stream(clean_evs, start0, days, learning_days, sources=sources),
            Stream(anom_evs, start0, days, learning_days, truths, sources), skipped)


def _append_day(out: list[Event], state: dict[str, bool], events: list[Event]) -> None:
    """Append a day's events, dropping any that repeats the state its sensor is already in.

    Nothing is set at the seam: a sensor whose recorded state at 04:00 differs from the stream's (say a
    cupboard left open on the recorded day) simply stays as the stream left it until the day's own
    events move it, as it would in a real home. Events are a physical act; a seam is not.
    """
    for ev in events:
        if state.get(ev[1], False) != ev[2]:
            out.append(ev)
            state[ev[1]] = ev[2]
