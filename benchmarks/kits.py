"""The two kits of issue 11 (decision 3): a home evaluated with its motion sensors and as if it had none.

The recommended kit adds one motion sensor; a home with only door, bed and plug sensors must still meet
the targets (bar the daytime collapse, which prints its own figure). A recorded home that has motion
sensors is therefore evaluated twice:

- ``full``: every sensor the recording has;
- ``no-motion``: the motion sensors left out of the config AND their events out of the stream before
  anything (learning, injection, scoring) sees them, as if they had never been installed.

A home without motion sensors (house A) has one kit only, named :data:`BASIC`, and is evaluated once.

Two probe kits are run only when asked for (``--kits no-bed no-door``), each where the home has what it
takes away: :data:`NO_BED`, a home with bed mats evaluated as if it had none (many real homes have no bed
sensor; motion-heavy homes like the CASAS ones never do), and :data:`NO_DOOR`, a home whose front door
(and keys) had no sensor, blind to going out as house B is. What they take leaves the config and the
streams as the motion sensors leave ``no-motion``; the kinds that need it are then skipped. Session 7
found with them that house C without its mats told 'silence' at bed time on 4.2 days a month (the
bathroom, then asleep; now 0.5), and without its door 'no movement for 6 h since standing up from the
couch' on 9 days a month he had gone out (false alarms 10.5 -> 1.5).

What stays the same in both kits is what happened on the day. The day markers the injections and the
scoring are judged from (getting up, bed time, first kitchen use, the moments of daytime activity a
collapse or a departure is drawn after, the home's own departure times) are found ONCE, on the full
recording, and kept for the no-motion kit: they are facts of the day (house B's getting up is partly
seen by its bathroom and kitchen PIRs; without them a toilet trip could pass for getting up), not of what
the kit can see. So both kits share the same day order, the same injected anomalies at the same
moments, and the same deadlines: only what the system under test is given differs. The one thing an
injection adds to a day, a step on the night route after an out-of-bed exit, is taken on a sensor both
kits have (:func:`benchmarks.streams.night_route` prefers one that is not a PIR: house B's toilet flush
rather than its bathroom PIR); only a home whose sole night sensor is a PIR has no step in this kit.

>>> from benchmarks.synthetic import synthetic_home
>>> home = synthetic_home(days=3, seed=1)
>>> kits_for(home), kits_for(without_motion(home))
(['full', 'no-motion'], ['door/bed/plug'])
"""

from __future__ import annotations

import dataclasses

from benchmarks.homes import RecordedHome
from benchmarks.streams import HomeProfile, SourceDay, night_route

FULL = "full"
NO_MOTION = "no-motion"
BASIC = "door/bed/plug"  # the only kit of a home that has no motion sensor
KITS = (FULL, NO_MOTION)
NO_BED = "no-bed"  # a probe, only when asked for: the home as if it had no bed mats
NO_DOOR = "no-door"  # a probe, only when asked for: the home as if its front door (and keys) had no sensor
PROBES = (NO_BED, NO_DOOR)
ALL_KITS = (*KITS, *PROBES)
DOOR_ROLES = ("front_door", "keys")
MOTION = "motion"
BED = "bed"


def has_motion(home: RecordedHome) -> bool:
    return any(s.kind == MOTION for s in home.sensors)


def kits_for(home: RecordedHome, wanted: tuple[str, ...] | list[str] = KITS) -> list[str]:
    """The kits ``home`` is evaluated in: those of ``wanted`` if it has motion sensors, else its one kit
    (unless only probes are wanted); a probe where asked for and the home has what it takes away."""
    out = [] if not set(wanted) & set(KITS) else [BASIC] if not has_motion(home) else [k for k in KITS if k in wanted]
    takes = {NO_BED: lambda x: x.kind == BED, NO_DOOR: lambda x: x.role in DOOR_ROLES}
    return out + [k for k in PROBES if k in wanted and any(takes[k](s) for s in home.sensors)]


def without(home: RecordedHome, gone: set[str], kit: str) -> RecordedHome:
    """``home`` as if the sensors ``gone`` had never been installed: not in the config, no event of theirs."""
    if not gone:
        return home
    return dataclasses.replace(
        home, sensors=[s for s in home.sensors if s.id not in gone],
        events=[e for e in home.events if e[1] not in gone],
        notes=[*home.notes, f"kit {kit}: left out " + ", ".join(sorted(gone))])


def without_motion(home: RecordedHome) -> RecordedHome:
    """``home`` as if no motion sensor had been installed: not in the config, no event of theirs."""
    return without(home, {s.id for s in home.sensors if s.kind == MOTION}, "without motion sensors")


def _day_without(d: SourceDay, gone: set[str]) -> SourceDay:
    """A recorded day without the sensors ``gone``; its markers (wake, bed time, first kitchen use,
    daytime activity) are kept as the full recording found them: they are facts of the day."""
    return dataclasses.replace(d, events=[e for e in d.events if e[1] not in gone],
                               start_state={k: v for k, v in d.start_state.items() if k not in gone},
                               daytime_activity=list(d.daytime_activity))


def kit_profile(p: HomeProfile, kit: str) -> HomeProfile:
    """The profile (config, events, sensor groups) the evaluation uses for ``kit``; the day markers and
    departures stay those of the full recording (see the module text)."""
    if kit in PROBES:
        gone = set(p.bed) if kit == NO_BED else {s.id for s in p.home.sensors if s.role in DOOR_ROLES}
        home = without(p.home, gone, kit)
        door = kit == NO_DOOR
        return dataclasses.replace(p, home=home, days=[_day_without(d, gone) for d in p.days],
                                   bed=[] if kit == NO_BED else list(p.bed),
                                   front_door=None if door else p.front_door,
                                   departures=[] if door else list(p.departures), late_wake=dict(p.late_wake))
    if kit in (FULL, BASIC) or not p.motion:
        return p
    if kit != NO_MOTION:
        raise ValueError(f"unknown kit {kit!r} (known: {', '.join(ALL_KITS)})")
    gone = set(p.motion)
    home = without_motion(p.home)
    kitchen = p.kitchen - gone
    route = p.night_route if p.night_route not in gone else night_route(home, kitchen)
    return dataclasses.replace(p, home=home, days=[_day_without(d, gone) for d in p.days], kitchen=kitchen,
                               motion=set(), night_route=route, departures=list(p.departures),
                               late_wake=dict(p.late_wake))
