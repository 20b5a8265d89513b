"""The table of zigbee2mqtt payload keys Hearth understands: key -> sensor kinds, role, converter.

zigbee2mqtt publishes a device's *whole* state as one JSON object on ``<base>/<friendly_name>``;
which keys appear depends on the device (its "Exposes" on zigbee2mqtt.io). One row per key says
for which :class:`~sensors.events.SensorKind` the key means something, what it is for, and how to
turn the JSON value into a typed reading. A converter raises :class:`WrongType` for a value of the
wrong JSON type or outside its range; the ranges are :data:`sensors.readings.RANGES`, the same ones
replay applies to a CSV row.

>>> KEYS["contact"].convert(True)   # zigbee2mqtt: contact true = CLOSED; Hearth: True = open
False
>>> KEYS["power"].convert(2150.4)
2150.4
>>> KEYS["state"].convert("ON")
True
>>> KEYS["battery"].convert("full")
Traceback (most recent call last):
...
sensors.readings.WrongType: expected a number 0..100, got str 'full'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sensors.events import SensorKind
from sensors.readings import RANGES, WrongType, as_bool, as_number, type_error

__all__ = ["KEYS", "QUIET_KEYS", "KeySpec", "Role", "WrongType", "as_bool"]


class Role(StrEnum):
    STATE = "state"  # the sensed on/off state itself -> SensorEvent (on change)
    POWER = "power"  # plug watts -> on/off through PlugSwitch -> SensorEvent (on change)
    RELAY = "relay"  # plug relay ON/OFF: whether the socket is switched on, NOT whether the appliance runs
    HEALTH = "health"  # -> DeviceHealth field of the same name
    PRESSURE = "pressure"  # bed/chair strap's raw pressure: kept for technicians, occupancy decides


# Roles whose null is refused (counted "no_value"): Hearth acts on them, as replay refuses an empty
# value. zigbee2mqtt's null for a health or relay key it has not heard yet is simply skipped.
NULL_REFUSED = frozenset({Role.STATE, Role.POWER})


def _not_contact(value: object) -> bool:
    return not as_bool(value)


def _watts(value: object) -> float:
    return as_number(value, RANGES["watts"])


def _percent(value: object) -> float:
    return as_number(value, RANGES["percent"])


def _lqi(value: object) -> float:
    return as_number(value, RANGES["linkquality"])


def _millivolts(value: object) -> float:
    return as_number(value, RANGES["millivolts"])


def _pressure(value: object) -> float:
    return as_number(value, RANGES["pressure"])


_RELAY = {"ON": True, "OFF": False}


def _relay(value: object) -> bool:
    if not isinstance(value, str) or value not in _RELAY:
        raise type_error('"ON" or "OFF"', value)
    return _RELAY[value]


@dataclass(frozen=True, slots=True)
class KeySpec:
    kinds: frozenset[SensorKind]
    role: Role
    convert: Callable[[object], bool | float]


_BATTERY_KINDS = frozenset({SensorKind.CONTACT, SensorKind.BED, SensorKind.CHAIR, SensorKind.MOTION})
_OCCUPANCY_KINDS = frozenset({SensorKind.BED, SensorKind.CHAIR, SensorKind.MOTION})
_ALL_KINDS = frozenset(SensorKind)

KEYS: dict[str, KeySpec] = {
    "contact": KeySpec(frozenset({SensorKind.CONTACT}), Role.STATE, _not_contact),
    "occupancy": KeySpec(_OCCUPANCY_KINDS, Role.STATE, as_bool),
    "presence": KeySpec(_OCCUPANCY_KINDS, Role.STATE, as_bool),
    "power": KeySpec(frozenset({SensorKind.PLUG}), Role.POWER, _watts),
    "state": KeySpec(frozenset({SensorKind.PLUG}), Role.RELAY, _relay),
    # The Tuya TS0601 bed strap reports its raw pressure in the `illuminance` key.
    "illuminance": KeySpec(frozenset({SensorKind.BED, SensorKind.CHAIR}), Role.PRESSURE, _pressure),
    "battery": KeySpec(_ALL_KINDS, Role.HEALTH, _percent),
    "linkquality": KeySpec(_ALL_KINDS, Role.HEALTH, _lqi),
    # A battery sensor's cell voltage in mV; on a plug `voltage` is the mains in volts (see QUIET_KEYS).
    "voltage": KeySpec(_BATTERY_KINDS, Role.HEALTH, _millivolts),
    "tamper": KeySpec(_ALL_KINDS, Role.HEALTH, as_bool),
}

# Keys zigbee2mqtt commonly publishes that Hearth has no use for. Counted quietly (reason
# "ignored_key", logged at debug) so technicians can see them, but they never spam the log.
# `voltage` on a plug is mains volts, `illuminance` on a motion sensor is light level.
QUIET_KEYS = frozenset({
    "update", "update_available", "power_outage_count", "device_temperature", "temperature",
    "trigger_count", "energy", "current", "child_lock", "power_outage_memory", "power_on_behavior",
    "indicator_mode", "last_seen", "elapsed", "battery_low", "humidity", "pressure", "action",
    "illuminance_lux", "led_disabled_night", "auto_off", "consumer_connected", "no_occupancy_since",
    "voltage", "illuminance",
})
