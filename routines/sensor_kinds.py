"""Sensor kinds as the routine core reads them: one row per :class:`~sensors.events.SensorKind`.

The engine (how it reads a kind's events), the detectors and the checks a fault can blind (what a kind
counts as) and the words technicians read all come from :data:`SENSOR_KINDS`. Adding a kind is a member
of ``SensorKind`` and one row here; a kind with no row is refused when the gateway reads its config and
when an engine is linked to a home (:func:`sensor_kind`), naming the kind, instead of failing later.

What a sensor counts as also depends on where it is and what it watches (a kitchen, a front door, an
appliance role): those come from the sensor's room and role (:class:`routines.home.SensorInfo`), not its
kind.

>>> sensor_kind(SensorKind.MOTION).noun
'motion sensor'
>>> sensor_kind("sofa")
Traceback (most recent call last):
...
ValueError: sensor kind 'sofa' has no row in routines.sensor_kinds.SENSOR_KINDS (known: contact, bed, chair, motion, plug)
"""

from __future__ import annotations

from dataclasses import dataclass

from sensors.events import SensorKind

# How the engine reads a kind's events (RoutineEngine.ingest branches on this small int, the per-event path):
# BED and CHAIR are pressure mats (an occupied/free change is a movement; a mat repeating its state is not),
# CONTACT: every change is the person; MOTION: only 'detected' is; PLUG: only switching on is (watts are
# switched on/off by the sensor's own thresholds first).
BED, CHAIR, CONTACT, MOTION, PLUG = range(5)

# what a kind may count as (each is a flag on routines.state.SensorState, set by the engine at link time)
COUNTS_AS = frozenset({"bed", "chair", "appliance", "presence"})


@dataclass(frozen=True, slots=True)
class SensorKindRow:
    """What the core makes of one sensor kind."""

    code: int  # how the engine reads its events (one of BED, CHAIR, CONTACT, MOTION, PLUG above)
    # bed: a bed mat (in bed, getting up); chair: a seat mat (sitting, standing up); appliance: an appliance
    # switched on whatever its role ('left on'); presence: shows where the person is while still (a seat,
    # a room's motion), so while it is down stillness cannot be judged
    counts_as: frozenset[str]
    noun: str  # technicians' words for it ("the motion sensor (hall)")

    def __post_init__(self) -> None:
        if not self.counts_as <= COUNTS_AS:
            raise ValueError(f"unknown 'counts as' {sorted(self.counts_as - COUNTS_AS)} (known: {sorted(COUNTS_AS)})")


SENSOR_KINDS: dict[SensorKind, SensorKindRow] = {
    SensorKind.CONTACT: SensorKindRow(CONTACT, frozenset(), "contact sensor"),
    SensorKind.BED: SensorKindRow(BED, frozenset({"bed"}), "bed sensor"),
    SensorKind.CHAIR: SensorKindRow(CHAIR, frozenset({"chair", "presence"}), "chair sensor"),
    SensorKind.MOTION: SensorKindRow(MOTION, frozenset({"presence"}), "motion sensor"),
    SensorKind.PLUG: SensorKindRow(PLUG, frozenset({"appliance"}), "plug sensor"),
}


def sensor_kind(kind: SensorKind | str) -> SensorKindRow:
    """The row of ``kind``; a ValueError naming it when it has none (a kind added without its row)."""
    row = SENSOR_KINDS.get(kind)  # type: ignore[call-overload]  # a plain string of a member finds it too
    if row is None:
        raise ValueError(f"sensor kind {str(kind)!r} has no row in routines.sensor_kinds.SENSOR_KINDS "
                         f"(known: {', '.join(SENSOR_KINDS)})")
    return row
