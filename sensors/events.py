"""The one normalized event type every adapter produces and every later stage consumes.

Value convention (the same for every source, so later stages never care where a reading came from):
``True`` means *active*: a contact is OPEN, a bed/chair is OCCUPIED, motion is DETECTED, a plug is ON.
A plug may also carry its raw power as a ``float`` (watts); the routine core turns watts into on/off
with the sensor's own threshold and hysteresis (see :mod:`sensors.plug`).

>>> from datetime import datetime, timezone
>>> e = SensorEvent(datetime(2026, 1, 5, 7, 40, tzinfo=timezone.utc), "maindoor", SensorKind.CONTACT, True, "zigbee2mqtt")
>>> e.active
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SensorKind(StrEnum):
    """What physical thing a sensor senses."""

    CONTACT = "contact"  # door / window / cupboard reed switch; True = open
    BED = "bed"  # bed pressure strap or mat; True = occupied
    CHAIR = "chair"  # chair / couch pressure mat; True = occupied
    MOTION = "motion"  # PIR or mmWave presence; True = motion / presence
    PLUG = "plug"  # metering smart plug; True = appliance on, float = watts


@dataclass(frozen=True, slots=True)
class SensorEvent:
    """One state reading of one configured sensor.

    ``time`` is always timezone-aware. ``source`` names the adapter ("zigbee2mqtt", "ble",
    "ble-mqtt", "replay", "demo").
    """

    time: datetime
    sensor_id: str
    kind: SensorKind
    value: bool | float
    source: str

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError(f"SensorEvent time must be timezone-aware, got {self.time!r}")

    @property
    def active(self) -> bool:
        """The reading as on/off (a float is treated as on when above zero watts)."""
        return bool(self.value)


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """How a device is doing, apart from what it senses. ``None`` means "not reported in this message"."""

    time: datetime
    sensor_id: str
    source: str
    available: bool | None = None
    battery: float | None = None  # percent
    linkquality: float | None = None  # zigbee LQI 0..255 or BLE RSSI dBm (negative)
    voltage: float | None = None  # millivolts as zigbee2mqtt reports it
    tamper: bool | None = None


# Rejection reasons that are bookkeeping, not faults: counted and shown, never in the fault count.
NOT_FAULTS = frozenset({"ignored_key", "redelivered"})


@dataclass(frozen=True, slots=True)
class Rejection:
    """An input that was refused, with a short machine reason and a human detail.

    ``reason`` is a stable code technicians can count by ("not_json", "too_large",
    "unknown_device", "wrong_type", "unknown_key", "bad_csv_row", ...). ``detail`` never holds
    secrets and is cut to a few hundred characters.
    """

    time: datetime
    source: str
    reason: str
    detail: str
    device: str | None = None
