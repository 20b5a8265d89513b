"""A demo clock that stands still until the test moves it (wall and monotonic time together).

What is due is then decided by the test, not by how fast a busy machine runs: sped up thousands of
times, one slow real second would be hours of demo time (a digest past its quiet hours, a whole
escalation wait). ``speed`` only shortens the gateway's own idle waits in real time, so it looks again
soon after each move.

>>> from datetime import UTC, datetime
>>> c = HeldClock(datetime(2026, 1, 5, 6, 0, tzinfo=UTC), speed=600.0)
>>> c.move(90); c.now().strftime("%H:%M:%S"), c.monotonic()
('06:01:30', 1090.0)
>>> c.to(datetime(2026, 1, 5, 7, 0, tzinfo=UTC)); c.monotonic()
4600.0
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.timebase import Clock


class HeldClock(Clock):
    def __init__(self, at: datetime, speed: float) -> None:
        self.t, self.mono, self.speed = at, 1000.0, speed

    def now(self) -> datetime:
        return self.t

    def monotonic(self) -> float:
        return self.mono

    def move(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)
        self.mono += seconds

    def to(self, at: datetime) -> None:
        self.move((at - self.t).total_seconds())
