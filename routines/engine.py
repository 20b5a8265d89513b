"""The routine engine: events in, learned routines and explained alerts out.

Per event (``process``) the work is a dict lookup and a few attribute updates on epoch floats; learning
happens once per person day at rollover, and detectors run from ``tick`` only when something can be due
(a silence is the signal, so ticks fire alerts even when no event arrives).

>>> from datetime import datetime, timedelta, timezone
>>> from routines.home import Home, Person, SensorInfo
>>> from sensors.events import SensorEvent, SensorKind
>>> home = Home("UTC", (Person("p1", "Ann", "she"),),
...             (SensorInfo("bed", SensorKind.BED, "bedroom", "bed", "p1"),))
>>> eng = RoutineEngine(home)
>>> t0 = datetime(2026, 1, 5, 22, 30, tzinfo=timezone.utc)
>>> eng.process(SensorEvent(t0, "bed", SensorKind.BED, True, "demo"))
[]
>>> eng.tick(t0 + timedelta(hours=11))  # 09:30: on day one 'not up' waits for the conservative start
[]
>>> [(a.kind, a.time.strftime("%H:%M")) for a in eng.tick(t0 + timedelta(hours=16))]
[('not_up', '14:30')]
"""

from __future__ import annotations

import pickle
import zlib
from datetime import date, datetime, time, timedelta
from typing import Any

from routines import detectors, pickling
from routines.alert import Alert
from routines.detectors import outing
from routines.explain import Pronouns
from routines.home import APPLIANCE_ROLES, Home, night_window
from routines.prior import Prior, shipped
from routines.sensor_kinds import BED, CONTACT, MOTION, PLUG, sensor_kind
from routines.settings import RoutineSettings
from routines.state import DAY, NIGHT, PersonState, SensorState, fill_missing
from routines.summary import DaySummary
from sensors.events import DeviceHealth, SensorEvent
from sensors.plug import PlugSwitch

TOILET_WORDS = ("toilet", "bathroom", "wc")
STUCK_ON_S = 3 * 3600.0  # an appliance 'on' this long is a sensor stuck on (or forgotten), counted per sensor
EDGE_DELAY_S = 20.0  # re-run detectors this soon after a state change (bed, door, plug, return home)
# clock_unreliable: set by the gateway over a span it did not watch (clock jump, power cut; gateway/clocktrust.py)
CONTEXT_KINDS = ("carer_visit", "visitor", "holiday", "hospital", "clock_unreliable")
_MAGIC = b"HEARTH-ROUTINES\x01"
# No event and no tick for this long: the engine was not running (a running caller ticks it at least hourly,
# the replay at every hour boundary, the gateway every minute), so that time is unknown, not stillness.
# A day: longer than the core's longest default stillness limit (the blind-home cap, 16 h), and never
# shorter than a limit a technician configured (see RoutineEngine.unwatched_after_s).
UNWATCHED_MIN_S = 24 * 3600.0
WALL_KEPT = 256  # local wall-clock times remembered (RoutineEngine._local)


class RoutineEngine:
    def __init__(self, home: Home, settings: RoutineSettings | None = None, prior: Prior | None = None):
        self.home = home
        self.settings = settings or RoutineSettings()
        # where a new person's limits start (not checkpointed: a newer prior applies on restart)
        self.prior = prior if prior is not None else (shipped() if self.settings.population_prior else None)
        self.tz = home.tz
        self._wall: dict[float, datetime] = {}  # epoch seconds -> local wall clock (see _local)
        st = self.settings
        self.names = {p.id: p for p in home.people}
        self._persons: dict[str, PersonState] = {
            p.id: PersonState(p.id, st.half_life_days, st.learning_days) for p in home.people}
        self._sensors: dict[str, SensorState] = {}
        for info in home.sensors:
            self._sensors[info.id] = SensorState(info.id, st.half_life_days)
        self._link()
        self._contexts: dict[str, list[tuple[str, float, float]]] = {p: [] for p in self._persons}
        self._outcomes: dict[str, str] = {}
        self.unknown_events = 0
        self._started = False
        self.first_t = 0.0
        self._day_date: date | None = None
        self._day_start = self._day_end = 0.0
        self._hour_start = 0.0
        self._hour_end = float("-inf")  # forces clock set-up on the first event or tick
        self._hour = 0
        self._due = float("inf")
        # the earliest 20 s re-check after getting into bed that look_after_bed moved later, until a look:
        # honoured when the limits change before it (an outcome, a checkpoint restored), as it was looked at then
        self._moved_look = float("inf")
        self._last_input = 0.0  # the latest event or tick time given
        self.unwatched: tuple[float, float] | None = None  # the latest span read as unknown (see _resume)
        st = self.settings
        self.unwatched_after_s = max(UNWATCHED_MIN_S, 60.0 * max(
            st.blind_silence_cap_min, st.silence_cap_min, st.default_silence_min))
        for p in self._persons.values():
            detectors.refresh_thresholds(self, p)

    # ---- configuration ----------------------------------------------------------------------------
    def _link(self) -> None:
        """(Re)derive per-sensor flags and per-person sensor lists from the Home (also after restore).

        What a sensor's kind counts as comes from its row in :data:`routines.sensor_kinds.SENSOR_KINDS`
        (a kind with no row: a ValueError naming it, before any state is built on it)."""
        self.person_sensors: dict[str, list[SensorState]] = {p: [] for p in self._persons}
        for info in self.home.sensors:
            s = self._sensors[info.id]
            row = sensor_kind(info.kind)
            s.p = self._persons.get(info.person)
            s.person_id = info.person
            s.code = row.code
            s.room, s.role = info.room, info.role
            s.label = f"{info.role.replace('_', ' ')} sensor ({info.room})" if info.role != "activity" \
                else f"{row.noun} ({info.room})"
            s.kitchen = info.is_kitchen
            s.door = info.role in ("front_door", "back_door")
            s.bed = "bed" in row.counts_as
            s.chair = "chair" in row.counts_as
            s.presence = "presence" in row.counts_as
            s.plug = s.code == PLUG  # its watts are switched on/off here, and its on-spells timed
            s.appliance = "appliance" in row.counts_as or info.role in APPLIANCE_ROLES
            s.bedroom = "bed" in info.room.lower()  # sensors that may fire while the person lies in bed
            s.toilet = any(w in info.role.lower() or w in info.room.lower() for w in TOILET_WORDS)
            if s.plug and s.switch is None:
                s.switch = PlugSwitch(info.on_above_w, info.off_below_w)
            if s.p is not None:
                self.person_sensors[info.person].append(s)
        self.night = {p.id: night_window(p.night_hours) for p in self.home.people}
        self.pronouns = {p.id: Pronouns(p.pronoun) for p in self.home.people}  # (frozen: shared by every look)
        self._flags = {pid: {f: any(getattr(s, f) for s in ss) for f in ("bed", "chair", "kitchen", "door", "plug")}
                       for pid, ss in self.person_sensors.items()}

    def has(self, pid: str, flag: str) -> bool:
        """Does this person have any sensor with this flag (bed, chair, kitchen, door, plug)?"""
        return self._flags[pid][flag]

    # ---- clock --------------------------------------------------------------------------------------
    def _local(self, t: float) -> datetime:
        """The local wall clock of epoch ``t``. Remembered: every look by day asks again for the same few
        times (when the person got out of bed, last moved) to place them in the night hours, and a zone's
        conversion costs more than the rest of that test (a datetime never changes, so sharing one is safe)."""
        d = self._wall.get(t)
        if d is None:
            if len(self._wall) >= WALL_KEPT:  # (most times are asked once: the memory stays bounded)
                self._wall.clear()
            d = self._wall[t] = datetime.fromtimestamp(t, self.tz)
        return d

    def dsm(self, t: float) -> float:
        """Minutes since the person-day start (local wall clock) of epoch ``t``."""
        d = self._local(t)
        return ((d.hour - self.settings.day_start_hour) * 60 + d.minute + d.second / 60.0) % 1440

    def at_dsm(self, minutes: float) -> float:
        """Epoch seconds of ``minutes`` after the current person-day start, by the wall clock (DST-safe)."""
        assert self._day_date is not None
        wall = datetime.combine(self._day_date, time(self.settings.day_start_hour)) + timedelta(minutes=minutes)
        return wall.replace(tzinfo=self.tz).timestamp()

    def _day_bounds(self, d: date) -> tuple[float, float]:
        h = time(self.settings.day_start_hour)
        start = datetime.combine(d, h).replace(tzinfo=self.tz).timestamp()
        end = datetime.combine(d + timedelta(days=1), h).replace(tzinfo=self.tz).timestamp()
        return start, end

    def _advance(self, t: float) -> list[Alert]:
        """Crossed an hour boundary: sensor cadence, day rollover, new hour cache."""
        out: list[Alert] = []
        if not self._started:
            self._started = True
            self.first_t = t
            d = self._local(t)
            day = d.date() if d.hour >= self.settings.day_start_hour else d.date() - timedelta(days=1)
            self._day_date = day
            self._day_start, self._day_end = self._day_bounds(day)
            for p in self._persons.values():
                detectors.refresh_thresholds(self, p)
            self._due = min(self._due, t + 1.0)  # the first day's deadlines: judged once its first event is in
        else:
            self._due = min(self._due, detectors.hour_passed(self, self._hour_start, min(self._hour_end, t)))
        while t >= self._day_end:
            out += self._rollover()
        d = self._local(t)
        self._hour = d.hour
        self._hour_start = t - (d.minute * 60 + d.second + d.microsecond / 1e6)
        self._hour_end = self._hour_start + 3600.0
        return out

    @property
    def next_due(self) -> float:
        """Epoch seconds before which ``tick`` has nothing to do."""
        return min(self._due, self._hour_end)

    # ---- events -------------------------------------------------------------------------------------
    def process(self, event: SensorEvent) -> list[Alert]:
        """Learn from one event; return alerts that became due by its time."""
        s = self._sensors.get(event.sensor_id)
        if s is None or s.p is None:
            self.unknown_events += 1
            return []
        return self.ingest(event.time.timestamp(), s, event.value)

    def ingest(self, t: float, s: SensorState, value: bool | float) -> list[Alert]:
        """The per-event path on an epoch float (``process`` and replay both land here)."""
        out = self._resume(t) if t - self._last_input > self.unwatched_after_s and self._started else None
        self._last_input = max(self._last_input, t)
        if t >= self._hour_end:
            out = (out or []) + self._advance(t)
        if t >= self._due:  # what fell due before this event, judged on the state before it
            out = (out or []) + self._evaluate(t)
        s.last_seen = t
        s.n += 1
        p = s.p
        bed_look = False  # a bed mat changed whether the person is in bed: look again soon (see the end)
        free = not p.in_bed  # before this event changes it: a spell ending in bed still counts
        code = s.code
        if s.offline_since is not None or s.silent_since is not None:
            s.offline_since = s.silent_since = None
            self._due = t
        if code == MOTION:
            if not value:
                s.on = False
                return out or []
            s.on = True
        elif code == PLUG:
            on = value if (value is True or value is False) else s.switch.update(float(value))
            if on == s.on:
                return out or []
            s.on = on
            if not on:
                if s.on_since is not None:
                    s.on_pending.append(t - s.on_since)
                    s.on_spells += 1
                    s.on_stuck += t - s.on_since >= STUCK_ON_S
                    if s.on_spells >= 200:  # keep it recent
                        s.on_spells //= 2
                        s.on_stuck //= 2
                s.on_since = None
                return out or []  # an appliance switching itself off is not the person
            s.on_since = t
            self._due = min(self._due, t + EDGE_DELAY_S)
            p.appliance_uses[s.role] = p.appliance_uses.get(s.role, 0) + 1
        else:
            on = bool(value)
            if code == CONTACT:
                s.on = on
                if s.appliance and on:
                    p.appliance_uses[s.role] = p.appliance_uses.get(s.role, 0) + 1
                if s.door:
                    self._due = min(self._due, detectors.front_door(self, p, t))
            elif code == BED:
                was_in_bed = p.in_bed
                due = detectors.bed_change(self, p, s, t, on)
                if due is None:
                    return out or []  # a pressure mat repeating its state is not a movement
                if due < self._due:  # (a chatty mat changes hundreds of times a night: no min() call)
                    self._due = due
                if not (was_in_bed and p.in_bed):
                    bed_look = True  # (when: decided at the end, on the state this event leaves)
                    # re-judge soon, except for a mat pulsing under a person already in bed (night or day):
                    # such a pulse moves only the mat's own counts, last_bed and last_act/last_nondoor.
                    # What the steps read of those, in bed: going_to_bed reads in_bed_since and
                    # back_to_bed_trip back_trip (both set only on getting into bed, which does look again);
                    # up_a_moment, night_bed_exit and silence act only out of bed; getting_up, not_up and
                    # evening_lull only at night, where a later last_act only moves their deadlines later
                    # (re-read when due); night_door only fires while last_nondoor is older (a pulse makes
                    # it newer); a return home is judged by back_home below. A chatty mat pulses hundreds
                    # of times a night (a third of the core's time); a day-phase pulse (on the bed in the
                    # evening before the night is read) is about 3% of the looks on the quiet home.
            elif on == s.on:
                return out or []
            else:  # sitting down or standing up changes no deadline
                s.on = on
                detectors.chair_change(self, p, t, on)
        # person activity
        gap = t - p.last_act
        if free and p.phase == DAY and not p.away and p.last_act > 0:
            ls = p.last_s  # the quiet after where the person was last seen, for that place's own limit
            if ls is not None:
                ls.after_n += 1
            if gap >= 300.0:
                p.gaps.append((p.last_slot, gap))
                if ls is not None:
                    ls.after_long.append(gap)
                if gap > p.longest_quiet:
                    p.longest_quiet = gap
        if gap >= 300.0:
            if gap >= 1800.0:
                # first seen coming in: the burst starts at the front door, or a lone door came after the quiet
                ls = p.last_s
                came = s.door or (ls is not None and ls.door and p.last_act - p.last_nondoor >= 1800.0)
                p.burst_start, p.burst_n, p.burst_door = t, 0, came
                if p.phase == NIGHT and not s.bed:
                    p.night_exits += not p.in_bed and not self.has(p.id, "bed")
        p.burst_n += 1
        if p.burst_n == 3 and p.phase == NIGHT:
            self._due = min(self._due, t + EDGE_DELAY_S)
        p.last_act = t
        p.last_slot = self._hour
        p.last_s = s
        if s.ctx_limit is not None and t + s.ctx_limit < self._due:  # stillness here is judged sooner
            self._due = t + s.ctx_limit
        s.hourly[self._hour] += 1
        if not s.bed:
            p.last_nonbed = t
            if not s.bedroom:
                if p.in_bed:
                    self._due = min(self._due, detectors.left_bed(self, p, t))
                p.last_up = t
        if not s.door:
            p.last_nondoor = t
            if p.away or p.door_t is not None or p.door_night_t is not None:
                left = p.away_since if p.away else None
                self._due = min(self._due, detectors.back_home(self, p, t, s.id))
                if left is not None and not p.away:  # an outing ended: its length is learned at day end
                    outing.came_back(self, p, left, p.outings[-1][1] if p.outings and p.outings[-1][1] else t)
        if s.kitchen:
            p.kitchen_events += 1
            detectors.kitchen_use(p, t)
            if p.first_kitchen is None:
                p.first_kitchen = t  # kept only if it is not before getting up (see detectors.episodes._got_up)
        if bed_look:  # EDGE_DELAY_S on, or later when that look could only say when the night begins
            look = detectors.look_after_bed(self, p, t, EDGE_DELAY_S)
            if look > t + EDGE_DELAY_S:
                self._moved_look = min(self._moved_look, t + EDGE_DELAY_S)
            self._due = min(self._due, look)
        return out or []

    def observe_health(self, h: DeviceHealth) -> list[Alert]:
        """Availability and battery reports (zigbee2mqtt availability, BLE battery)."""
        s = self._sensors.get(h.sensor_id)
        if s is None or s.p is None:
            self.unknown_events += 1
            return []
        alerts, due = detectors.health(self, s, h.time.timestamp(), h)
        self._due = min(self._due, due)
        return alerts

    # ---- time ---------------------------------------------------------------------------------------
    def tick(self, now: datetime) -> list[Alert]:
        """Run time-based detectors; call at least once a minute (or whenever ``next_due`` has passed)."""
        return self.tick_ts(now.timestamp())

    def tick_ts(self, t: float) -> list[Alert]:
        out = self._resume(t) if t - self._last_input > self.unwatched_after_s and self._started else []
        self._last_input = max(self._last_input, t)
        if t >= self._hour_end:
            out += self._advance(t)
        if t >= self._due:
            out += self._evaluate(t)
        return out

    def _resume(self, t: float) -> list[Alert]:
        """Given an event or tick after a longer span with neither (restored from an old checkpoint, a Pi
        switched off for a week): that span is unknown time, not stillness. Its days close under the
        ``clock_unreliable`` context (no alert, nothing learned), then where each person was last seen
        (activity, bed, door, outing, appliances on) is forgotten: they are judged afresh from now, as on
        a first start, so the week is never read as a week of stillness, not up or no meal."""
        start = self._last_input
        for pid in self._persons:
            self.set_context(pid, "clock_unreliable", self._local(start), self._local(t))
        out = self._advance(t) if t >= self._hour_end else []
        for p in self._persons.values():
            detectors.forget_whereabouts(self, p)
        self.unwatched = (start, t)
        self._due = t
        return out

    def _evaluate(self, t: float) -> list[Alert]:
        self._moved_look = float("inf")  # every deadline is read afresh now
        out: list[Alert] = []
        due = float("inf")
        for p in self._persons.values():
            alerts, d = detectors.evaluate(self, p, t)
            out += alerts
            due = min(due, d)
        self._due = due
        return out

    def _rollover(self) -> list[Alert]:
        end = self._day_end - 0.001
        out = self._evaluate(end) if self._due <= end else []  # settle the day before closing it
        for p in self._persons.values():
            out += detectors.finish_day(self, p)
        assert self._day_date is not None
        self._day_date += timedelta(days=1)
        self._day_start, self._day_end = self._day_bounds(self._day_date)
        for p in self._persons.values():
            detectors.start_day(self, p)
        self._due = self._day_start
        return out

    def alert_time(self, t: float) -> datetime:
        return self._local(t)

    # ---- contexts and feedback -----------------------------------------------------------------------
    def set_context(self, person: str, kind: str, start: datetime, end: datetime | None) -> None:
        """A known context (carer_visit, visitor, holiday, hospital) that pauses or adjusts judgement and
        learning for ``person`` from ``start`` to ``end`` (None: until further notice)."""
        if person not in self._persons:
            raise KeyError(f"unknown person {person!r}")
        if kind not in CONTEXT_KINDS:
            raise ValueError(f"context kind must be one of {', '.join(CONTEXT_KINDS)}, not {kind!r}")
        e = end.timestamp() if end is not None else float("inf")
        ctx = self._contexts[person]
        ctx.append((kind, start.timestamp(), e))
        if len(ctx) > 100:  # bounded: drop the oldest finished context
            del ctx[0]
        self._due = min(self._due, start.timestamp())

    def active_contexts(self, person: str, t0: float, t1: float | None = None) -> set[str]:
        t1 = t0 if t1 is None else t1
        return {k for k, s, e in self._contexts[person] if s <= t1 and e > t0}

    def record_outcome(self, alert_key: str, outcome: str) -> None:
        """Feedback on an alert: ``real`` or ``false_alarm``. A false alarm's day is learned after all."""
        if outcome not in ("real", "false_alarm"):
            raise ValueError("outcome must be 'real' or 'false_alarm'")
        self._outcomes[alert_key] = outcome
        while len(self._outcomes) > 1000:
            del self._outcomes[next(iter(self._outcomes))]
        for p in self._persons.values():
            day = p.alert_days.get(alert_key)
            if day is None or day not in p.flagged:
                continue
            if outcome == "false_alarm":
                detectors.learn_day(self, p, p.flagged.pop(day))
                detectors.refresh_thresholds(self, p)
            else:
                p.flagged[day]["real"] = True  # never learned, not even when it ended by itself
        self._due = min(self._due, self._look_held())  # new limits: a moved re-check is looked at after all

    def _look_held(self) -> float:
        """The re-check look_after_bed moved later, if it is still ahead (inf: none): where the limits change
        before it, it is looked at then, as it always was, so the new limits are read as soon as before."""
        return self._moved_look if self._moved_look > self._last_input else float("inf")

    # ---- reporting ----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Per person (:func:`routines.detectors.person_status`); ``unwatched`` names the latest span the
        engine was given nothing for, read as unknown time (None: none since it started)."""
        out = {pid: detectors.person_status(self, p, self._hour_start) for pid, p in self._persons.items()}
        if self.unwatched is not None:
            a, b = (self._local(x) for x in self.unwatched)
            words = (f"not watched from {a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} (no event and no tick for "
                     f"{(b - a).total_seconds() / 3600:.0f} h): that time is unknown, not stillness; judged afresh since")
            for st in out.values():
                st["unwatched"] = words
        return out

    def day_summary(self, person: str, day: date) -> DaySummary:
        p = self._persons[person]
        if day == self._day_date:
            return detectors.summarise(self, p, detectors.day_payload(self, p), live=True)
        for s in p.summaries:
            if s.date == day:
                return s
        raise KeyError(f"no summary for {person!r} on {day.isoformat()} (kept: the last {p.summaries.maxlen} days)")

    # ---- state --------------------------------------------------------------------------------------
    def checkpoint(self) -> bytes:
        state = {
            "persons": self._persons, "sensors": self._sensors, "contexts": self._contexts,
            "outcomes": self._outcomes, "unknown": self.unknown_events, "started": self._started,
            "first_t": self.first_t,
            "day_date": self._day_date, "day": (self._day_start, self._day_end),
            "hour": (self._hour, self._hour_start, self._hour_end), "due": min(self._due, self._look_held()),
            "last_input": self._last_input, "unwatched": self.unwatched,
        }
        return _MAGIC + zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 6)

    @classmethod
    def restore(cls, home: Home, blob: bytes, settings: RoutineSettings | None = None,
                prior: Prior | None = None) -> RoutineEngine:
        """Rebuild an engine from :meth:`checkpoint` bytes, following ``home`` (sensors or people added or
        removed since keep working; only state of ids still configured is carried over).

        The blob is a pickle, read back by :func:`routines.pickling.loads` (Hearth's own classes only;
        renamed classes mapped to their new names).
        """
        if not blob.startswith(_MAGIC):
            raise ValueError("not a Hearth routine checkpoint (or from an incompatible version)")
        state = pickling.loads(zlib.decompress(blob[len(_MAGIC):]))
        eng = cls(home, settings, prior)
        for pid, ps in state["persons"].items():
            if pid in eng._persons:
                eng._persons[pid] = ps
                eng._contexts[pid] = state["contexts"].get(pid, [])
        for sid, ss in state["sensors"].items():
            if sid in eng._sensors and eng._sensors[sid].code == ss.code:
                eng._sensors[sid] = ss
        for obj in (*eng._persons.values(), *eng._sensors.values()):
            fill_missing(obj)
        for p in eng._persons.values():  # where last seen: this engine's sensor of that id (or none)
            p.last_s = eng._sensors.get(p.last_s.id) if p.last_s is not None else None
        eng._link()
        eng._outcomes = state["outcomes"]
        eng.unknown_events = state["unknown"]
        eng._started = state["started"]
        eng.first_t = state["first_t"]
        eng._day_date = state["day_date"]
        eng._day_start, eng._day_end = state["day"]
        eng._hour, eng._hour_start, eng._hour_end = state["hour"]
        eng._due = state["due"]
        # (a checkpoint from before these were kept: its hour is the best bound on the last input)
        eng._last_input = state.get("last_input", eng._hour_start if eng._started else 0.0)
        eng.unwatched = state.get("unwatched")
        for p in eng._persons.values():
            detectors.refresh_thresholds(eng, p)
        return eng
