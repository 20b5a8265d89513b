"""State changes, detectors, day rollover and learning for one person (called by :mod:`routines.engine`).

Detectors compare the live situation with thresholds taken from the person's OWN learned days (a
quantile plus a margin, with a floor and a minimum of evidence), or with technician defaults while still
learning. Each alert says in plain words what is usual for this person and what is happening now.

One module per concern, each short enough to read in one go:

- :mod:`~routines.detectors.common`: alert kinds, what pauses them, blindable checks, the alert builder
- :mod:`~routines.detectors.thresholds`: limits and deadlines from the person's learned days
- :mod:`~routines.detectors.episodes`: bed, chair, front door and coming home (per-event state changes)
- :mod:`~routines.detectors.health`: sensor health, blind checks and the technical alerts
- :mod:`~routines.detectors.phases`: going to bed, getting up, night-time trips, gone out (on the clock)
- :mod:`~routines.detectors.night` / :mod:`~routines.detectors.daytime`: one function per care detector
- :mod:`~routines.detectors.tick`: :func:`evaluate`, running all of the above in order
- :mod:`~routines.detectors.days`: what a day teaches, and what a flagged day keeps back
- :mod:`~routines.detectors.dayend`: day end, weekly trends, status

The engine calls them as ``detectors.NAME``; every name it (and the tests) use is re-exported here.
"""

from routines.detectors.common import CHECKS, CONTEXT_PAUSES, KINDS
from routines.detectors.dayend import finish_day, person_status, start_day, summarise
from routines.detectors.days import FLAGGED_MARKERS, day_payload, learn_day, settle_unconfirmed, split_flagged
from routines.detectors.episodes import (
    back_home,
    bed_change,
    chair_change,
    forget_whereabouts,
    front_door,
    kitchen_use,
    left_bed,
    pulsing,
)
from routines.detectors.health import blind_checks, health, hour_passed
from routines.detectors.phases import look_after_bed
from routines.detectors.thresholds import (
    _epochs,
    appliance_limit,
    context_limit,
    learn_context_gaps,
    refresh_thresholds,
    stillness_checkable,
    stuck_on,
)
from routines.detectors.tick import evaluate

__all__ = [
    "CHECKS", "CONTEXT_PAUSES", "FLAGGED_MARKERS", "KINDS", "_epochs", "appliance_limit", "back_home",
    "bed_change", "blind_checks", "chair_change", "context_limit", "day_payload", "evaluate", "finish_day",
    "forget_whereabouts", "front_door", "health", "hour_passed", "kitchen_use", "learn_context_gaps", "learn_day", "left_bed",
    "look_after_bed", "person_status",
    "pulsing", "refresh_thresholds", "settle_unconfirmed", "split_flagged", "start_day", "stillness_checkable",
    "stuck_on", "summarise",
]
