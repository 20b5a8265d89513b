"""The night path light: when a person who agreed to it gets out of bed during their dark hours, light
the way; switch off once they are back in bed, or after a while. Pure: no MQTT, no store, no clock of
its own (the caller passes the monotonic time; a Pi has no RTC, so timers never use the wall clock).
:mod:`gateway.night_light_mqtt` wires it to zigbee2mqtt and the store.

The rules, for a person's night (``NightLightPlan``):

* **On** once per exit: the person's beds go from "someone on one of them" to "all empty", at a wall
  time inside their ``dark_hours`` (home timezone), with their consent, and the wall clock trusted
  (an unsynchronised clock cannot tell night from day, and the person chose "never in daylight").
  A light already on that Hearth did not switch on is left alone (someone switched it on; it is
  not Hearth's to switch off).
* **Off** when the person is back in bed and stays there for ``grace_s`` (sitting back down for a
  moment does not flicker it: a re-exit within the grace is the same trip), or ``off_after_s`` after
  the exit (they stayed up, or the bed missed them). A light two people's plans share goes off when
  the last of them is done with it.
* What Hearth switched on and has not switched off (:meth:`NightLight.owned`) is remembered by the
  caller, so a restarted gateway switches it off (:meth:`NightLight.at_start`).
* A light that does not confirm a command (zigbee2mqtt publishes the new state) within ``confirm_s``,
  one zigbee2mqtt says is offline, or a publish that failed is counted per light for technicians
  (:meth:`NightLight.report`); it is never a care alert.

>>> from datetime import datetime, time, timezone
>>> from sensors.events import SensorEvent, SensorKind
>>> plan = NightLightPlan("p1", frozenset({"bed"}), ("hall",), 40, (time(22), time(7)), 1800.0, True)
>>> nl = NightLight([plan], timezone.utc)
>>> nl.seed({"bed": True})
>>> nl.on_event(SensorEvent(datetime(2026, 1, 5, 3, 0, tzinfo=timezone.utc), "bed", SensorKind.BED, False, "z"), 10.0)
[LightCommand(light='hall', on=True, brightness=40, why='p1 out of bed at 03:00')]
>>> nl.tick(10.0 + 1800.0)
[LightCommand(light='hall', on=False, brightness=None, why='p1 out of bed 30 min')]
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, tzinfo

from sensors.events import SensorEvent

GRACE_S = 60.0  # back in bed this long before the light goes off (benchmarks/night_light.py: re-exits)
CONFIRM_S = 10.0  # zigbee2mqtt reports a light's new state within a second or two when it answers


@dataclass(frozen=True, slots=True)
class NightLightPlan:
    """One person's night light, from their ``actions.night_light`` config."""

    person: str
    beds: frozenset[str]  # bed sensor ids: in bed while any is occupied
    lights: tuple[str, ...]  # light keys (IEEE address, or friendly name when that is all that was given)
    brightness: int
    dark: tuple[time, time]  # local wall-clock window the light may be used in (may wrap midnight)
    off_after_s: float
    consented: bool


@dataclass(frozen=True, slots=True)
class LightCommand:
    """Switch one light; ``why`` is for the log."""

    light: str
    on: bool
    brightness: int | None
    why: str

    def payload(self) -> bytes:
        """zigbee2mqtt's set payload: ``{"state": "ON", "brightness": 40}`` or ``{"state": "OFF"}``."""
        body: dict[str, object] = {"state": "ON" if self.on else "OFF"}
        if self.brightness is not None:
            body["brightness"] = self.brightness
        return json.dumps(body).encode()


def is_dark(t: time, window: tuple[time, time]) -> bool:
    """Inside ``[start, end)``, wrapping midnight when start > end.

    >>> [is_dark(time(h), (time(22), time(7))) for h in (21, 22, 3, 7)]
    [False, True, True, False]
    """
    start, end = window
    return start <= t < end if start < end else (t >= start or t < end)


@dataclass(slots=True)
class _Trip:
    """A person out of bed with the light on for them."""

    off_at: float  # monotonic: the latest the light stays on
    back_at: float | None = None  # monotonic: back in bed (off after the grace unless they leave again)


@dataclass(slots=True)
class _Light:
    holders: set[str] = field(default_factory=set)  # people whose trip holds it on (Hearth switched it on)
    reported_on: bool | None = None  # zigbee2mqtt's last word on its state
    available: bool | None = None  # zigbee2mqtt's availability
    awaiting: tuple[bool, float] | None = None  # (state commanded, monotonic deadline to confirm it)
    counts: Counter[str] = field(default_factory=Counter)  # switched_on, switched_off, and each failure
    last_problem: str | None = None


class NightLight:
    def __init__(self, plans: Sequence[NightLightPlan], tz: tzinfo, grace_s: float = GRACE_S,
                 confirm_s: float = CONFIRM_S) -> None:
        self.plans = {p.person: p for p in plans}
        self.tz, self.grace_s, self.confirm_s = tz, grace_s, confirm_s
        self._person_of_bed = {b: p.person for p in plans for b in p.beds}
        self.beds = frozenset(self._person_of_bed)  # the only sensors :meth:`on_event` cares about
        self._occupied: dict[str, bool] = {}
        self._trips: dict[str, _Trip] = {}
        self.lights: dict[str, _Light] = {k: _Light() for p in plans for k in p.lights}
        self.exits: dict[str, Counter[str]] = {p.person: Counter() for p in plans}  # outcome of each exit

    # --- inputs ------------------------------------------------------------------------------
    def seed(self, occupied: Mapping[str, bool]) -> None:
        """Each bed's last known state (e.g. from the store at start): a first report that repeats it is
        not an exit."""
        self._occupied.update({k: bool(v) for k, v in occupied.items() if k in self.beds})

    def on_event(self, event: SensorEvent, mono: float, trusted: bool = True) -> list[LightCommand]:
        """A sensor event (any: only the plans' beds matter); ``trusted``: the wall clock is synchronised."""
        person = self._person_of_bed.get(event.sensor_id)
        if person is None:
            return []
        plan = self.plans[person]
        was_in = self._in_bed(plan)  # False too when nothing is known yet: a first report is not an exit
        self._occupied[event.sensor_id] = event.active
        now_in = self._in_bed(plan)
        trip = self._trips.get(person)
        if now_in and not was_in and trip is not None:
            trip.back_at = mono
        if not was_in or now_in:
            return []  # back in bed, still in bed (another mat), or still up
        if trip is not None:  # up again within the grace: the same trip, the light stays on
            trip.back_at, trip.off_at = None, mono + plan.off_after_s
            self.exits[person]["same_trip"] += 1
            return []
        local = event.time.astimezone(self.tz)
        outcome = ("no_consent" if not plan.consented else "clock_not_trusted" if not trusted
                   else "daylight" if not is_dark(local.time(), plan.dark) else "lit")
        self.exits[person][outcome] += 1
        if outcome != "lit":
            return []
        out = []
        for key in plan.lights:
            light = self.lights[key]
            if light.reported_on and not light.holders:
                self.exits[person]["already_on"] += 1
                continue  # someone switched it on: theirs, not Hearth's
            if not light.holders:
                out.append(LightCommand(key, True, plan.brightness, f"{person} out of bed at {local:%H:%M}"))
                self._sent(light, True, mono)
            light.holders.add(person)
        self._trips[person] = _Trip(mono + plan.off_after_s)
        return out

    def reported(self, key: str, mono: float, *, on: bool | None = None, available: bool | None = None) -> None:
        """What zigbee2mqtt said about a light: its state (which confirms a command), or its availability."""
        light = self.lights.get(key)
        if light is None:
            return
        if available is not None:
            light.available = available
            if not available:
                self._problem(light, "offline", "zigbee2mqtt says it is offline")
        if on is not None:
            light.reported_on = on
            if light.awaiting is not None and light.awaiting[0] == on:
                light.awaiting = None

    def failed(self, key: str, reason: str, words: str) -> None:
        """A command that could not be sent (``reason`` e.g. ``publish_failed``), counted for technicians."""
        light = self.lights.get(key)
        if light is not None:
            light.awaiting = None
            self._problem(light, reason, words)

    # --- time --------------------------------------------------------------------------------
    def tick(self, mono: float) -> list[LightCommand]:
        """Lights due off, and commands left unconfirmed too long."""
        out: list[LightCommand] = []
        for person, trip in list(self._trips.items()):
            plan = self.plans[person]
            if trip.back_at is not None and mono >= trip.back_at + self.grace_s:
                out += self._release(person, "back in bed", mono)
            elif mono >= trip.off_at:
                out += self._release(person, f"out of bed {plan.off_after_s / 60:.0f} min", mono)
        for light in self.lights.values():
            if light.awaiting is not None and mono >= light.awaiting[1]:
                state = "ON" if light.awaiting[0] else "OFF"
                light.awaiting = None
                self._problem(light, "no_answer", f"no answer to {state} within {self.confirm_s:.0f} s "
                                                  "(out of range, unpowered, or not paired?)")
        return out

    def next_due(self) -> float | None:
        """The monotonic time :meth:`tick` next has something to do, or None."""
        due = [t.back_at + self.grace_s if t.back_at is not None else t.off_at for t in self._trips.values()]
        due += [light.awaiting[1] for light in self.lights.values() if light.awaiting is not None]
        return min(due, default=None)

    # --- restart -----------------------------------------------------------------------------
    def owned(self) -> list[str]:
        """Lights Hearth switched on and has not switched off: what to remember across a restart."""
        return sorted(k for k, light in self.lights.items() if light.holders)

    def at_start(self, left_on: Iterable[str], mono: float) -> list[LightCommand]:
        """A previous run left these lights on (:meth:`owned` as remembered): switch them off, since the
        trip that needed them cannot be followed across the restart. A light no longer configured is
        switched off too (the config changed; it was still Hearth's doing)."""
        out = []
        for key in sorted(set(left_on)):
            out.append(LightCommand(key, False, None, "left on by Hearth before a restart"))
            if key in self.lights:
                self._sent(self.lights[key], False, mono)
        return out

    # --- for technicians ---------------------------------------------------------------------
    def report(self) -> dict[str, object]:
        """Per light: on (held by Hearth), zigbee2mqtt's view, counts; per person: what each exit did."""
        return {"lights": {k: {"held_on_for": sorted(light.holders), "reported_on": light.reported_on,
                               "available": light.available, "counts": dict(sorted(light.counts.items())),
                               "last_problem": light.last_problem}
                           for k, light in sorted(self.lights.items())},
                "exits": {p: dict(sorted(c.items())) for p, c in sorted(self.exits.items())}}

    def problems(self) -> list[str]:
        """One line per light with a failure counted, e.g. ``hall: 2 failed (no_answer 2): no answer ...``."""
        out = []
        for key, light in sorted(self.lights.items()):
            failures = {r: n for r, n in sorted(light.counts.items()) if not r.startswith("switched_")}
            if failures:
                what = ", ".join(f"{r} {n}" for r, n in failures.items())
                out.append(f"{key}: {sum(failures.values())} failed ({what}); last: {light.last_problem}")
        return out

    # --- inside ------------------------------------------------------------------------------
    def _in_bed(self, plan: NightLightPlan) -> bool:
        return any(self._occupied.get(b, False) for b in plan.beds)

    def _release(self, person: str, why: str, mono: float) -> list[LightCommand]:
        del self._trips[person]
        out = []
        for key in self.plans[person].lights:
            light = self.lights[key]
            if person in light.holders:
                light.holders.discard(person)
                if not light.holders:
                    out.append(LightCommand(key, False, None, f"{person} {why}"))
                    self._sent(light, False, mono)
        return out

    def _sent(self, light: _Light, on: bool, mono: float) -> None:
        light.counts["switched_on" if on else "switched_off"] += 1
        light.awaiting = (on, mono + self.confirm_s)
        if light.available is False:
            self._problem(light, "offline", "switched while zigbee2mqtt says it is offline")

    @staticmethod
    def _problem(light: _Light, reason: str, words: str) -> None:
        light.counts[reason] += 1
        light.last_problem = words
