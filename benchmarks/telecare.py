"""Fixed-threshold telecare rules: the baseline Hearth must beat by a wide margin.

The same five rules a telecare provider sets up with a lifeline box, with the usual fixed settings:

============================ ========================================================= ========
rule (alert kind)            fires when                                                severity
============================ ========================================================= ========
``inactivity``               no sensor activity for 3 h between 07:00 and 22:00,       urgent
                             not in bed (the clock restarts at 07:00)
``not_up``                   still in bed at 09:30 (no bed sensor: no activity         urgent
                             since 05:00)
``out_of_bed_at_night``      out of bed for 30 min between 23:00 and 07:00             urgent
``door_at_night``            front door opens between 23:00 and 06:00                  urgent
``no_meal``                  no kitchen activity from 04:00 to 20:00                   warning
============================ ========================================================= ========

"In bed" for a pressure mat that pulses on movement (as in the recorded homes): the latest sign of
the person was a bed-mat event, not activity elsewhere. Time-based rules are checked once a minute.

>>> rules = TelecareRules(bed={"bed"}, kitchen={"fridge"}, front_door="door", bedroom=set())
>>> [a.kind for a in rules.run([(9 * 3600, "bed", True)], start=0, end=10 * 3600)]
['not_up']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.homes import Event

DAY = 86_400
H = 3_600


@dataclass(frozen=True, slots=True)
class Detection:
    """One alert of any system, in local seconds, with what the scorer needs."""

    t: int
    kind: str
    severity: str  # urgent / warning / info
    audience: str = "care"  # care / technical
    key: str = ""


def _tod(t: int) -> int:
    return t % DAY


def _in_night(tod: int, start_h: float, end_h: float) -> bool:
    return tod >= start_h * H or tod < end_h * H


@dataclass(slots=True)
class TelecareRules:
    bed: set[str]
    kitchen: set[str]
    front_door: str | None
    bedroom: set[str]  # non-bed sensors in the bedroom (activity there is not "up")
    inactivity_s: int = 3 * H
    not_up_by_h: float = 9.5
    night_exit_s: int = 30 * 60
    meal_by_h: float = 20.0
    alerts: list[Detection] = field(default_factory=list)

    def run(self, events: list[Event], start: int, end: int) -> list[Detection]:
        """All alerts for a stream of events between ``start`` and ``end`` (local seconds)."""
        self.alerts = []
        last_any = start
        in_bed = False
        last_up = start
        exit_at: int | None = None
        inactivity_alerted = False
        last_kitchen = start - DAY
        i, n = 0, len(events)
        for tick in range(start, end, 60):
            while i < n and events[i][0] <= tick:
                t, sid, on = events[i]
                i += 1
                if not on:
                    continue
                last_any = t
                inactivity_alerted = False
                if sid in self.bed:
                    in_bed, exit_at = True, None
                elif sid not in self.bedroom:
                    if in_bed and _in_night(_tod(t), 23, 7):
                        exit_at = t
                    in_bed = False
                    last_up = t
                if sid in self.kitchen:
                    last_kitchen = t
                if sid == self.front_door and _in_night(_tod(t), 23, 6):
                    self._alert(t, "door_at_night", "urgent")
            tod = _tod(tick)
            if 7 * H <= tod < 22 * H and not in_bed and not inactivity_alerted:
                if tick - max(last_any, tick - tod + 7 * H) >= self.inactivity_s:
                    self._alert(tick, "inactivity", "urgent")
                    inactivity_alerted = True
            if tod == int(self.not_up_by_h * H) // 60 * 60:
                if (self.bed and in_bed) or (not self.bed and last_up < tick - tod + 5 * H):
                    self._alert(tick, "not_up", "urgent")
            if exit_at is not None and tick - exit_at >= self.night_exit_s:
                if _in_night(tod, 23, 7):
                    self._alert(tick, "out_of_bed_at_night", "urgent")
                exit_at = None
            if tod == int(self.meal_by_h * H) and last_kitchen < tick - tod + 4 * H:
                self._alert(tick, "no_meal", "warning")
        return self.alerts

    def _alert(self, t: int, kind: str, severity: str) -> None:
        self.alerts.append(Detection(t, kind, severity, "care", f"{kind}:{t // DAY}"))
