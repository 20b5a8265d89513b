"""BTHome v2 service data (UUID 0xFCD2) -> typed readings. Pure functions, one table of object ids.

The format is published at https://bthome.io/format/ and https://bthome.io/encryption/.
Service data, as bleak hands it over (the UUID already stripped), is::

    device-info byte | [MAC, 6 bytes reversed, if bit 1] | objects...                       (plain)
    device-info byte | [MAC ...] | AES-CCM ciphertext | counter (4, LE) | MIC (4)       (encrypted)

Device info: bit 0 = encrypted, bit 1 = MAC included, bit 2 = trigger based (sleepy), bits 5-7 =
version (must be 2). Each object is an id byte followed by a fixed-size little-endian value (or a
length byte for text/raw); a receiver must stop at an id it does not know, because it cannot know
the size. Why our own small parser rather than bthome-ble: see docs/ble.md.

>>> p = parse_service_data(bytes.fromhex("4002ca0903bf13"))
>>> [(r.name, r.value, r.unit) for r in p.readings]
[('temperature', 25.06, '°C'), ('humidity', 50.55, '%')]
>>> parse_service_data(bytes.fromhex("402d01")).readings[0]
Reading(object_id=45, name='window', value=True, unit='')
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

BTHOME_UUID16 = 0xFCD2
BTHOME_UUID = "0000fcd2-0000-1000-8000-00805f9b34fb"
MAX_SERVICE_DATA = 255  # an extended advertisement's longest AD element; legacy adverts hold ~27
_UUID_LE = BTHOME_UUID16.to_bytes(2, "little")


class Form(StrEnum):
    """How an object's value is encoded and what it means."""

    NUMBER = "number"  # a scaled integer measurement
    BINARY = "binary"  # one byte, 1 = on / open / detected
    EVENT = "event"  # a button or dimmer event
    PACKET_ID = "packet_id"  # 0..255, the same for repeats of one advertisement
    TEXT = "text"  # length byte + UTF-8
    RAW = "raw"  # length byte + bytes, shown as hex
    TIMESTAMP = "timestamp"  # uint32 seconds since the epoch, UTC
    DEVICE = "device"  # device type id / firmware version


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    name: str
    size: int  # bytes after the id (0 = variable: the next byte is the length)
    form: Form = Form.NUMBER
    factor: float = 1.0
    signed: bool = False
    unit: str = ""


def _n(name: str, size: int, factor: float = 1.0, unit: str = "", signed: bool = False) -> ObjectSpec:
    return ObjectSpec(name, size, Form.NUMBER, factor, signed, unit)


def _b(name: str) -> ObjectSpec:
    return ObjectSpec(name, 1, Form.BINARY)


# The BTHome v2 object ids (bthome.io/format, "Sensor data", "Binary sensor data", "Events", "Misc").
OBJECTS: dict[int, ObjectSpec] = {
    0x00: ObjectSpec("packet_id", 1, Form.PACKET_ID),
    0x01: _n("battery", 1, 1, "%"),
    0x02: _n("temperature", 2, 0.01, "°C", signed=True),
    0x03: _n("humidity", 2, 0.01, "%"),
    0x04: _n("pressure", 3, 0.01, "hPa"),
    0x05: _n("illuminance", 3, 0.01, "lx"),
    0x06: _n("mass", 2, 0.01, "kg"),
    0x07: _n("mass", 2, 0.01, "lb"),
    0x08: _n("dew_point", 2, 0.01, "°C", signed=True),
    0x09: _n("count", 1),
    0x0A: _n("energy", 3, 0.001, "kWh"),
    0x0B: _n("power", 3, 0.01, "W"),
    0x0C: _n("voltage", 2, 0.001, "V"),
    0x0D: _n("pm25", 2, 1, "µg/m³"),
    0x0E: _n("pm10", 2, 1, "µg/m³"),
    0x0F: _b("generic"),
    0x10: _b("power_on"),
    0x11: _b("opening"),
    0x12: _n("co2", 2, 1, "ppm"),
    0x13: _n("voc", 2, 1, "µg/m³"),
    0x14: _n("moisture", 2, 0.01, "%"),
    0x15: _b("battery_low"),
    0x16: _b("battery_charging"),
    0x17: _b("carbon_monoxide"),
    0x18: _b("cold"),
    0x19: _b("connectivity"),
    0x1A: _b("door"),
    0x1B: _b("garage_door"),
    0x1C: _b("gas_detected"),
    0x1D: _b("heat"),
    0x1E: _b("light"),
    0x1F: _b("unlocked"),
    0x20: _b("wet"),
    0x21: _b("motion"),
    0x22: _b("moving"),
    0x23: _b("occupancy"),
    0x24: _b("plugged_in"),
    0x25: _b("presence"),
    0x26: _b("problem"),
    0x27: _b("running"),
    0x28: _b("safe"),
    0x29: _b("smoke"),
    0x2A: _b("sound"),
    0x2B: _b("tamper"),
    0x2C: _b("vibration"),
    0x2D: _b("window"),
    0x2E: _n("humidity", 1, 1, "%"),
    0x2F: _n("moisture", 1, 1, "%"),
    0x3A: ObjectSpec("button", 1, Form.EVENT),
    0x3C: ObjectSpec("dimmer", 2, Form.EVENT),
    0x3D: _n("count", 2),
    0x3E: _n("count", 4),
    0x3F: _n("rotation", 2, 0.1, "°", signed=True),
    0x40: _n("distance", 2, 1, "mm"),
    0x41: _n("distance", 2, 0.1, "m"),
    0x42: _n("duration", 3, 0.001, "s"),
    0x43: _n("current", 2, 0.001, "A"),
    0x44: _n("speed", 2, 0.01, "m/s"),
    0x45: _n("temperature", 2, 0.1, "°C", signed=True),
    0x46: _n("uv_index", 1, 0.1),
    0x47: _n("volume", 2, 0.1, "L"),
    0x48: _n("volume", 2, 1, "mL"),
    0x49: _n("volume_flow_rate", 2, 0.001, "m³/h"),
    0x4A: _n("voltage", 2, 0.1, "V"),
    0x4B: _n("gas", 3, 0.001, "m³"),
    0x4C: _n("gas", 4, 0.001, "m³"),
    0x4D: _n("energy", 4, 0.001, "kWh"),
    0x4E: _n("volume", 4, 0.001, "L"),
    0x4F: _n("water", 4, 0.001, "L"),
    0x50: ObjectSpec("timestamp", 4, Form.TIMESTAMP),
    0x51: _n("acceleration", 2, 0.001, "m/s²"),
    0x52: _n("gyroscope", 2, 0.001, "°/s"),
    0x53: ObjectSpec("text", 0, Form.TEXT),
    0x54: ObjectSpec("raw", 0, Form.RAW),
    0x55: _n("volume_storage", 4, 0.001, "L"),
    0x56: _n("conductivity", 2, 1, "µS/cm"),
    0x57: _n("temperature", 1, 1, "°C", signed=True),
    0x58: _n("temperature", 1, 0.35, "°C", signed=True),
    0x59: _n("count", 1, signed=True),
    0x5A: _n("count", 2, signed=True),
    0x5B: _n("count", 4, signed=True),
    0x5C: _n("power", 4, 0.01, "W", signed=True),
    0x5D: _n("current", 2, 0.001, "A", signed=True),
    0x5E: _n("direction", 2, 0.01, "°"),
    0x5F: _n("precipitation", 2, 1, "mm"),
    0x60: _n("channel", 1),
    0x61: _n("rotational_speed", 2, 1, "rpm"),
    0x62: _n("speed", 4, 0.000001, "m/s", signed=True),
    0x63: _n("acceleration", 4, 0.000001, "m/s²", signed=True),
    0xF0: ObjectSpec("device_type_id", 2, Form.DEVICE),
    0xF1: ObjectSpec("firmware_version", 4, Form.DEVICE),
    0xF2: ObjectSpec("firmware_version", 3, Form.DEVICE),
}

BUTTON_EVENTS = {0x00: None, 0x01: "press", 0x02: "double_press", 0x03: "triple_press", 0x04: "long_press",
                 0x05: "long_double_press", 0x06: "long_triple_press", 0x80: "hold_press"}
DIMMER_EVENTS = {0x00: None, 0x01: "rotate_left", 0x02: "rotate_right"}


class BTHomeError(ValueError):
    """Service data that cannot be decoded. ``reason`` is a stable code (see :data:`REASONS`)."""

    def __init__(self, reason: str, detail: str):
        assert reason in REASONS, reason
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


REASONS = {
    "too_short": "fewer bytes than a BTHome header (and, if encrypted, counter and MIC) needs",
    "too_large": f"more than {MAX_SERVICE_DATA} bytes of service data",
    "not_bthome_v2": "the device-info byte does not announce BTHome version 2",
    "truncated": "an object's value runs past the end of the data",
    "unknown_object_id": "an object id this parser does not know (nothing after it can be read)",
    "needs_key": "the advertisement is encrypted and no bind key is configured",
    "not_encrypted": "a bind key is configured but the advertisement is plain (possible downgrade)",
    "wrong_key": "AES-CCM authentication failed: wrong bind key, wrong MAC or altered bytes",
    "bad_key": "the bind key is not 16 bytes",
    "bad_mac": "the MAC address is missing or not six bytes",
    "replayed": "the encryption counter did not increase (a replayed or stale advertisement)",
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One decoded object. ``value`` is a float for measurements, a bool for binary sensors, the event
    name (or None) for button/dimmer events, an int for packet ids, a str for text/raw/versions and an
    aware datetime for timestamps."""

    object_id: int
    name: str
    value: float | bool | int | str | datetime | None
    unit: str = ""


@dataclass(frozen=True, slots=True)
class BTHomePacket:
    """Everything one advertisement says. ``stopped_at`` is the unknown object id that ended parsing
    early (the readings before it are valid, per the format's rule), else ``None``."""

    encrypted: bool
    trigger_based: bool
    readings: tuple[Reading, ...]
    mac: str | None = None  # from the payload (device-info bit 1), upper-case with colons
    counter: int | None = None  # encryption counter
    stopped_at: int | None = None

    @property
    def packet_id(self) -> int | None:
        return next((int(r.value) for r in self.readings if r.name == "packet_id"), None)  # type: ignore[arg-type]

    def first(self, *names: str) -> Reading | None:
        """The first reading with one of ``names``."""
        return next((r for r in self.readings if r.name in names), None)


def mac_bytes(mac: str) -> bytes:
    """``"54:48:E6:8F:80:A5"`` (or ``5448e68f80a5``) -> the six address bytes, most significant first."""
    raw = mac.replace(":", "").replace("-", "")
    try:
        out = bytes.fromhex(raw)
    except ValueError:
        out = b""
    if len(out) != 6:
        raise BTHomeError("bad_mac", f"not a MAC address: {mac[:40]!r}")
    return out


def format_mac(raw: bytes) -> str:
    return ":".join(f"{b:02X}" for b in raw)


def _nonce(mac: bytes, info: int, counter: bytes) -> bytes:
    return mac + _UUID_LE + bytes([info]) + counter


def encrypt_service_data(objects: bytes, mac: str, key: bytes, counter: int, info: int = 0x41) -> bytes:
    """Build encrypted service data as a device would (for test vectors and the firmware notes).

    >>> k = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
    >>> encrypt_service_data(bytes.fromhex("02ca0903bf13"), "54:48:E6:8F:80:A5", k, 1122867).hex()
    '41e445f3c9962b332211006c7c4519'
    """
    cnt = counter.to_bytes(4, "little")
    sealed = AESCCM(key, tag_length=4).encrypt(_nonce(mac_bytes(mac), info | 0x01, cnt), objects, None)
    return bytes([info | 0x01]) + sealed[:-4] + cnt + sealed[-4:]


def parse_service_data(data: bytes, mac: str | None = None, key: bytes | None = None) -> BTHomePacket:
    """Decode BTHome v2 service data. Raise :class:`BTHomeError` with a stable ``reason`` if it cannot.

    ``mac`` is the advertiser's address (needed to decrypt unless the payload carries it); ``key`` is
    the 16-byte bind key. With a key, a plain advertisement is refused (``not_encrypted``), so an
    attacker cannot bypass encryption by sending plain packets.
    """
    if len(data) > MAX_SERVICE_DATA:
        raise BTHomeError("too_large", f"{len(data)} bytes")
    if not data:
        raise BTHomeError("too_short", "empty service data")
    info = data[0]
    version = info >> 5
    if version != 2:
        raise BTHomeError("not_bthome_v2", f"device-info byte 0x{info:02x} says version {version}")
    encrypted = bool(info & 0x01)
    pos = 1
    payload_mac: str | None = None
    if info & 0x02:
        if len(data) < 7:
            raise BTHomeError("too_short", f"{len(data)} bytes, MAC announced but missing")
        payload_mac = format_mac(data[1:7][::-1])
        pos = 7
    counter = None
    if encrypted:
        if key is None:
            raise BTHomeError("needs_key", "encrypted advertisement; configure the sensor's bindkey")
        if len(key) != 16:
            raise BTHomeError("bad_key", f"bind key is {len(key)} bytes, not 16")
        if len(data) < pos + 8 + 1:
            raise BTHomeError("too_short", f"{len(data)} bytes is too short for an encrypted advertisement")
        address = payload_mac or mac
        if address is None:
            raise BTHomeError("bad_mac", "the advertiser's MAC is needed to decrypt")
        cnt, mic = data[-8:-4], data[-4:]
        try:
            body = AESCCM(key, tag_length=4).decrypt(_nonce(mac_bytes(address), info, cnt), data[pos:-8] + mic, None)
        except InvalidTag:
            raise BTHomeError("wrong_key", "decryption failed (check the bind key and MAC)") from None
        counter = int.from_bytes(cnt, "little")
    else:
        if key is not None:
            raise BTHomeError("not_encrypted", "plain advertisement from a sensor configured with a bind key")
        body = data[pos:]
    readings, stopped_at = parse_objects(body)
    return BTHomePacket(encrypted, bool(info & 0x04), readings, payload_mac, counter, stopped_at)


def parse_objects(body: bytes) -> tuple[tuple[Reading, ...], int | None]:
    """Decode the object list. Returns the readings and the unknown id that stopped parsing (or None).

    Raises ``truncated`` if a known object's value runs past the end.
    """
    out: list[Reading] = []
    i = 0
    while i < len(body):
        oid = body[i]
        spec = OBJECTS.get(oid)
        if spec is None:
            if not out:
                raise BTHomeError("unknown_object_id", f"object id 0x{oid:02x} at byte {i}, nothing decoded")
            return tuple(out), oid
        i += 1
        size = spec.size
        if size == 0:  # text / raw: a length byte first
            if i >= len(body):
                raise BTHomeError("truncated", f"{spec.name} (0x{oid:02x}) has no length byte")
            size = body[i]
            i += 1
        if i + size > len(body):
            raise BTHomeError("truncated", f"{spec.name} (0x{oid:02x}) needs {size} bytes, {len(body) - i} left")
        out.append(Reading(oid, spec.name, _value(spec, body[i:i + size]), spec.unit))
        i += size
    return tuple(out), None


@functools.cache
def _digits(factor: float) -> int:
    """Decimal places a factor carries (0.01 -> 2), so 2506 * 0.01 prints as 25.06, not 25.060000000000002."""
    return len(f"{factor:.6f}".rstrip("0").split(".")[1])


def _value(spec: ObjectSpec, raw: bytes) -> float | bool | int | str | datetime | None:
    form = spec.form
    if form is Form.NUMBER:
        n = int.from_bytes(raw, "little", signed=spec.signed)
        return round(n * spec.factor, _digits(spec.factor))
    if form is Form.BINARY:
        return raw[0] != 0
    if form is Form.PACKET_ID:
        return raw[0]
    if form is Form.EVENT:
        table = BUTTON_EVENTS if spec.name == "button" else DIMMER_EVENTS
        event = table.get(raw[0], f"unknown_0x{raw[0]:02x}")
        return f"{event}:{raw[1]}" if event and len(raw) > 1 else event
    if form is Form.TEXT:
        return raw.decode("utf-8", errors="replace")
    if form is Form.RAW:
        return raw.hex()
    if form is Form.TIMESTAMP:
        return datetime.fromtimestamp(int.from_bytes(raw, "little"), UTC)
    if spec.name == "device_type_id":
        return str(struct.unpack("<H", raw)[0])
    return ".".join(str(b) for b in reversed(raw))  # firmware version, most significant first
