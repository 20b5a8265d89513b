"""The limits every detector compares with, typed: one :class:`Thresholds` per person (``PersonState.thr``).

:func:`routines.detectors.thresholds.refresh_thresholds` builds a fresh one at each day end (and after an
outcome) from the person's learned days, the population prior or the technician's starting settings;
:func:`routines.detectors.thresholds._epochs` picks today's kind of day (weekday, weekend) into it;
:func:`routines.learning.guard_limits` replaces an implausible usual time with the starting one.

Times of day are minutes since the person-day start (``RoutineSettings.day_start_hour``; ``_dsm`` and the
wake, bed and kitchen times), lengths are seconds (``_s``). ``*_learned``: from the person's own days
(warmed up); ``*_prior``: the population prior blended with the person's few days (still learning);
neither: the technician's starting setting.

A checkpoint from before this class holds a plain dict here: :meth:`from_dict` reads it (the engine
refreshes every limit on restore anyway; only the situations' previous limits, ``wait_s``, are read back).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(slots=True)
class Deadlines:
    """Today's deadlines as epoch seconds (wall clock, DST-safe), for one person day
    (:func:`routines.detectors.thresholds._epochs`, cached in :attr:`Thresholds.epochs`)."""

    day: float  # the person day's start: the day these are for
    not_up: float  # 'not up' (Thresholds.not_up_dsm)
    not_up_alert: float  # ... and when it is raised: later on a day that may be an unseen outing (not_up_weak)
    not_up_still: float  # 'not up' for someone still in bed: the usual wake plus the margin, if earlier
    wake_q: float  # the latest usual wake
    wake_lo: float  # the early usual wake (the end of the usual sleep hours)
    earliest: float  # activity before this is not getting up
    bed_window: float  # the evening begins
    no_meal: float  # 'no meal' (inf: none today)


@dataclass(slots=True)
class Thresholds:
    # ---- getting up ('not up', and when activity can be the day's getting up)
    wake_learned: bool = False
    wake_prior: bool = False
    wake_q: float = 0.0  # the latest usual wake (deadline_quantile), of today's kind of day once _epochs ran
    wake_q_by_type: tuple[float, float] = (0.0, 0.0)  # ... for weekdays and weekends (pooled until each warms up)
    wake_usual_by_type: tuple[float, float] = (0.0, 0.0)  # the wake 'still in bed' is judged from (still_wake_quantile)
    wake_usual: float | None = None  # today's of those (set by _epochs; None before the first day)
    not_up_dsm: float = 0.0  # the 'not up' deadline: wake_q plus wake_margin_min
    earliest_wake_dsm: float = 0.0  # an hour before the early usual wake: activity before it is not getting up
    not_up_weak: bool = False  # today waits for the usual return (no bed sensor, often out unseen; _epochs)
    wake_start: float | None = None  # the conservative start 'not up' waits for while learning (None: no prior)
    # ---- going to bed and the night
    bed_learned: bool = False
    bed_prior: bool = False
    bed_med: float = 0.0  # the usual (median) bed time
    bed_late: float | None = None  # the latest usual bed time ('not up' waits longer after a later night)
    bed_window_dsm: float = 0.0  # the evening begins: going to bed is read from here on
    bed_lo_dsm: float = 0.0  # the early usual bed time (without a bed sensor, a quiet from then may be sleep)
    sleep: tuple[float, float] = (0.0, 0.0)  # usual sleep hours: (bed_med, early usual wake); may wrap past day end
    # ---- meals
    kitchen_learned: bool = False
    kitchen_prior: bool = False
    kitchen_q: float = 0.0  # the usual latest first kitchen use (lifted toward NO_MEAL_START while learning)
    no_meal_dsm: float = 0.0  # the 'no meal' deadline (at the latest half an hour before the day ends)
    # ---- night-time trips out of bed
    exit_learned: bool = False
    exit_prior: bool = False
    exit_q: float | None = None  # the usual trip's length (usual_quantile); None: no evidence and no prior
    exit_thr_s: float = 0.0  # out of bed at night this long before 'night_bed_exit'
    exit_by_budget: bool = False  # exit_thr_s is the 'night_back' waiting limit (the budget's, or its start while learning)
    # ---- daytime stillness
    silence_prior: bool = False
    silence_budget: bool = False  # the hours' and sensors' limits spent from the budget's daytime share (quietbudget)
    silence_thr: list[float] = field(default_factory=list)  # per local hour: quiet this long before 'silence'
    silence_q: list[float | None] = field(default_factory=list)  # per hour: the usual longest quiet (None: unknown)
    silence_cap_s: float = 0.0  # no hourly limit above this (longer where going out cannot be seen)
    silence_blind: float | None = None  # without a working front door: the person's longest usual quiet at any hour
    silence_lying_s: float = 0.0  # the limit where lying down cannot be seen (last seen going to the bedroom)
    silence_lying_base: float | None = None  # ... and the longest usual quiet it comes from (before the margin)
    # ---- waiting per situation (routines.detectors.situations)
    wait_s: dict[str, float] = field(default_factory=dict)  # situation -> seconds of waiting before alerting
    wait_own: dict[str, bool] = field(default_factory=dict)  # situation -> from the person's own days?
    wait_floor_s: dict[str, float] = field(default_factory=dict)  # situation -> the shortest limit allowed
    # ---- appliance 'left on' limits from the budget (routines.detectors.appliances), by sensor id
    appliance: dict[str, Any] = field(default_factory=dict)
    # ---- refused by routines.learning.guard_limits (marker -> the implausible usual time, minutes)
    refused: dict[str, float] = field(default_factory=dict)
    # ---- caches (never learned, rebuilt on demand)
    epochs: Deadlines | None = None  # today's deadlines as epoch seconds (_epochs)
    outing: dict[str, Any] | None = None  # the current outing's limits (routines.detectors.outing.limits)

    @classmethod
    def from_dict(cls, old: dict[str, Any]) -> Thresholds:
        """The limits of a checkpoint that kept them as a string-keyed dict (its caches and any key removed
        since are dropped)."""
        names = {f.name for f in fields(cls)} - {"epochs", "outing"}
        return cls(**{k: v for k, v in old.items() if k in names})
