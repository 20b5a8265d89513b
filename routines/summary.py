"""One person's day in numbers, for the family digest and the weekly report.

>>> from datetime import date, time
>>> s = DaySummary("p1", date(2026, 1, 5), time(7, 40), time(8, 0), None, time(22, 30), {"kettle": 3}, 12,
...                [], 1, (0,) * 24, (0.0,) * 24, [], [])
>>> s.appliance_uses["kettle"]
3
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime, time


@dataclass(frozen=True, slots=True)
class DaySummary:
    """A person day (it starts at ``RoutineSettings.day_start_hour``, not at midnight).

    ``usual_wake_time`` is the time the person is usually up by and ``usual_bed_time`` their usual bed time,
    the very times the alerts cite (``routines.explain.usual_wake`` / ``usual_bed``), given only once they
    are the person's own (None while still learning); ``blind`` lists,
    in plain English, what could not be seen that day; ``alerts`` the kinds raised that day;
    ``meals`` the kitchen episodes long enough to be a meal (None: the person has no kitchen sensor).
    """

    person: str
    date: date
    wake_time: time | None
    usual_wake_time: time | None
    bed_time: time | None
    usual_bed_time: time | None
    appliance_uses: dict[str, int]
    kitchen_events: int
    outings: list[tuple[datetime, datetime | None]]
    night_bed_exits: int
    hourly_activity: tuple[int, ...]
    usual_hourly_activity: tuple[float, ...]
    blind: list[str]
    alerts: list[str]
    first_kitchen_time: time | None = None
    minutes_out: float = 0.0
    sitting_minutes: float = 0.0
    longest_quiet_min: float = 0.0
    room_activity: dict[str, int] = field(default_factory=dict)
    profile_score: float = 0.0
    contexts: list[str] = field(default_factory=list)
    meals: int | None = None  # kitchen episodes long enough to be a meal (routines.detectors.episodes); None: no kitchen sensor
    # what made the day unusual against the person's own learned days, in words (routines.unusual); empty
    # when nothing lay beyond them (or still learning)
    unusual: tuple[str, ...] = ()

    def __setstate__(self, state: list) -> None:
        """Read a summary pickled before fields were added (a routine checkpoint from an older version):
        the fields it has, in order, and the defaults of those added since."""
        for f in fields(self):
            value = f.default_factory() if f.default_factory is not MISSING else f.default
            object.__setattr__(self, f.name, value)
        for f, value in zip(fields(self), state, strict=False):
            object.__setattr__(self, f.name, value)
