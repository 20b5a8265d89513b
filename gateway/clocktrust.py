"""Judge routines only on wall times Hearth can trust; never turn a clock jump into a burst of alerts.

A Raspberry Pi has no real-time clock (see :mod:`gateway.clock`). The gateway asks
:meth:`ClockTrust.admit` before every batch of events and every tick it would give the routine
engine, with the clock's ``(monotonic, wall)`` reading:

* **Not synchronised yet** (since start), or **settling after a jump**, or the wall clock is
  **behind a time the engine has already judged** (a backward step): not admitted. The gateway
  still stores the events (as they are: their ``source`` stays the adapter's name, which other
  parts key on) and counts them (:attr:`ClockTrust.unjudged`, shown by :meth:`ClockTrust.note` in
  the gateway's stats and ``/api/status``), but neither learns from them nor ticks the engine then.
* **Judging resumes** (the first admitted reading after any of the above, or after start with a
  restored engine): the span the engine did not watch (a jump's skipped interval, a power cut, an
  unsynchronised spell) is wrapped in the routine context :data:`CONTEXT` from its start to
  ``grace_s`` after now. That context pauses every alert kind and marks those days as not to be
  learned, so deadlines inside the span are *unknown, not missed*. A real problem is only delayed:
  a situation still true when the grace ends (still not up, still no kitchen) alerts then, because
  a paused alert is not marked as sent.

The verdict comes from :class:`gateway.clock.ClockWatch` (injectable: tests pass a watch whose
``synchronised`` they control; a simulated clock trusts itself, see :meth:`ClockTrust.for_clock`).

>>> from datetime import datetime, timezone
>>> from routines.engine import RoutineEngine
>>> from routines.home import Home, Person, SensorInfo
>>> from sensors.events import SensorKind
>>> home = Home("UTC", (Person("p1", "Ann", "she"),), (SensorInfo("bed", SensorKind.BED, "bedroom", "bed", "p1"),))
>>> synced = False
>>> trust = ClockTrust(ClockWatch(synchronised=lambda: synced))
>>> eng, t0 = RoutineEngine(home), datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
>>> trust.admit(eng, 10.0, t0), trust.note()
(False, 'clock not synchronised: 0 events kept but not judged')
>>> synced = True
>>> trust.admit(eng, 11.0, t0.replace(second=1))
True
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gateway.clock import ClockWatch
from gateway.timebase import Clock
from sensors.events import SensorEvent

if TYPE_CHECKING:
    from routines.engine import RoutineEngine

log = logging.getLogger("hearth.clock")

CONTEXT = "clock_unreliable"  # a routine context kind (routines.engine.CONTEXT_KINDS) that pauses every alert


def _span(seconds: float) -> str:
    """``+72 h 00 min`` / ``-2 h 05 min`` / ``+45 s``.

    >>> _span(3 * 86400), _span(-7500), _span(45)
    ('+72 h 00 min', '-2 h 05 min', '+45 s')
    """
    sign = "-" if seconds < 0 else "+"
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f} s"
    return f"{sign}{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def engine_time(engine: RoutineEngine) -> float | None:
    """Epoch seconds up to which a (restored) engine has surely watched, or ``None`` for a fresh engine.

    Used only when no :meth:`ClockTrust.state` was saved (a gateway upgraded from before it). The
    engine has no public "last time seen": the start of its current hour and its sensors' last
    events are both at or before it.
    """
    if not engine.first_t:
        return None
    seen = [s.last_seen for ss in engine.person_sensors.values() for s in ss]
    return max([float(getattr(engine, "_hour_start", engine.first_t)), *seen])


@dataclasses.dataclass
class ClockTrust:
    """May this wall-clock reading be judged? Counts and tags what may not. One per gateway.

    ``grace_s``: after judging resumes, how long alerts stay paused while fresh events re-establish
    where the person is (in bed, out, in the kitchen). ``min_gap_s``: an unwatched span shorter
    than this (a quick restart) is judged normally, late rather than never.
    """

    watch: ClockWatch = dataclasses.field(default_factory=ClockWatch)
    grace_s: float = 1800.0
    min_gap_s: float = 600.0

    def __post_init__(self) -> None:
        self.unjudged = 0  # events kept but not judged, since start
        self.spans: list[tuple[float, float]] = []  # unwatched wall spans wrapped in the context
        self._judging = False
        self._high_water = float("-inf")  # the latest wall time the engine has been given
        self._stopped_mono: float | None = None  # monotonic time judging stopped (or first reading)
        self._reason = "starting"

    @classmethod
    def for_clock(cls, clock: Clock, require_sync: bool = True) -> ClockTrust:
        """The system's synchronisation for real time; a simulated clock (the demo) is its own truth.
        ``require_sync=False`` (a Pi with a real-time clock and no network) trusts the clock as it is,
        still watching for jumps."""
        if type(clock) is Clock and require_sync:
            return cls()
        # A sped-up clock (the demo's ScaledClock) reads real time once for now() and once for
        # monotonic(): a few real milliseconds between the two, under load, are minutes at 2880x. Its
        # tolerance is the real one, scaled (it cannot really step: it is computed).
        speed = max(1.0, float(getattr(clock, "speed", 1.0)))
        return cls(ClockWatch(synchronised=lambda: True, tolerance_s=2.0 * speed))

    # ---- state kept with the learned routines ----------------------------------------------------------
    def state(self) -> bytes:
        """What to save beside the engine's checkpoint: the latest wall time the engine was given."""
        hw = self._high_water if self._high_water > float("-inf") else None
        return json.dumps({"judged_until": hw}).encode()

    def restore_state(self, blob: bytes | None) -> None:
        """Continue from :meth:`state` (``None`` or unreadable: fall back to the engine's own times)."""
        try:
            hw = json.loads(blob)["judged_until"] if blob else None
        except (ValueError, KeyError, TypeError):
            hw = None
        if isinstance(hw, (int, float)):
            self._high_water = max(self._high_water, float(hw))

    # ---- the verdict -------------------------------------------------------------------------------
    def admit(self, engine: RoutineEngine, monotonic: float, wall: datetime) -> bool:
        """Observe the clock; True if the engine may be given this wall time (events or a tick)."""
        t = wall.timestamp()
        jump = self.watch.observe(monotonic, t)
        if jump is not None:
            log.warning("wall clock stepped %s against the monotonic clock", _span(jump.seconds),
                        extra={"ctx": {"from": datetime.fromtimestamp(jump.wall_expected, UTC).isoformat(),
                                       "to": wall.isoformat()}})
        if not self.watch.synchronised():
            return self._stop(monotonic, "not synchronised")
        if not self.watch.wall_trusted(monotonic):
            return self._stop(monotonic, "settling after a jump")
        if t < self._high_water - self.watch.tolerance_s:  # stepped back: that time was judged already
            return self._stop(monotonic, "behind")
        if not self._judging:
            self._resume(engine, monotonic, t)
        self._high_water = max(self._high_water, t)
        return True

    def _stop(self, monotonic: float, reason: str) -> bool:
        if self._judging or self._stopped_mono is None:
            self._stopped_mono = monotonic
        self._judging = False
        self._reason = reason
        return False

    def _resume(self, engine: RoutineEngine, monotonic: float, t: float) -> None:
        self._judging = True
        self._reason = ""
        watched = self._high_water if self._high_water > float("-inf") else engine_time(engine)
        if watched is None:
            return  # a fresh engine: nothing learned, nothing stale
        blind_s = monotonic - self._stopped_mono if self._stopped_mono is not None else 0.0
        start = min(watched, t - blind_s)
        if t - start < self.min_gap_s:
            return
        end = t + self.grace_s
        for person in engine.names:
            engine.set_context(person, CONTEXT, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        self.spans.append((start, end))
        log.warning("judging resumes after an unwatched span; its deadlines count as unknown, not missed",
                    extra={"ctx": {"from": datetime.fromtimestamp(start, UTC).isoformat(),
                                   "to": datetime.fromtimestamp(t, UTC).isoformat(), "grace_s": self.grace_s}})

    # ---- what is kept but not judged ------------------------------------------------------------------
    def keep_unjudged(self, events: Sequence[SensorEvent]) -> Sequence[SensorEvent]:
        """Count these events as kept (stored) but not judged; return them unchanged for storage."""
        self.unjudged += len(events)
        return events

    def note(self) -> str:
        """One line for technicians (gateway stats, /api/status, systemd status)."""
        n = f"{self.unjudged} events kept but not judged"
        if self._reason == "not synchronised":
            return f"clock not synchronised: {n}"
        if self._reason == "settling after a jump":
            return f"clock stepped {_span(self.watch.jumps[-1].seconds)}, settling: {n}"
        if self._reason == "behind":  # a step back: the engine's time never runs backwards
            until = datetime.fromtimestamp(self._high_water, UTC).isoformat(timespec="seconds")
            return f"clock is behind a time already judged; judging resumes at {until} (UTC): {n}"
        if self._reason == "starting":
            return ""
        return f"clock trusted ({len(self.watch.jumps)} jumps, {len(self.spans)} unwatched spans paused); {n}"
