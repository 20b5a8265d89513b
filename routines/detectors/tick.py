"""One evaluation of one person's time-based checks (from the engine's tick): :func:`evaluate` runs the
steps of :data:`STEPS` in order over one :class:`~routines.detectors.common.Tick`.

The order matters: technical alerts first (they decide which care checks are blind), then the state
changes the clock decides (going to bed, getting up), then the care detectors, each seeing the phase and
'away' the steps before it settled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from routines.alert import Alert
from routines.detectors.common import Tick
from routines.detectors.daytime import appliance_on, no_meal, silence
from routines.detectors.health import (
    any_unwell,
    blind_alerts,
    blind_checks,
    not_up_weak,
    sensor_faults,
    stillness_unjudgeable,
)
from routines.detectors.justhome import just_home
from routines.detectors.night import night_bed_exit, night_door, not_up
from routines.detectors.outing import not_back
from routines.detectors.phases import (
    back_to_bed_trip,
    evening_lull,
    getting_up,
    going_to_bed,
    gone_out,
    night_trip_no_bed,
    up_a_moment,
)
from routines.detectors.thresholds import _epochs

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.state import PersonState

# after the technical alerts and today's deadlines (see evaluate), in this order
STEPS: tuple[Callable[[Tick], None], ...] = (
    # phase changes: going to bed for the night, getting up for the day
    going_to_bed, back_to_bed_trip, up_a_moment, evening_lull, getting_up, night_trip_no_bed,
    # care detectors; gone out is decided between them (the night door and the daytime checks need it)
    not_up, night_bed_exit, gone_out, not_back, just_home, night_door, silence, no_meal, appliance_on,
)


def evaluate(eng: RoutineEngine, p: PersonState, t: float) -> tuple[list[Alert], float]:
    """(alerts raised now, when to evaluate this person next)."""
    c = Tick(eng, p, t)
    # technical first: they decide which checks are blind. Both need a sensor offline or silent: with
    # none (nearly every look) they would find nothing, so they are not run (they were about an eighth of
    # a look's time on the quiet-home bench, profiled)
    if any_unwell(eng, p):
        sensor_faults(c)
        c.blind = blind_checks(eng, p, t)
        blind_alerts(c)
    stillness_unjudgeable(c)
    c.has_bed = eng.has(p.id, "bed")
    c.ep = _epochs(eng, p)
    not_up_weak(c)
    c.quiet = t - p.last_act  # before the phase changes, as the silence check has always measured it
    for step in STEPS:
        step(c)
    return c.out, min(c.due)
