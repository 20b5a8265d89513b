"""Pure parsers for zigbee2mqtt's bridge topics: the paired-device list and bridge events.

``<base>/bridge/devices`` is a retained JSON list with one object per device (the Coordinator
included); ``<base>/bridge/event`` carries ``{"type": ..., "data": {...}}`` when a device joins,
is interviewed, announces itself or leaves. Shapes as documented on zigbee2mqtt.io ("MQTT Topics
and Messages"); see tests/fixtures/zigbee2mqtt/README.md.

>>> devices, problems = parse_devices([{"ieee_address": "0x00158d0001a2b3c4", "type": "EndDevice",
...     "friendly_name": "front door", "definition": {"model": "MCCGQ11LM", "vendor": "Aqara"}}])
>>> devices[0]
PairedDevice(ieee_address='0x00158d0001a2b3c4', friendly_name='front door', model='MCCGQ11LM', vendor='Aqara', type='EndDevice')
>>> parse_event({"type": "device_leave", "data": {"ieee_address": "0x00158d0001a2b3c4", "friendly_name": "front door"}}).type
'device_leave'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sensors.zigbee2mqtt_keys import WrongType

IEEE_RE = re.compile(r"0x[0-9a-f]{16}")


def normalize_ieee(value: object) -> str | None:
    """A lower-case ``0x`` + 16 hex digits address, or None if ``value`` is not one."""
    if not isinstance(value, str):
        return None
    text = value.lower()
    return text if IEEE_RE.fullmatch(text) else None


@dataclass(frozen=True, slots=True)
class PairedDevice:
    ieee_address: str
    friendly_name: str
    model: str | None
    vendor: str | None
    type: str  # "Coordinator", "Router", "EndDevice" (or "Unknown" while interviewing)

    @property
    def is_coordinator(self) -> bool:
        return self.type == "Coordinator"


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    type: str
    ieee_address: str | None
    friendly_name: str | None
    status: str | None = None  # device_interview: "started", "successful", "failed"
    model: str | None = None
    vendor: str | None = None
    renamed_from: str | None = None  # device_renamed / rename response
    renamed_to: str | None = None


def _opt_str(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _definition(entry: dict) -> tuple[str | None, str | None]:
    definition = entry.get("definition")
    if not isinstance(definition, dict):  # null while unsupported or not yet interviewed
        return None, None
    return _opt_str(definition, "model"), _opt_str(definition, "vendor")


def parse_device(entry: object) -> PairedDevice:
    """One element of the bridge/devices list; raises WrongType saying what is missing."""
    if not isinstance(entry, dict):
        raise WrongType(f"device entry is {type(entry).__name__}, not an object")
    ieee = normalize_ieee(entry.get("ieee_address"))
    if ieee is None:
        raise WrongType(f"device entry has no valid ieee_address ({entry.get('ieee_address')!r:.40})")
    name = entry.get("friendly_name")
    if not isinstance(name, str) or not name:
        raise WrongType(f"device {ieee} has no friendly_name")
    model, vendor = _definition(entry)
    kind = entry.get("type")
    return PairedDevice(ieee, name, model, vendor, kind if isinstance(kind, str) else "Unknown")


def parse_devices(data: object) -> tuple[list[PairedDevice], list[str]]:
    """The whole bridge/devices list -> (devices, one problem string per unusable entry).

    Raises WrongType when ``data`` is not a list at all.
    """
    if not isinstance(data, list):
        raise WrongType(f"bridge/devices is {type(data).__name__}, not a list")
    devices: list[PairedDevice] = []
    problems: list[str] = []
    for index, entry in enumerate(data):
        try:
            devices.append(parse_device(entry))
        except WrongType as exc:
            problems.append(f"entry {index}: {exc}")
    return devices, problems


def parse_event(data: object) -> BridgeEvent:
    """One bridge/event payload; raises WrongType when it is not ``{"type": str, "data": {...}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise WrongType("bridge event is not an object with a string 'type'")
    body = data.get("data")
    if not isinstance(body, dict):
        raise WrongType(f"bridge event {data['type']!r:.40} has no 'data' object")
    model, vendor = _definition(body)
    return BridgeEvent(
        type=data["type"],
        ieee_address=normalize_ieee(body.get("ieee_address")),
        friendly_name=_opt_str(body, "friendly_name"),
        status=_opt_str(body, "status"),
        model=model,
        vendor=vendor,
        renamed_from=_opt_str(body, "from"),
        renamed_to=_opt_str(body, "to"),
    )


def parse_rename_response(data: object) -> BridgeEvent | None:
    """``bridge/response/device/rename``: ``{"data": {"from", "to"}, "status": "ok"}`` -> a rename, else None."""
    if not isinstance(data, dict) or data.get("status") != "ok" or not isinstance(data.get("data"), dict):
        return None
    body = data["data"]
    old, new = _opt_str(body, "from"), _opt_str(body, "to")
    if old is None or new is None:
        return None
    return BridgeEvent("device_renamed", normalize_ieee(old), None, renamed_from=old, renamed_to=new)
