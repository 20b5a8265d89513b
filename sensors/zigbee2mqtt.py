"""zigbee2mqtt adapter: MQTT messages in, SensorEvent / DeviceHealth / Rejection out. Pure: no client.

The gateway owns the MQTT client, subscribes to :attr:`Zigbee2MqttAdapter.subscriptions` and
calls :meth:`Zigbee2MqttAdapter.handle` with every message. The adapter

* turns a device's state JSON into a :class:`SensorEvent` only when the state CHANGES
  (zigbee2mqtt re-publishes the whole state on every report; the first one after start emits),
  using the key table in :mod:`sensors.zigbee2mqtt_keys`;
* turns ``battery`` / ``linkquality`` / ``voltage`` / ``tamper`` and ``<name>/availability`` into
  :class:`DeviceHealth`;
* follows ``bridge/devices`` and ``bridge/event`` so a sensor bound by IEEE address survives a
  rename, and a sensor bound by friendly name learns its IEEE address;
* never raises on bad input: it returns a :class:`Rejection` with a stable reason and logs it once
  per (reason, device) on logger ``hearth.zigbee``.

Rejection reasons (``Rejection.reason``), for technicians:

=================== ================================================================================
``too_large``       payload over ``max_payload_bytes`` (32x that for bridge/devices), refused unread
``not_json``        not UTF-8 JSON (NaN / Infinity are not JSON);  ``not_object``: JSON but not an object
``too_deep``        JSON nested deeper than any zigbee2mqtt message (refused before parsing)
``wrong_type``      a known key with a value of the wrong type or range (``"contact": "yes"``,
                    ``"power": -2000``, ``"battery": 1e400``): only that key; the rest is still read
``no_value``        ``null`` for a key Hearth acts on (``contact``, ``occupancy``, ``power``): the
                    device has not reported it yet
``unknown_device``  a name with no binding that zigbee2mqtt has not listed
``unassigned_device`` a paired device no sensor is configured for
``unknown_key``     a key Hearth does not know (once per device and key)
``ignored_key``     a key zigbee2mqtt commonly sends that Hearth does not use (once, logged at debug)
``redelivered``     the same message again: one of the device's latest messages carrying a ``last_seen``
                    (zigbee2mqtt's ``advanced: last_seen``, on in the shipped config), byte for byte.
                    QoS 1 is at-least-once: a broker killed before it saved our acks sends them
                    again. Counted (not a fault), never a second event. An older stamp on new bytes is
                    a new reading (the clock stepped back)
``key_not_for_kind`` e.g. ``occupancy`` from a sensor configured as a contact: check its kind
``bad_availability`` availability that is neither online nor offline
``bad_device_entry`` an unusable element of bridge/devices
``foreign_topic``   a topic outside the base topic;  ``internal_error``: a bug, logged with its trace
=================== ================================================================================

A *retained* message (``handle(..., retained=True)``: the broker re-sends every retained topic on
each (re)subscribe) is a state sync, not news: it updates the sensor's last known value and its
health, but yields no :class:`SensorEvent`. Messages queued for Hearth's persistent session during a
restart arrive first and are not retained, so nothing real is lost. :meth:`Zigbee2MqttAdapter.restore_last_values`
seeds the last values from the store, so a repeat of the state before a restart is not a new event.

Until the retained ``bridge/devices`` has arrived, messages from names that cannot be resolved
yet are held (bounded) and replayed, with their own times, once it does.

>>> from datetime import datetime, timezone
>>> now = datetime(2026, 1, 5, 7, 40, tzinfo=timezone.utc)
>>> z = Zigbee2MqttAdapter([ZigbeeBinding("front_door", SensorKind.CONTACT, "front door", None)])
>>> z.subscriptions
['zigbee2mqtt/#']
>>> out = z.handle("zigbee2mqtt/front door", b'{"contact": false, "battery": 97}', now)
>>> out.events
[SensorEvent(time=datetime.datetime(2026, 1, 5, 7, 40, tzinfo=datetime.timezone.utc), sensor_id='front_door', kind=<SensorKind.CONTACT: 'contact'>, value=True, source='zigbee2mqtt')]
>>> z.handle("zigbee2mqtt/front door", b'{"contact": false, "battery": 96}', now).events
[]
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind
from sensors.payload import PayloadError, load_json, safe_text
from sensors.plug import PlugSwitch
from sensors.zigbee2mqtt_bridge import (
    BridgeEvent,
    PairedDevice,
    normalize_ieee,
    parse_devices,
    parse_event,
    parse_rename_response,
)
from sensors.zigbee2mqtt_keys import KEYS, NULL_REFUSED, QUIET_KEYS, KeySpec, Role, WrongType

__all__ = ["AdapterOutput", "PairedDevice", "Zigbee2MqttAdapter", "ZigbeeBinding"]

SOURCE = "zigbee2mqtt"
log = logging.getLogger("hearth.zigbee")

# How loudly the first rejection of each (reason, device) is logged; anything else is a warning.
_LOG_LEVEL = {"ignored_key": logging.DEBUG, "unknown_key": logging.INFO, "unassigned_device": logging.INFO,
              "no_value": logging.INFO, "redelivered": logging.INFO}
# The bridge topics Hearth reads; the rest (info, logging, groups, responses...) carry nothing for it.
_HANDLED_BRIDGE = ("devices", "event", "response/device/rename", "state")
_PENDING_MAX = 256  # messages held back until bridge/devices tells us which IEEE address they are
_DETAIL_MAX = 200
# bridge/devices carries every device's full definition (exposes, options): several kB per device,
# so a home's list can pass the per-message limit; it gets this many times the limit instead.
_DEVICE_LIST_FACTOR = 32
_PENDING_BYTES = 1_000_000  # and at most this many bytes of them
# messages per sensor remembered to know a repeat: more than a broker can send again after a crash
# (the gateway acks within its in-flight window of 20)
_REPEAT_MEMORY = 64
_MEMORY_MAX = 4096  # caps the once-only bookkeeping, so a flood of made-up names cannot grow it forever


@dataclass(frozen=True, slots=True)
class ZigbeeBinding:
    """One configured sensor's zigbee2mqtt device, built by the gateway from config.

    Give ``ieee_address`` (preferred: survives renames) or ``friendly_name`` (learns its IEEE
    address from ``bridge/devices``) or both.
    """

    sensor_id: str
    kind: SensorKind
    friendly_name: str | None
    ieee_address: str | None
    on_above_w: float = 10.0
    off_below_w: float = 5.0

    def __post_init__(self) -> None:
        if self.friendly_name is None and self.ieee_address is None:
            raise ValueError(f"sensor {self.sensor_id}: give friendly_name or ieee_address")
        if self.ieee_address is not None:
            ieee = normalize_ieee(self.ieee_address)
            if ieee is None:
                raise ValueError(f"sensor {self.sensor_id}: {self.ieee_address!r} is not 0x + 16 hex digits")
            object.__setattr__(self, "ieee_address", ieee)
        if self.off_below_w > self.on_above_w:
            raise ValueError(f"sensor {self.sensor_id}: off_below_w must not exceed on_above_w")


@dataclass(slots=True)
class AdapterOutput:
    events: list[SensorEvent] = field(default_factory=list)
    health: list[DeviceHealth] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Sensor:
    """What the adapter remembers about one bound sensor."""

    binding: ZigbeeBinding
    ieee: str | None  # configured, or learned from the bridge
    plug: PlugSwitch
    last_value: bool | None = None
    # digests of the latest messages that carried a last_seen: a repeat is one of these bytes again
    recent: deque[bytes] = field(default_factory=lambda: deque(maxlen=_REPEAT_MEMORY))
    relay: bool | None = None
    pressure: float | None = None

    @property
    def id(self) -> str:
        return self.binding.sensor_id


def last_seen_s(value: object) -> float | None:
    """zigbee2mqtt's ``last_seen`` as epoch seconds: ISO 8601 (``ISO_8601``, ``ISO_8601_local``) or epoch
    milliseconds (``epoch``); ``None`` when absent or unreadable (then no repeat check is made).

    >>> last_seen_s("2026-03-02T07:00:00.250Z"), last_seen_s(1772434800250), last_seen_s("soon")
    (1772434800.25, 1772434800.25, None)
    """
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) / 1000.0
    return None


class _Bad(Exception):
    """Internal: a message to refuse, with its reason code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _load_json(payload: bytes) -> object:
    try:  # the size was checked by _dispatch, with the larger limit for bridge/devices
        return load_json(payload, max_bytes=len(payload))
    except PayloadError as exc:
        raise _Bad(exc.reason, exc.detail) from None


class Zigbee2MqttAdapter:
    def __init__(self, bindings: Iterable[ZigbeeBinding], base_topic: str = "zigbee2mqtt",
                 max_payload_bytes: int = 65536):
        self.base_topic = base_topic.rstrip("/")
        self._prefix = self.base_topic + "/"
        self.max_payload_bytes = max_payload_bytes
        self._sensors: dict[str, _Sensor] = {}
        self._by_ieee: dict[str, _Sensor] = {}  # configured and learned addresses
        self._by_name: dict[str, _Sensor] = {}  # configured friendly names
        # paired devices Hearth uses but that are not sensors (night lights it switches): never listed
        # as "paired with no sensor configured"
        self.not_sensors: set[str] = set()
        for b in bindings:
            if b.sensor_id in self._sensors:
                raise ValueError(f"sensor {b.sensor_id} is bound twice")
            sensor = _Sensor(b, b.ieee_address, PlugSwitch(b.on_above_w, b.off_below_w))
            self._sensors[b.sensor_id] = sensor
            if b.ieee_address is not None:
                if b.ieee_address in self._by_ieee:
                    raise ValueError(f"IEEE address {b.ieee_address} is bound to two sensors")
                self._by_ieee[b.ieee_address] = sensor
            if b.friendly_name is not None:
                if b.friendly_name in self._by_name:
                    raise ValueError(f"friendly name {b.friendly_name!r} is bound to two sensors")
                self._by_name[b.friendly_name] = sensor
        self._paired: dict[str, PairedDevice] = {}
        self._name_to_ieee: dict[str, str] = {}
        self._devices_seen = False
        self.bridge_offline_since: datetime | None = None  # when zigbee2mqtt said it went offline
        self._pending: list[tuple[str, bytes, datetime, bool]] = []
        self._pending_bytes = 0
        self._logged: set[tuple[str, str | None]] = set()
        self._key_rejected: set[tuple[str, str]] = set()
        self.counts: Counter[str] = Counter()  # every refused input, by reason
        self.key_counts: Counter[tuple[str, str]] = Counter()  # (sensor_id, key) not used, every time
        self._roles: dict[Role, Callable[[_Sensor, bool | float, datetime, AdapterOutput], None]] = {
            Role.STATE: self._on_state, Role.POWER: self._on_power, Role.RELAY: self._on_relay,
            Role.PRESSURE: self._on_pressure,
        }
        self._retained = False  # whether the message being handled is a retained one (a state sync)
        self._events: dict[str, Callable[[BridgeEvent, datetime, AdapterOutput], None]] = {
            "device_joined": self._on_joined, "device_announce": self._on_announce,
            "device_interview": self._on_interview, "device_leave": self._on_leave,
            "device_renamed": self._on_renamed,
        }

    # ---- public API -------------------------------------------------------------------------

    @property
    def subscriptions(self) -> list[str]:
        return [f"{self.base_topic}/#"]

    def handle(self, topic: str, payload: bytes, now: datetime, retained: bool = False) -> AdapterOutput:
        """Turn one MQTT message into events, health, rejections and notes. Never raises on input.

        ``now`` must be timezone-aware (the gateway's receive time); a naive one is a caller bug.
        ``retained``: the broker's retain flag (``MqttMessage.retain``); a retained state message
        updates what the adapter knows but yields no event (see the module's docstring).
        """
        if now.tzinfo is None:
            raise ValueError("handle() needs a timezone-aware time")
        out = AdapterOutput()
        try:
            self._dispatch(topic, bytes(payload), now, out, retained)
        except Exception:  # a bug here must not take the gateway down; it is logged with its trace
            log.exception("zigbee2mqtt adapter failed on topic %r", topic[:100])
            self._reject(out, now, "internal_error", f"adapter error on {topic[:100]}", None)
        finally:
            self._retained = False
        return out

    def restore_last_values(self, values: Mapping[str, bool]) -> None:
        """Seed each sensor's last known state (sensor id -> True = active), e.g. from the store at
        start, so that a repeat of the state before a restart is not a new event. Ids of sensors not
        bound to this adapter are ignored."""
        for sensor_id, value in values.items():
            sensor = self._sensors.get(sensor_id)
            if sensor is None:
                continue
            sensor.last_value = bool(value)
            if sensor.binding.kind is SensorKind.PLUG:
                sensor.plug.state = bool(value)  # the hysteresis goes on from the same side

    def last_value(self, sensor_id: str) -> bool | None:
        """A sensor's last known state (True = active), None if not known yet."""
        sensor = self._sensors.get(sensor_id)
        return sensor.last_value if sensor else None

    def paired_devices(self) -> list[PairedDevice]:
        """Devices zigbee2mqtt has paired (from bridge/devices and bridge events), not the Coordinator."""
        return [d for d in self._paired.values() if not d.is_coordinator]

    def unassigned_devices(self) -> list[PairedDevice]:
        """Paired devices no configured sensor is bound to."""
        return [d for d in self.paired_devices() if d.ieee_address not in self._by_ieee
                and d.ieee_address not in self.not_sensors]

    def learned_ieee(self, sensor_id: str) -> str | None:
        """The IEEE address a sensor is bound to now (configured or learned), if known."""
        sensor = self._sensors.get(sensor_id)
        return sensor.ieee if sensor else None

    def last_pressure(self, sensor_id: str) -> float | None:
        """A bed/chair strap's last raw pressure (the TS0601 strap reports it as `illuminance`)."""
        sensor = self._sensors.get(sensor_id)
        return sensor.pressure if sensor else None

    def relay_on(self, sensor_id: str) -> bool | None:
        """A plug's last relay state (True = socket switched on), or None if not reported."""
        sensor = self._sensors.get(sensor_id)
        return sensor.relay if sensor else None

    # ---- routing ----------------------------------------------------------------------------

    def _dispatch(self, topic: str, payload: bytes, now: datetime, out: AdapterOutput,
                  retained: bool = False) -> None:
        self._retained = retained
        if not topic.startswith(self._prefix):
            self._reject(out, now, "foreign_topic", f"topic {topic[:100]!r} is not under {self._prefix}", None)
            return
        rest = topic[len(self._prefix):]
        parts = rest.split("/")
        limit = self.max_payload_bytes * (_DEVICE_LIST_FACTOR if rest == "bridge/devices" else 1)
        if len(payload) > limit:
            self._reject(out, now, "too_large", f"{len(payload)} bytes > {limit} on {topic[:100]}", rest[:100])
            return
        if not payload:
            return  # an empty retained message only clears the topic on the broker
        if parts[0] == "bridge":
            self._bridge("/".join(parts[1:]), payload, now, out)
        elif "set" in parts[1:] or "get" in parts[1:]:
            return  # commands to devices (ours or anyone's), not reports
        elif len(parts) > 1 and parts[-1] == "availability":
            self._device(topic, "/".join(parts[:-1]), payload, now, out, self._availability)
        else:
            self._device(topic, rest, payload, now, out, self._state)

    def _device(self, topic: str, name: str, payload: bytes, now: datetime, out: AdapterOutput,
                parse: Callable[[_Sensor, bytes, datetime, AdapterOutput], None]) -> None:
        sensor = self._resolve(name)
        if sensor is not None:
            try:
                parse(sensor, payload, now, out)
            except _Bad as bad:
                self._reject(out, now, bad.reason, bad.detail, sensor.id)
            return
        if (not self._devices_seen and len(self._pending) < _PENDING_MAX
                and self._pending_bytes + len(payload) <= _PENDING_BYTES):
            # The retained bridge/devices may arrive after a device's retained topics: hold them.
            self._pending.append((topic, payload, now, self._retained))
            self._pending_bytes += len(payload)
            return
        ieee = self._name_to_ieee.get(name) or normalize_ieee(name)
        if ieee is not None and ieee in self._paired:
            self._reject(out, now, "unassigned_device",
                         f"{name!r} ({ieee}) is paired but no sensor is configured for it", name[:100])
        else:
            self._reject(out, now, "unknown_device",
                         f"no sensor is configured for {name!r} and zigbee2mqtt has not listed it", name[:100])

    def _resolve(self, name: str) -> _Sensor | None:
        ieee = self._name_to_ieee.get(name) or normalize_ieee(name)
        if ieee is not None and ieee in self._by_ieee:
            return self._by_ieee[ieee]
        sensor = self._by_name.get(name)
        if sensor is None:
            return None
        if sensor.ieee is not None and ieee is not None and sensor.ieee != ieee:
            return None  # the bound device was renamed away and another device took the name
        if ieee is not None:
            self._learn(sensor, ieee, None)
        return sensor

    def _learn(self, sensor: _Sensor, ieee: str, out: AdapterOutput | None) -> None:
        if sensor.ieee is None and ieee not in self._by_ieee:
            sensor.ieee = ieee
            self._by_ieee[ieee] = sensor
            if out is not None:
                out.notes.append(f"sensor {sensor.id} is zigbee device {ieee}")

    # ---- device topics ----------------------------------------------------------------------

    def _state(self, sensor: _Sensor, payload: bytes, now: datetime, out: AdapterOutput) -> None:
        data = _load_json(payload)
        if not isinstance(data, dict):
            raise _Bad("not_object", f"state is JSON {type(data).__name__}, not an object")
        if last_seen_s(data.get("last_seen")) is not None:
            # The same bytes, stamp included, again: a repeat. An OLDER stamp on new bytes is a new
            # reading: the Pi's clock (zigbee2mqtt's too) stepped back; judged "older" it was dropped,
            # every sensor unheard until the clock caught up.
            mark = hashlib.blake2b(payload, digest_size=16).digest()
            if mark in sensor.recent:
                self._reject(out, now, "redelivered", f"last_seen {data['last_seen']!s:.40}: the same message as "
                             "one already read, a repeat, not a new reading", sensor.id)
                return
            sensor.recent.append(mark)
        health: dict[str, bool | float] = {}
        for key, value in data.items():
            spec = KEYS.get(key)
            if value is None and (spec is None or spec.role not in NULL_REFUSED
                                  or sensor.binding.kind not in spec.kinds):
                continue  # zigbee2mqtt publishes null for a value it has not received yet
            if spec is None or sensor.binding.kind not in spec.kinds:
                self._unused_key(sensor, key, spec, now, out)
                continue
            if value is None:
                self._reject(out, now, "no_value", f"{key} is null: zigbee2mqtt has no reading from the "
                                                   "device yet (just paired, or it has not reported)", sensor.id)
                continue
            try:
                reading = spec.convert(value)
            except WrongType as exc:
                self._reject(out, now, "wrong_type", f"{key}: {exc}", sensor.id)
                continue
            if spec.role is Role.HEALTH:
                health[key] = reading
            else:
                self._roles[spec.role](sensor, reading, now, out)
        if health:
            out.health.append(DeviceHealth(now, sensor.id, SOURCE, **health))

    def _unused_key(self, sensor: _Sensor, key: str, spec: KeySpec | None, now: datetime,
                    out: AdapterOutput) -> None:
        if (sensor.id, key) in self.key_counts or len(self.key_counts) < _MEMORY_MAX:
            self.key_counts[(sensor.id, key)] += 1
        if key in QUIET_KEYS:
            reason, detail = "ignored_key", f"{key!r:.60} is not used by Hearth"
        elif spec is not None:
            reason = "key_not_for_kind"
            detail = f"{key!r} does not apply to a {sensor.binding.kind} sensor: is its kind right?"
        else:
            reason, detail = "unknown_key", f"{key!r:.60} is not a key Hearth knows"
        if (sensor.id, key) not in self._key_rejected and len(self._key_rejected) < _MEMORY_MAX:
            self._key_rejected.add((sensor.id, key))
            self._reject(out, now, reason, detail, sensor.id)

    def _on_state(self, sensor: _Sensor, value: bool | float, now: datetime, out: AdapterOutput) -> None:
        if value != sensor.last_value:
            sensor.last_value = bool(value)
            if not self._retained:  # a retained message is the broker's copy of old state, not news
                out.events.append(SensorEvent(now, sensor.id, sensor.binding.kind, bool(value), SOURCE))

    def _on_power(self, sensor: _Sensor, watts: bool | float, now: datetime, out: AdapterOutput) -> None:
        self._on_state(sensor, sensor.plug.update(float(watts)), now, out)

    def _on_relay(self, sensor: _Sensor, on: bool | float, now: datetime, out: AdapterOutput) -> None:
        # The relay is the socket, not the appliance: a kettle on a switched-on socket is still off.
        if on != sensor.relay:
            sensor.relay = bool(on)
            if on:
                out.notes.append(f"sensor {sensor.id}: plug relay is ON")
            else:
                out.notes.append(f"sensor {sensor.id}: plug relay is OFF (the appliance cannot draw power)")

    def _on_pressure(self, sensor: _Sensor, value: bool | float, now: datetime, out: AdapterOutput) -> None:
        sensor.pressure = float(value)

    def _availability(self, sensor: _Sensor, payload: bytes, now: datetime, out: AdapterOutput) -> None:
        text = payload.strip()
        if text in (b"online", b"offline"):  # legacy_availability_payload: plain text
            state: object = text.decode()
        else:
            data = _load_json(payload)
            state = data.get("state") if isinstance(data, dict) else None
        if state not in ("online", "offline"):
            raise _Bad("bad_availability", f'availability is not {{"state": "online"|"offline"}}: {payload[:40]!r}')
        out.health.append(DeviceHealth(now, sensor.id, SOURCE, available=state == "online"))

    # ---- bridge topics ----------------------------------------------------------------------

    def _bridge(self, sub: str, payload: bytes, now: datetime, out: AdapterOutput) -> None:
        if sub not in _HANDLED_BRIDGE:
            return  # bridge/info, logging, groups, extensions, other responses: not for Hearth
        try:
            if sub == "state":
                self._bridge_state(payload, now)
                return
            data = _load_json(payload)
            if sub == "devices":
                self._on_devices(data, now, out)
            elif sub == "event":
                event = parse_event(data)
                handler = self._events.get(event.type)
                if handler is not None:  # newer zigbee2mqtt may add event types: not ours to refuse
                    handler(event, now, out)
            else:
                renamed = parse_rename_response(data)
                if renamed is not None:
                    self._on_renamed(renamed, now, out)
        except _Bad as bad:
            self._reject(out, now, bad.reason, bad.detail, f"bridge/{sub}")
        except WrongType as exc:
            self._reject(out, now, "wrong_type", str(exc), f"bridge/{sub}")

    def _bridge_state(self, payload: bytes, now: datetime) -> None:
        """zigbee2mqtt's own liveness (its last will is a retained ``offline``): while it is offline no
        Zigbee sensor reaches Hearth, and the home would only look still. Kept in
        :attr:`bridge_offline_since` for the gateway's problems (console, status, the hub)."""
        text = payload.strip()
        state = text.decode() if text in (b"online", b"offline") else None  # legacy plain text
        if state is None:
            data = _load_json(payload)
            state = data.get("state") if isinstance(data, dict) else None
        if state not in ("online", "offline"):
            raise _Bad("bad_availability", f'bridge state is not {{"state": "online"|"offline"}}: {payload[:40]!r}')
        if state == "offline" and self.bridge_offline_since is None:
            self.bridge_offline_since = now
            log.error("zigbee2mqtt reports itself offline: no Zigbee sensor reaches Hearth until it is back")
        elif state == "online" and self.bridge_offline_since is not None:
            self.bridge_offline_since = None
            log.warning("zigbee2mqtt is online again")

    def _on_devices(self, data: object, now: datetime, out: AdapterOutput) -> None:
        devices, problems = parse_devices(data)
        for problem in problems:
            self._reject(out, now, "bad_device_entry", problem, "bridge/devices")
        self._paired = {d.ieee_address: d for d in devices}
        self._name_to_ieee = {d.friendly_name: d.ieee_address for d in devices}
        for device in devices:
            sensor = self._by_name.get(device.friendly_name)
            if sensor is not None:
                self._learn(sensor, device.ieee_address, out)
        unassigned = self.unassigned_devices()
        if unassigned:
            out.notes.append("paired zigbee devices with no sensor configured: " + ", ".join(
                f"{d.friendly_name!r} {d.ieee_address} ({d.vendor or '?'} {d.model or '?'})" for d in unassigned))
        missing = [s.id for s in self._sensors.values() if s.ieee is None or s.ieee not in self._paired]
        if missing:
            out.notes.append("configured zigbee sensors not paired with zigbee2mqtt: " + ", ".join(missing))
        self._devices_seen = True
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        retained = self._retained
        for topic, payload, then, was_retained in pending:
            self._dispatch(topic, payload, then, out, was_retained)
        self._retained = retained

    def _remember(self, event: BridgeEvent) -> PairedDevice | None:
        if event.ieee_address is None:
            return None
        old = self._paired.get(event.ieee_address)
        name = event.friendly_name or (old.friendly_name if old else event.ieee_address)
        device = PairedDevice(event.ieee_address, name, event.model or (old.model if old else None),
                              event.vendor or (old.vendor if old else None), old.type if old else "Unknown")
        if old is not None and old.friendly_name != name:
            self._name_to_ieee.pop(old.friendly_name, None)
        self._paired[device.ieee_address] = device
        self._name_to_ieee[name] = device.ieee_address
        sensor = self._by_name.get(name)
        if sensor is not None:
            self._learn(sensor, device.ieee_address, None)
        return device

    def _label(self, event: BridgeEvent) -> str:
        sensor = self._by_ieee.get(event.ieee_address or "")
        who = f"{event.friendly_name!r} {event.ieee_address}"
        return f"{who} (sensor {sensor.id})" if sensor else who

    def _on_joined(self, event: BridgeEvent, now: datetime, out: AdapterOutput) -> None:
        self._remember(event)
        out.notes.append(f"zigbee device joined: {self._label(event)}")

    def _on_announce(self, event: BridgeEvent, now: datetime, out: AdapterOutput) -> None:
        self._remember(event)
        out.notes.append(f"zigbee device announced itself (powered up or rejoined): {self._label(event)}")

    def _on_interview(self, event: BridgeEvent, now: datetime, out: AdapterOutput) -> None:
        device = self._remember(event)
        what = f" as {device.vendor} {device.model}" if device and device.model else ""
        advice = " (re-pair it)" if event.status == "failed" else ""
        out.notes.append(f"zigbee device interview {event.status}{what}: {self._label(event)}{advice}")

    def _on_leave(self, event: BridgeEvent, now: datetime, out: AdapterOutput) -> None:
        label = self._label(event)
        sensor = self._by_ieee.get(event.ieee_address or "")
        device = self._paired.pop(event.ieee_address or "", None)
        if device is not None:
            self._name_to_ieee.pop(device.friendly_name, None)
        if sensor is not None:
            out.health.append(DeviceHealth(now, sensor.id, SOURCE, available=False))
            out.notes.append(f"configured zigbee sensor {sensor.id} left the network: re-pair it ({label})")
        else:
            out.notes.append(f"zigbee device left the network: {label}")

    def _on_renamed(self, event: BridgeEvent, now: datetime, out: AdapterOutput) -> None:
        old, new = event.renamed_from, event.renamed_to
        if old is None or new is None:
            return
        ieee = normalize_ieee(old) or self._name_to_ieee.get(old)
        if ieee is None:
            return
        self._name_to_ieee.pop(old, None)
        if ieee in self._paired:  # `old` may be the IEEE address itself: drop the previous name too
            self._name_to_ieee.pop(self._paired[ieee].friendly_name, None)
            self._paired[ieee] = replace(self._paired[ieee], friendly_name=new)
        self._name_to_ieee[new] = ieee
        sensor = self._by_ieee.get(ieee)
        suffix = f" (sensor {sensor.id} follows it)" if sensor else ""
        out.notes.append(f"zigbee device {ieee} renamed {old!r} -> {new!r}{suffix}")

    # ---- rejections -------------------------------------------------------------------------

    def _reject(self, out: AdapterOutput, now: datetime, reason: str, detail: str, device: str | None) -> None:
        detail = safe_text(detail, _DETAIL_MAX)
        device = None if device is None else safe_text(device, _DETAIL_MAX)
        out.rejections.append(Rejection(now, SOURCE, reason, detail, device))
        self.counts[reason] += 1
        if (reason, device) not in self._logged and len(self._logged) < _MEMORY_MAX:
            self._logged.add((reason, device))
            log.log(_LOG_LEVEL.get(reason, logging.WARNING),
                    "zigbee2mqtt input refused (%s) from %s: %s [further ones are counted, not logged]",
                    reason, device or "?", detail)
