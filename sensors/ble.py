"""BLE sensors: BTHome adverts -> SensorEvent / DeviceHealth / Rejection, and a resilient bleak scanner.

Three layers, each testable alone:

* :class:`BleDecoder` - pure and synchronous: (MAC, service data, RSSI, time) -> :class:`BleOutput`.
  It maps a MAC to the configured sensor (:class:`BleBinding`), decrypts with that sensor's bind key,
  drops repeats (same bytes / same packet id within a few seconds), refuses replays (an encryption
  counter that does not increase) and counts every refusal by a stable reason.
* :class:`BleAdapter` - the same, fed bleak's own ``BLEDevice`` / ``AdvertisementData``.
* :class:`BleScanner` - runs ``BleakScanner`` (passive where BlueZ allows it) and puts non-empty
  outputs on a bounded ``asyncio.Queue``. No adapter, BlueZ restarting, adapter reset: it never
  raises; :attr:`BleScanner.status` says what is happening and it retries with exponential backoff.

Value convention (sensors.events): True = open / occupied / motion / on. BTHome's opening, door and
window objects already use 1 = open, so they pass through unchanged (zigbee2mqtt's ``contact`` is the
inverse; that is the zigbee adapter's business). Plugs carry watts as a float; the routine core
applies the sensor's :class:`sensors.plug.PlugSwitch` thresholds.

>>> from datetime import datetime, timezone
>>> d = BleDecoder([BleBinding("frontdoor", SensorKind.CONTACT, "a4:c1:38:8d:18:b2")])
>>> out = d.handle("A4:C1:38:8D:18:B2", bytes.fromhex("402d01"), -60, datetime(2026, 1, 5, tzinfo=timezone.utc))
>>> out.events[0].sensor_id, out.events[0].value
('frontdoor', True)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from sensors.bthome import (
    BTHOME_UUID,
    BTHomeError,
    BTHomePacket,
    Reading,
    format_mac,
    mac_bytes,
    parse_service_data,
)
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind
from sensors.payload import safe_text
from sensors.readings import RANGES, WrongType, as_number

if TYPE_CHECKING:
    from gateway.config import SensorConfig

log = logging.getLogger(__name__)

# Which BTHome objects tell each kind of sensor's state (first match in the advert wins).
KIND_READINGS: dict[SensorKind, tuple[str, ...]] = {
    SensorKind.CONTACT: ("opening", "door", "window", "garage_door"),
    SensorKind.BED: ("occupancy",),
    SensorKind.CHAIR: ("occupancy",),
    SensorKind.MOTION: ("motion", "occupancy", "moving"),
    SensorKind.PLUG: ("power", "power_on"),
}
REPEAT_WINDOW_S = 10.0  # a BTHome device re-sends one advert several times within a second or two
COUNTER_WRAP_MARGIN = 0x10000  # a counter this close to 2**32 may wrap round to a small number
REPORTED_UNKNOWN_MAX = 256  # distinct unknown MACs reported once each (neighbours' sensors exist)
# Readings checked against sensors.readings.RANGES (the zigbee2mqtt adapter and replay use the same).
CHECKED_READINGS: dict[str, str] = {"power": "watts", "battery": "percent"}


@dataclass(frozen=True, slots=True)
class BleBinding:
    """One configured BLE sensor: which Hearth sensor a MAC is, and its BTHome bind key if encrypted."""

    sensor_id: str
    kind: SensorKind
    mac: str
    bindkey: bytes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mac", format_mac(mac_bytes(self.mac)))
        if self.bindkey is not None and len(self.bindkey) != 16:
            raise ValueError(f"sensor {self.sensor_id}: a BTHome bind key is 16 bytes, got {len(self.bindkey)}")

    def __repr__(self) -> str:  # never print the key
        key = "set" if self.bindkey else "none"
        return f"BleBinding({self.sensor_id!r}, {self.kind.value}, {self.mac}, bindkey={key})"


def bindings_from_config(sensors: Iterable[SensorConfig]) -> list[BleBinding]:
    """The BLE bindings of a validated config's sensors (those with a ``ble:`` source)."""
    return [BleBinding(s.id, s.kind, s.ble.mac, s.ble.key_bytes()) for s in sensors if s.ble is not None]


@dataclass(frozen=True, slots=True)
class BleOutput:
    events: tuple[SensorEvent, ...] = ()
    health: tuple[DeviceHealth, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    packet: BTHomePacket | None = None  # the decoded advert, for technicians' tools

    def __bool__(self) -> bool:
        return bool(self.events or self.health or self.rejections)


@dataclass(slots=True)
class _DeviceState:
    last_data: bytes = b""
    last_mono: float = float("-inf")
    last_packet_id: int | None = None
    counter: int | None = None


class BleDecoder:
    """Pure BTHome-to-event mapping with per-device repeat and replay state. Not thread-safe."""

    def __init__(self, bindings: Iterable[BleBinding], repeat_window_s: float = REPEAT_WINDOW_S):
        self.bindings: dict[str, BleBinding] = {}
        for b in bindings:
            if b.mac in self.bindings:
                raise ValueError(f"MAC {b.mac} is bound to both {self.bindings[b.mac].sensor_id} and {b.sensor_id}")
            self.bindings[b.mac] = b
        self.repeat_window_s = repeat_window_s
        self.counts: Counter[str] = Counter()  # rejection reasons, plus "accepted" and "repeats"
        self._state: dict[str, _DeviceState] = {}
        self._unknown_reported: set[str] = set()
        self._logged: set[tuple[str, str]] = set()

    # ---- counters kept across restarts (so a replay right after a reboot is still refused) ----
    def counters(self) -> dict[str, int]:
        """Last accepted encryption counter per MAC, for the gateway to store."""
        return {mac: s.counter for mac, s in self._state.items() if s.counter is not None}

    def restore_counters(self, saved: dict[str, int]) -> None:
        """Take back :meth:`counters`. A damaged entry (not a MAC, not a 32-bit counter) is skipped and
        logged, never raised: the rest still protects against replays."""
        for mac, counter in (saved.items() if isinstance(saved, dict) else ()):
            try:
                key = format_mac(mac_bytes(mac))
                if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter <= 0xFFFFFFFF:
                    raise BTHomeError("replayed", f"counter {counter!r:.40} is not a 32-bit count")
            except (BTHomeError, TypeError, AttributeError) as exc:
                log.warning("stored BLE counter skipped: %s", exc)
                continue
            self._state.setdefault(key, _DeviceState()).counter = counter

    def handle(self, mac: str, data: bytes, rssi: int | None, now: datetime, source: str = "ble",
               mono: float | None = None) -> BleOutput:
        """Decode one BTHome advert heard from ``mac``. Never raises for any bytes."""
        mono = time.monotonic() if mono is None else mono
        try:
            mac = format_mac(mac_bytes(mac))
        except BTHomeError as exc:
            return self._reject(now, source, exc.reason, exc.detail, None, mac)
        binding = self.bindings.get(mac)
        if binding is None:
            if mac in self._unknown_reported or len(self._unknown_reported) >= REPORTED_UNKNOWN_MAX:
                self.counts["unknown_device"] += 1  # counted, but reported only the first time
                return BleOutput()
            self._unknown_reported.add(mac)
            return self._reject(now, source, "unknown_device", f"BTHome sensor {mac} is not in the config", None, mac)
        state = self._state.setdefault(mac, _DeviceState())
        if data and data == state.last_data and (binding.bindkey or mono - state.last_mono < self.repeat_window_s):
            self.counts["repeats"] += 1  # the same advert again (encrypted: same counter, so always a repeat)
            return BleOutput()
        try:
            packet = parse_service_data(data, mac, binding.bindkey)
        except BTHomeError as exc:
            return self._reject(now, source, exc.reason, exc.detail, binding.sensor_id, mac)
        if packet.counter is not None and state.counter is not None and not _newer(packet.counter, state.counter):
            return self._reject(now, source, "replayed",
                                f"counter {packet.counter} is not above the last accepted {state.counter}",
                                binding.sensor_id, mac)
        pid = packet.packet_id
        if pid is not None and pid == state.last_packet_id and mono - state.last_mono < self.repeat_window_s:
            self.counts["repeats"] += 1
            return BleOutput()
        state.last_data, state.last_mono, state.last_packet_id = data, mono, pid
        if packet.counter is not None:
            state.counter = packet.counter
        self.counts["accepted"] += 1
        return self._output(binding, packet, rssi, now, source, mac)

    def _output(self, binding: BleBinding, packet: BTHomePacket, rssi: int | None, now: datetime,
                source: str, mac: str) -> BleOutput:
        events: tuple[SensorEvent, ...] = ()
        refused: list[str] = []
        reading = _checked(packet.first(*KIND_READINGS.get(binding.kind, ())), refused)
        if reading is not None and isinstance(reading.value, bool | int | float):
            value: bool | float = reading.value if isinstance(reading.value, bool) else float(reading.value)
            events = (SensorEvent(now, binding.sensor_id, binding.kind, value, source),)
        battery = _checked(packet.first("battery"), refused)
        volts = next((r for r in packet.readings if r.name == "voltage" and r.unit == "V" and r.object_id == 0x0C), None)
        tamper = packet.first("tamper")
        health = (DeviceHealth(
            now, binding.sensor_id, source, available=True,
            battery=float(battery.value) if battery is not None else None,  # type: ignore[arg-type]
            linkquality=float(rssi) if rssi is not None else None,
            voltage=round(float(volts.value) * 1000.0, 1) if volts is not None else None,  # type: ignore[arg-type]
            tamper=bool(tamper.value) if tamper is not None else None,
        ),)
        rejections: tuple[Rejection, ...] = tuple(
            r for detail in refused for r in self._reject(now, source, "wrong_type", detail, binding.sensor_id,
                                                          mac).rejections)
        if packet.stopped_at is not None:  # readings before an unknown id are valid; the rest is lost
            rejections += self._reject(now, source, "unknown_object_id",
                                      f"object id 0x{packet.stopped_at:02x}: later objects skipped "
                                      "(newer BTHome firmware than this parser?)", binding.sensor_id, mac).rejections
        return BleOutput(events, health, rejections, packet)

    def _reject(self, now: datetime, source: str, reason: str, detail: str, sensor_id: str | None,
                mac: str) -> BleOutput:
        self.counts[reason] += 1
        key = (mac, reason)
        level = logging.WARNING if key not in self._logged else logging.DEBUG
        if len(self._logged) < 4096:
            self._logged.add(key)
        log.log(level, "BLE %s (%s) rejected: %s: %s", mac, sensor_id or "unconfigured", reason, detail)
        return BleOutput(rejections=(Rejection(now, source, reason, safe_text(detail), sensor_id or safe_text(mac, 40)),))


def _checked(reading: Reading | None, refused: list[str]) -> Reading | None:
    """``reading`` if it is within its range in :data:`sensors.readings.RANGES`, else None (and why, in ``refused``)."""
    quantity = CHECKED_READINGS.get(reading.name) if reading is not None else None
    if reading is None or quantity is None or isinstance(reading.value, bool):
        return reading
    try:
        as_number(reading.value, RANGES[quantity])
    except WrongType as exc:
        refused.append(f"{reading.name}: {exc}")
        return None
    return reading


def _newer(counter: int, last: int) -> bool:
    """Strictly increasing, allowing the 32-bit counter to wrap round."""
    return counter > last or (last > 0xFFFFFFFF - COUNTER_WRAP_MARGIN and counter < COUNTER_WRAP_MARGIN)


class BleAdapter:
    """bleak's advertisement types -> :class:`BleOutput`; pure apart from reading bleak's objects."""

    source = "ble"

    def __init__(self, decoder: BleDecoder):
        self.decoder = decoder

    def handle_advertisement(self, device: BLEDevice, adv: AdvertisementData, now: datetime | None = None,
                             mono: float | None = None) -> BleOutput:
        data = next((v for k, v in adv.service_data.items() if k.lower() == BTHOME_UUID), None)
        if data is None:
            return BleOutput()  # a phone, a watch, a neighbour's TV: not ours, not an error
        now = now or datetime.now(UTC)
        return self.decoder.handle(device.address, bytes(data), adv.rssi, now, self.source, mono)


def _bthome_scanner_kwargs(passive: bool, adapter: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"scanning_mode": "passive" if passive else "active"}
    bluez: dict[str, Any] = {}
    if passive:  # BlueZ passive scanning needs an advertisement-monitor pattern: BTHome's UUID
        from bleak.args.bluez import OrPattern
        from bleak.assigned_numbers import AdvertisementDataType

        bluez["or_patterns"] = [OrPattern(0, AdvertisementDataType.SERVICE_DATA_UUID16, b"\xd2\xfc")]
    if adapter:
        kwargs["adapter"] = adapter
    if bluez:
        kwargs["bluez"] = bluez
    return kwargs


@dataclass
class BleScanner:
    """Keep a bleak scan running for ever; put each non-empty :class:`BleOutput` on ``queue``.

    ``status`` is one of ``"starting"``, ``"scanning (passive)"``, ``"scanning (active)"``,
    ``"no adapter: <why>; retrying in N s"`` or ``"stopped"``.
    Backoff doubles from ``backoff_initial_s`` to ``backoff_max_s`` and resets once a scan has run
    for ``healthy_after_s``. If nothing at all is heard for ``stall_after_s`` (an adapter reset can
    silently stop a scan) the scan is restarted.
    """

    adapter: BleAdapter
    queue: asyncio.Queue[BleOutput]
    hci: str | None = None
    passive: bool = True
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 300.0
    healthy_after_s: float = 60.0
    stall_after_s: float = 600.0
    scanner_factory: Callable[..., Any] = BleakScanner
    status: str = "starting"
    attempts: int = 0
    delays: list[float] = field(default_factory=list)  # every backoff wait so far (kept short)
    dropped: int = 0  # outputs lost because the queue was full
    heard: int = 0
    _heard_event: asyncio.Event = field(default_factory=asyncio.Event)

    def _on_advert(self, device: BLEDevice, adv: AdvertisementData) -> None:
        self.heard += 1
        self._heard_event.set()
        try:
            out = self.adapter.handle_advertisement(device, adv)
        except Exception:  # a bug here must not kill bleak's callback loop
            log.exception("BLE advert from %s could not be handled", getattr(device, "address", "?"))
            return
        if not out:
            return
        try:
            self.queue.put_nowait(out)
        except asyncio.QueueFull:
            self.dropped += 1
            self.adapter.decoder.counts["queue_full"] += 1

    async def run(self) -> None:
        """Scan until cancelled. Never raises (except CancelledError)."""
        delay = self.backoff_initial_s
        passive = self.passive
        try:
            while True:
                self.attempts += 1
                started = time.monotonic()
                try:
                    await self._scan_once(passive)
                    why = "scan stalled: nothing heard, restarting"
                except (BleakError, OSError, TimeoutError, EOFError, ValueError) as exc:
                    why = _explain(exc)
                    if passive and _passive_unsupported(exc):
                        log.warning("BLE passive scanning not available (%s); using active scanning", why)
                        passive = False
                        continue
                except Exception as exc:  # unknown failure from a D-Bus stack: keep retrying, loudly
                    log.exception("BLE scanner failed unexpectedly")
                    why = f"{type(exc).__name__}: {exc}"
                if time.monotonic() - started >= self.healthy_after_s:
                    delay = self.backoff_initial_s
                log.warning("BLE scanning stopped (%s); retrying in %g s", why, delay)
                self.status = f"no adapter: {why}; retrying in {delay:g} s"
                self.delays.append(delay)
                del self.delays[:-50]
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
        finally:
            self.status = "stopped"

    async def _scan_once(self, passive: bool) -> None:
        scanner = self.scanner_factory(detection_callback=self._on_advert, **_bthome_scanner_kwargs(passive, self.hci))
        await scanner.start()
        try:
            self.status = f"scanning ({'passive' if passive else 'active'})"
            while True:  # returns (to restart the scan) once nothing is heard for stall_after_s
                self._heard_event.clear()
                try:
                    await asyncio.wait_for(self._heard_event.wait(), self.stall_after_s)
                except TimeoutError:
                    return
        finally:
            with contextlib.suppress(BleakError, OSError, TimeoutError, EOFError):
                await scanner.stop()


def _explain(exc: BaseException) -> str:
    """A technician's wording for why scanning failed."""
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return f"cannot reach BlueZ over D-Bus (is bluetoothd running?) [{type(exc).__name__}: {exc}]"
    text = str(exc) or type(exc).__name__
    if "no bluetooth adapters" in text.lower() or "not found" in text.lower():
        return f"no Bluetooth adapter found [{text}]"
    return f"{type(exc).__name__}: {text}"


def _passive_unsupported(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("passive", "advertisementmonitor", "or_patterns", "not supported"))
