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
# A new person's night hours (the technician may set their own): from the usual bed time to the usual
# EARLIEST getting up of the recorded homes' nights, each home weighted equally (python -m
# benchmarks.night_hours; every home is evaluated with the hours made without it).
DEFAULT_NIGHT_HOURS = "00:30-06:45"


def night_window(hours: str) -> tuple[int, int]:
    """"HH:MM-HH:MM" as (start, end) minutes of the local day; the window may wrap midnight.

    >>> night_window("23:30-06:00")
    (1410, 360)
    """
    a, b = hours.split("-")
    return int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    pronoun: str = "they"  # "she", "he" or "they": used in explanations
    # the front door and out of bed with no sign of life are watched in these hours from the first night
    night_hours: str = DEFAULT_NIGHT_HOURS


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
