"""Recorded events through the live pipeline on a simulated clock, as fast as the CPU allows.

Ticks happen on a minute grid between events, exactly as the live gateway's timer would, but a tick
is skipped when the engine says nothing can be due (``RoutineEngine.next_due``), so a quiet night costs
nothing. With ``max_gap_s`` the clock ticks at most that far past an event: across a longer gap in the
recording (or up to a far ``until``) it jumps, so a replay always ends and its alerts stay bounded.

>>> from datetime import datetime, timezone
>>> from routines.home import Home, Person, SensorInfo
>>> from sensors.events import SensorEvent, SensorKind
>>> home = Home("UTC", (Person("p1", "Ann", "she"),), (SensorInfo("bed", SensorKind.BED, "bedroom", "bed", "p1"),))
>>> evs = [SensorEvent(datetime(2026, 1, 5, 22, tzinfo=timezone.utc), "bed", SensorKind.BED, True, "replay"),
...        SensorEvent(datetime(2026, 1, 6, 15, tzinfo=timezone.utc), "bed", SensorKind.BED, False, "replay")]
>>> [(a.kind, a.time.strftime("%H:%M")) for a in replay(home, evs)]
[('not_up', '14:30')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from routines.alert import Alert
from routines.engine import RoutineEngine
from routines.home import Home
from routines.prior import Prior
from routines.settings import RoutineSettings
from sensors.events import SensorEvent


def replay(home: Home, events: Iterable[SensorEvent], settings: RoutineSettings | None = None,
           tick_every_s: int = 60, until: datetime | None = None, prior: Prior | None = None) -> Iterator[Alert]:
    """Yield the alerts a live gateway would have raised for these (time-ordered) events.

    ``until``: keep ticking after the last event up to this time (a silence at the end is a signal).
    ``prior``: the population prior to start from (default: the shipped one, see :mod:`routines.prior`).
    """
    engine = RoutineEngine(home, settings, prior)
    yield from replay_into(engine, ((e.time.timestamp(), e.sensor_id, e.value) for e in events),
                           tick_every_s, until.timestamp() if until is not None else None)


def replay_into(engine: RoutineEngine, rows: Iterable[tuple[float, str, bool | float]],
                tick_every_s: int = 60, until: float | None = None, max_gap_s: float = math.inf,
                on_gap: Callable[[float, float], None] | None = None) -> Iterator[Alert]:
    """The replay loop on ``(epoch_seconds, sensor_id, value)`` rows, into an existing engine.

    ``max_gap_s``: tick at most this long after an event; ``on_gap(from_s, to_s)`` is told of each jump.
    """
    sensors = engine._sensors
    ingest = engine.ingest
    tick = float(tick_every_s)
    next_tick = math.inf
    last = math.inf  # the time of the previous event
    for t, sid, value in rows:
        if next_tick <= t:
            # the ticks up to this event, as _ticks does, inlined: half the events cross a minute, and a
            # generator made and drained for each is a tenth of a quiet home's replay
            end = _bounded(t, last, max_gap_s, on_gap)
            at = next_tick
            while at <= end:
                due = engine.next_due
                if due > at:
                    at += math.ceil((due - at) / tick) * tick
                    continue
                alerts = engine.tick_ts(at)
                if alerts:
                    yield from alerts
                at += tick
            next_tick = (t // tick + 1) * tick
        elif next_tick == math.inf:
            next_tick = (t // tick + 1) * tick
        last = t
        s = sensors.get(sid)
        if s is None or s.p is None:
            engine.unknown_events += 1
            continue
        alerts = ingest(t, s, value)
        if alerts:
            yield from alerts
    if until is not None and next_tick <= until:
        yield from _ticks(engine, next_tick, _bounded(until, last, max_gap_s, on_gap), tick)


def _bounded(t: float, last: float, max_gap_s: float, on_gap: Callable[[float, float], None] | None) -> float:
    """Where ticking towards ``t`` stops: ``t``, or ``max_gap_s`` after the previous event."""
    if t - last <= max_gap_s:
        return t
    if on_gap is not None:
        on_gap(last, t)
    return last + max_gap_s


def _ticks(engine: RoutineEngine, first: float, last: float, tick: float) -> Iterator[Alert]:
    """Ticks on the grid from ``first`` up to and including ``last``, skipping those with nothing due."""
    t = first
    while t <= last:
        due = engine.next_due
        if due > t:
            t += math.ceil((due - t) / tick) * tick
            continue
        alerts = engine.tick_ts(t)
        if alerts:
            yield from alerts
        t += tick
