"""Mutable per-person and per-sensor state of the routine engine (everything a checkpoint must keep).

Plain ``__slots__`` classes: small, fast attribute access on the per-event path, and they pickle.
Configuration-derived facts (role flags, which person) are set by the engine from the Home, so a restored
checkpoint follows the current config.
"""

from __future__ import annotations

from collections import deque
from datetime import date

import numpy as np

from routines.limits import Thresholds
from routines.models import (
    GAP_BINS,
    ActivityProfile,
    DailyProfileModel,
    MarkerModel,
    OutingModel,
    SilenceModel,
)
from sensors.plug import PlugSwitch

DAY, NIGHT = 0, 1

PROFILE_FEATURES = ("wake", "first_kitchen", "bed", "night_exits", "minutes_out", "events",
                    "events_morning", "events_afternoon", "events_evening", "kitchen_events")


class SensorState:
    __slots__ = ("after_days", "after_hist", "after_long", "after_n", "after_w", "appliance", "battery", "battery_low_runs", "bed", "bedroom", "cadence", "chair", "code", "ctx_base", "ctx_limit", "door",
                 "hourly", "id", "kitchen", "label", "last_seen", "n", "offline_since", "on", "on_model",
                 "on_pending", "on_since", "on_spells", "on_stuck", "on_told", "p", "person_id", "plug", "presence", "role", "room", "run", "silent_limit", "silent_since",
                 "switch", "toilet")

    def __init__(self, sid: str, half_life_days: float) -> None:
        self.id = sid
        self.on: bool | None = None  # last on/off state (None: never heard)
        self.on_since: float | None = None
        self.last_seen = 0.0  # epoch seconds of the last event of any kind
        self.n = 0
        self.hourly = [0] * 24  # person-activity events this day, by local hour
        self.switch: PlugSwitch | None = None
        self.on_pending: list[float] = []  # plug on-durations (s) finished this day, learned at rollover
        self.on_spells = 0  # finished on-spells, and how many lasted hours (a sensor stuck on, not a person)
        self.on_stuck = 0
        self.on_model = MarkerModel(half_life_days, capacity=200, warmup=5)
        # the on_since of the spell carers were last told 'left on' about: told once, however long it lasts
        # (the alert keys are forgotten after two days, and a switch left tipped for days was re-told every third)
        self.on_told: float | None = None
        self.cadence = MarkerModel(half_life_days, capacity=120, warmup=10)  # active hours between reports
        self.run = 0  # active hours (person active at home) since this sensor last reported
        self.silent_since: float | None = None
        self.silent_limit = 72.0  # active hours; refreshed daily from the learned cadence
        self.offline_since: float | None = None
        # quiet after this sensor (the person last seen here): gaps counted today, the long ones (>= 5 min)
        # kept, learned at rollover into a weighted count and a log-binned survival table of the long ones
        self.after_n = 0
        self.after_long: list[float] = []
        self.after_w = 0.0
        self.after_hist = np.zeros(GAP_BINS)
        self.after_days = 0
        self.ctx_limit: float | None = None  # seconds of stillness after this sensor before alerting
        self.ctx_base: float | None = None  # the usual longest quiet after it (before the margin)
        self.battery: float | None = None
        self.battery_low_runs = 0
        # config-derived, set by the engine
        self.p: PersonState | None = None
        self.person_id = ""
        self.code = 0
        self.room = ""
        self.role = ""
        self.label = sid
        self.kitchen = self.door = self.bed = self.bedroom = self.chair = self.plug = self.appliance = self.toilet = False
        self.presence = False  # shows where the person is while still (routines.sensor_kinds)


class NotBack:
    """The 'not back when usual' check's own state (:mod:`routines.detectors.outing`)."""

    __slots__ = ("held", "model", "pending", "told")

    def __init__(self) -> None:
        # outings by the time of day they began; those ended today are learned at day end
        self.model = OutingModel()
        # (start, seconds, the alert's key, its limit in seconds (None: no alert), raised at the starting limit)
        self.pending: list[tuple[float, float, str | None, float | None, bool]] = []
        # outings that raised the alert, until settled: (day held, start minute, seconds, day, alert key)
        self.held: list[tuple[int, float, float, int, str]] = []
        # the outing 'not back' was raised for: (its start, the limit it passed in seconds, the starting one?)
        self.told: tuple[float, float, bool] | None = None


class Waiting:
    """Waiting per situation (:mod:`routines.detectors.situations`): the models, the spell going on in each
    situation [start, last wait index reached, alert key or None, date], the spells kept back for an
    outcome (date, situation, seconds reached, alert key), the last day closed into the models, and the
    dates unmarked spells were learned per situation (7 days)."""

    __slots__ = ("closed", "kept", "models", "now", "settled")

    def __init__(self) -> None:
        self.models: dict[str, object] = {}
        self.now: dict[str, list] = {}
        self.kept: list[tuple] = []
        self.closed: object = None
        self.settled: dict[str, list] = {}


class PersonState:
    __slots__ = (
        "activity_total",
        "alert_days",
        "appliance_uses",
        "away",
        "away_seen",
        "away_since",
        "back_trip",
        "bed_count",
        "bed_model",
        "bed_short",
        "bed_spells",
        "bed_t",
        "burst_door",
        "burst_n",
        "burst_start",
        "came_in",
        "chair_count",
        "chair_since",
        "daily",
        "day_alerts",
        "day_blind",
        "day_contexts",
        "door_in_t",
        "door_night_set",
        "door_night_t",
        "door_t",
        "exit_len",
        "exit_pending",
        "fired",
        "first_kitchen",
        "flagged",
        "gaps",
        "id",
        "in_bed",
        "in_bed_since",
        "kitchen_events",
        "kitchen_model",
        "last_act",
        "last_bed",
        "last_nonbed",
        "last_nondoor",
        "last_s",
        "last_slot",
        "last_up",
        "longest_quiet",
        "meal_last",
        "meal_run",
        "meals",
        "night_bed_t",
        "night_exits",
        "night_exits_model",
        "not_back",
        "not_up_weak_told",
        "out_since",
        "outings",
        "own_since",
        "phase",
        "profile",
        "returns_by_type",
        "silence",
        "sitting_s",
        "stillness_told",
        "summaries",
        "thr",
        "told",
        "unseen_out",
        "waiting",
        "wake_by_type",
        "wake_model",
        "wake_t",
    )

    def __init__(self, pid: str, half_life_days: float, learning_days: int) -> None:
        hl, warm = half_life_days, learning_days
        self.id = pid
        self.phase = DAY
        self.last_act = 0.0  # last person activity (any sensor), epoch s
        self.last_slot = 0  # local hour of last_act
        self.last_s: SensorState | None = None  # the sensor of last_act: where the person was last seen
        self.stillness_told = False  # technicians told stillness cannot be checked within the hour here
        self.last_nonbed = 0.0
        self.last_nondoor = 0.0
        self.bed_count = 0  # bed mats now reporting occupied (raw)
        self.in_bed = False  # the person is in bed: bed activity, and no 'up' activity since (see detectors.episodes.bed_change and left_bed)
        self.last_bed = 0.0  # last event of any bed mat
        self.last_up = 0.0  # last event from a sensor that is neither a bed mat nor in a bedroom
        self.bed_spells = 0  # mat on-spells seen (decayed), and how many were brief (< 60 s): pulsing mats
        self.bed_short = 0
        self.in_bed_since: float | None = None
        self.out_since: float | None = None
        self.chair_count = 0
        self.chair_since: float | None = None
        self.away = False
        self.away_since: float | None = None
        self.away_seen: tuple[str, float] | None = None  # while out: first sensor seen since (no door yet)
        self.door_t: float | None = None  # last front-door event not yet followed by other activity
        self.door_in_t: float | None = None  # while out: the first front-door event since (coming in)
        self.door_night_t: float | None = None  # front door during sleep hours, not yet explained
        self.door_night_set = False  # ... and it was within the night hours set for the person
        self.burst_start = 0.0
        self.burst_n = 0
        self.burst_door = False  # the current burst of activity began at the front door
        # this person day
        self.wake_t: float | None = None
        self.came_in = False  # the day's first burst (its wake) began at the front door: first seen coming in
        # length of the trip out of bed that a return to bed ended while 'up' was still provisional: a
        # night-time trip (learned as one) if the person then stays in bed (see detectors.evaluate)
        self.back_trip: tuple[float, float] | None = None  # (back in bed at, trip length)
        self.bed_t: float | None = None
        self.night_bed_t: float | None = None  # when the current/last night began (kept across the day boundary)
        self.first_kitchen: float | None = None
        self.kitchen_events = 0
        self.meals = 0  # this day's kitchen episodes long enough to be a meal (detectors.episodes.kitchen_use)
        self.meal_last = 0.0  # the last kitchen event, and how many in its episode so far
        self.meal_run = 0
        self.night_exits = 0
        self.exit_pending: list[float] = []
        self.gaps: list[tuple[int, float]] = []  # quiet spells (start hour, seconds) at home, up, not in bed
        self.longest_quiet = 0.0
        self.outings: list[list[float | None]] = []
        self.appliance_uses: dict[str, int] = {}
        self.sitting_s = 0.0
        self.day_alerts: list[str] = []
        self.day_blind: set[str] = set()
        self.day_contexts: set[str] = set()
        self.fired: dict[str, float] = {}  # alert key -> time: one situation, one alert
        self.alert_days: dict[str, object] = {}  # alert key -> person-day date it flagged
        self.flagged: dict[object, dict] = {}  # date -> learnable payload of a flagged day (kept 14 days)
        # models of the person's normal (minutes since the person-day start for times)
        self.wake_model = MarkerModel(hl, warmup=warm)
        # wake times apart for weekdays and weekends (index: weekend?), each used once it has warmed up
        self.wake_by_type = (MarkerModel(hl, warmup=warm), MarkerModel(hl, warmup=max(3, warm // 2)))
        self.kitchen_model = MarkerModel(hl, warmup=warm)
        self.bed_model = MarkerModel(hl, warmup=warm)
        # nights learned (their count of exits): how much of its own evidence the night-exit check has
        # (routines.learning, and the prior's weight in thresholds); the counts themselves feed the daily profile
        self.night_exits_model = MarkerModel(hl, warmup=warm)
        self.exit_len = MarkerModel(hl, capacity=400, warmup=max(5, warm))
        self.not_back = NotBack()  # the 'not back when usual' check's own state
        self.activity_total = MarkerModel(hl, warmup=warm)
        self.silence = SilenceModel(hl, warmup=8)
        self.profile = ActivityProfile(hl, warmup=warm)
        self.daily = DailyProfileModel(PROFILE_FEATURES, hl, warmup=warm)
        # unseen outings, per day type (index: weekend?), apart from the wake models: days first seen coming
        # in through the front door after the not-up deadline (left unseen, or out overnight), as decayed
        # [days, such days], and when they came in (minutes since the day start). Never learned as wakes.
        self.unseen_out = [[0.0, 0.0], [0.0, 0.0]]
        self.returns_by_type = (MarkerModel(hl, capacity=60, warmup=2), MarkerModel(hl, capacity=60, warmup=2))
        self.not_up_weak_told = False  # technicians told 'not up' is a weak check here (unseen outings)
        self.summaries: deque = deque(maxlen=62)
        self.thr = Thresholds()  # the limits in force, refreshed at day rollover (routines.limits)
        self.own_since: dict[str, object] = {}  # check -> date it began watching with the person's own routine
        self.told: dict[str, date] = {}  # what technicians were last told about (a once-a-week note) -> the day
        self.waiting = Waiting()  # waiting per situation (routines.detectors.situations)

    def __setstate__(self, state: tuple[dict | None, dict] | dict) -> None:
        """Restore a checkpoint of any version: a field removed since (``minutes_out_model``, never read) is
        dropped, those added since are filled by :func:`fill_missing`, and limits kept as a string-keyed
        dict (before :class:`~routines.limits.Thresholds`) are read into one."""
        d, slots = state if isinstance(state, tuple) else (state, {})
        for src in (d or {}, slots or {}):
            for k, v in src.items():
                if k in _PERSON_SLOTS:
                    setattr(self, k, Thresholds.from_dict(v) if k == "thr" and isinstance(v, dict) else v)
                elif k in _MOVED:  # a field that moved into its check's own state since
                    group, attr = _MOVED[k]
                    if not hasattr(self, group):
                        setattr(self, group, _GROUPS[group]())
                    setattr(getattr(self, group), attr, v)


_PERSON_SLOTS = frozenset(PersonState.__slots__)
# a checkpoint's field now kept in a check's own state: old name -> (PersonState field, its attribute)
_GROUPS = {"not_back": NotBack, "waiting": Waiting}
_MOVED = {"outing_model": ("not_back", "model"), "outing_pending": ("not_back", "pending"),
          "outing_held": ("not_back", "held"), "outing_told": ("not_back", "told"),
          "waits": ("waiting", "models"), "wait_now": ("waiting", "now"), "waits_kept": ("waiting", "kept"),
          "waits_closed": ("waiting", "closed"), "waits_settled": ("waiting", "settled")}


def fill_missing(obj: SensorState | PersonState) -> None:
    """Give a state object restored from an older checkpoint the fields added since, at their start values."""
    fresh = type(obj)("_", 30.0, 7) if isinstance(obj, PersonState) else SensorState("_", 30.0)
    for name in type(obj).__slots__:
        if not hasattr(obj, name):
            setattr(obj, name, getattr(fresh, name))
