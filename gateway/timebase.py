"""The service's notion of "now": the wall clock, or a sped-up clock for the demo home.

Timers and cooldowns use :meth:`Clock.monotonic` (a Pi has no RTC, the wall clock may jump);
event times and time-of-day logic use :meth:`Clock.now`.

>>> from datetime import datetime, timezone
>>> c = ScaledClock(datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc), speed=60.0)
>>> c.now().hour
6
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Real time."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep_s(self, simulated_seconds: float) -> float:
        """Real seconds to sleep for this many seconds of this clock."""
        return simulated_seconds / self.speed


class ScaledClock(Clock):
    """Starts at ``start`` and runs ``speed`` times faster than real time (demo only)."""

    def __init__(self, start: datetime, speed: float):
        self.start = start
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def monotonic(self) -> float:
        return self._t0 + (time.monotonic() - self._t0) * self.speed
