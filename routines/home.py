"""The home as the routine core sees it: people and their sensors, nothing about radios or brokers.

The gateway builds this from the validated YAML config (:meth:`gateway.config.HomeConfig.to_home`).
``room`` and ``role`` are free text; :data:`KNOWN_ROLES` are the roles Hearth reasons about specially,
any other role is plain activity in its room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sensors.events import SensorKind

KITCHEN_ROLES = frozenset({"fridge", "freezer", "kettle", "microwave", "toaster", "hob", "stove", "oven",
                           "cupboard", "cutlery_drawer", "kitchen_motion", "dishwasher", "sink"})
APPLIANCE_ROLES = frozenset({"kettle", "microwave", "toaster", "hob", "stove", "oven", "tv",
                             "washing_machine", "dishwasher", "iron", "heater"})
KNOWN_ROLES = frozenset({"front_door", "back_door", "bed", "chair", "couch", "toilet_flush", "toilet_door",
                         "bathroom_door", "bedroom_door", "keys"}) | KITCHEN_ROLES | APPLIANCE_ROLES


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    pronoun: str = "they"  # "she", "he" or "they": used in explanations


@dataclass(frozen=True, slots=True)
class SensorInfo:
    id: str
    kind: SensorKind
    room: str
    role: str
    person: str
    on_above_w: float = 10.0  # plugs only: watts above which the appliance is on
    off_below_w: float = 5.0  # plugs only: watts below which it is off again

    @property
    def is_kitchen(self) -> bool:
        """Kitchen activity: a sensor in a room named kitchen or with a kitchen role."""
        return "kitchen" in self.room.lower() or self.role in KITCHEN_ROLES


@dataclass(frozen=True, slots=True)
class Home:
    timezone: str
    people: tuple[Person, ...]
    sensors: tuple[SensorInfo, ...]
    name: str = "home"
    extra: dict = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def sensor(self, sensor_id: str) -> SensorInfo | None:
        for s in self.sensors:
            if s.id == sensor_id:
                return s
        return None
