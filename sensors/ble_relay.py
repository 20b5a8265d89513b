"""BTHome adverts relayed over MQTT by an ESP32 proxy, for rooms beyond the Pi's own radio.

Accepted JSON shapes (one advert per message), all decoded by the same :class:`sensors.ble.BleDecoder`:

* Theengs OpenMQTTGateway / Theengs Gateway, with "publish advertisement data" on, topic
  ``home/<gateway>/BTtoMQTT/<MAC without colons>``::

      {"id": "A4:C1:38:8D:18:B2", "rssi": -70, "servicedata": "402d01",
       "servicedatauuid": "0000fcd2-0000-1000-8000-00805f9b34fb"}   (or "0xfcd2" / "fcd2")

* ESPHome (``firmware_configs/esphome/ble-proxy-relay.yaml`` publishes this from
  ``esp32_ble_tracker: on_ble_service_data_advertise``) and Shelly BLE scanner scripts::

      {"mac": "A4:C1:38:8D:18:B2", "rssi": -70, "uuid": "fcd2", "data": "402d01"}
      {"addr": "a4:c1:38:8d:18:b2", "rssi": -70, "data": [64, 45, 1]}

Field names are looked up in :data:`FIELD_ALIASES` (a table, not a chain of special cases). A
message without a MAC takes it from the topic's last level. Adverts for other service UUIDs (the
proxy forwards every phone and TV it hears) are ignored without counting as errors, and so is a
proxy's own ``online`` / ``offline`` status (ESPHome's birth and will messages).

No bytes make the parser raise anything but :class:`RelayError`: the JSON is loaded by
:func:`sensors.payload.load_json` (NaN, Infinity, 1e400, huge integers and deep nesting are refused).
A bad ``rssi`` only loses the RSSI: the advert is still decoded and the RSSI counted as refused
(:attr:`RelayedAdvert.problems`). A retained relay message is an old advert the broker kept, not
news: :meth:`BleRelay.handle` counts it (``relay_retained``) and ignores it.

>>> parse_relay_message("home/OMG_kitchen/BTtoMQTT/A4C1388D18B2",
...     b'{"id":"A4:C1:38:8D:18:B2","rssi":-70,"servicedata":"402d01","servicedatauuid":"0xfcd2"}')
RelayedAdvert(mac='A4:C1:38:8D:18:B2', data=b'@-\\x01', rssi=-70, problems=())
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sensors.ble import BleDecoder, BleOutput
from sensors.bthome import BTHOME_UUID, MAX_SERVICE_DATA, BTHomeError, format_mac, mac_bytes
from sensors.events import Rejection
from sensors.payload import PayloadError, load_json, safe_text
from sensors.readings import RANGES, WrongType, as_number

MAX_MESSAGE_BYTES = 4096  # a relayed advert is ~200 bytes of JSON; anything far larger is not one
MAX_DEPTH = 4  # a relayed advert is one flat object (a byte list at most): no deeper JSON is one
STATUS_PAYLOADS = frozenset({b"online", b"offline"})  # a proxy's birth / will message on its status topic
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "mac": ("id", "mac", "address", "addr"),
    "data": ("servicedata", "service_data", "data"),
    "uuid": ("servicedatauuid", "service_data_uuid", "uuid"),
    "rssi": ("rssi",),
}
BTHOME_UUID_FORMS = frozenset({BTHOME_UUID, "0xfcd2", "fcd2", "0000fcd2"})
RELAY_REASONS = {
    "too_large": f"message over {MAX_MESSAGE_BYTES} bytes",
    "not_json": "not UTF-8 JSON (NaN and Infinity are not JSON)",
    "too_deep": f"JSON nested deeper than {MAX_DEPTH} levels: not a relayed advert",
    "wrong_type": "JSON is not an object, or a field has the wrong type",
    "bad_hex": "service data is not hexadecimal (or a list of bytes)",
    "bad_mac": "no usable MAC address in the message or the topic",
}


class RelayError(ValueError):
    def __init__(self, reason: str, detail: str):
        assert reason in RELAY_REASONS, reason
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True, slots=True)
class RelayedAdvert:
    mac: str
    data: bytes
    rssi: int | None
    problems: tuple[tuple[str, str], ...] = ()  # (reason, detail) of fields refused while the rest was used


def _field(obj: dict, name: str) -> object:
    return next((obj[k] for k in FIELD_ALIASES[name] if k in obj), None)


def _service_bytes(value: object) -> bytes:
    if isinstance(value, str):
        text = value.strip().removeprefix("0x").replace(" ", "").replace(":", "")
        if len(text) > 2 * MAX_SERVICE_DATA + 8:
            raise RelayError("too_large", f"{len(text) // 2} bytes of service data")
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise RelayError("bad_hex", f"{value[:60]!r}") from None
    if isinstance(value, list) and all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value):
        return bytes(value)
    raise RelayError("bad_hex", f"service data is {type(value).__name__}")


def parse_relay_message(topic: str, payload: bytes) -> RelayedAdvert | None:
    """One relayed advert, or ``None`` if it is not BTHome. Raises :class:`RelayError` for bad input,
    and nothing else for any bytes."""
    if payload.strip() in STATUS_PAYLOADS:
        return None
    try:
        obj = load_json(payload, MAX_MESSAGE_BYTES, MAX_DEPTH)
    except PayloadError as exc:
        raise RelayError(exc.reason, exc.detail) from None
    if not isinstance(obj, dict):
        raise RelayError("wrong_type", f"JSON {type(obj).__name__}, not an object")
    uuid = _field(obj, "uuid")
    if uuid is not None and (not isinstance(uuid, str) or uuid.lower() not in BTHOME_UUID_FORMS):
        return None
    raw = _field(obj, "data")
    if raw is None:
        return None  # presence-only message (name / rssi / manufacturer data): nothing BTHome in it
    data = _service_bytes(raw)
    mac_value = _field(obj, "mac")
    candidates = [mac_value] if isinstance(mac_value, str) else []
    candidates.append(topic.rsplit("/", 1)[-1])
    mac = next((m for m in (_mac_or_none(c) for c in candidates) if m), None)
    if mac is None:
        raise RelayError("bad_mac", f"id {str(mac_value)[:40]!r}, topic {topic[-60:]!r}")
    rssi = _field(obj, "rssi")
    if rssi is None:
        return RelayedAdvert(mac, data, None)
    try:
        return RelayedAdvert(mac, data, round(as_number(rssi, RANGES["rssi"])))
    except WrongType as exc:  # the RSSI is only link health: the advert itself is still good
        return RelayedAdvert(mac, data, None, (("wrong_type", f"rssi: {exc}"),))


def _mac_or_none(text: str) -> str | None:
    try:
        return format_mac(mac_bytes(text))
    except BTHomeError:
        return None


class BleRelay:
    """(topic, payload) from a proxy -> :class:`BleOutput`, sharing a decoder (so an advert heard by
    both the Pi and a proxy is taken once and replay state is common)."""

    source = "ble-mqtt"

    def __init__(self, decoder: BleDecoder, topics: Iterable[str] = ()):
        self.decoder = decoder
        self.topics = list(topics)  # MQTT filters to subscribe, from the config's ble.relay_topics

    def handle(self, topic: str, payload: bytes, now: datetime | None = None, mono: float | None = None,
               retained: bool = False) -> BleOutput:
        """One relayed message -> :class:`BleOutput`. Never raises on input.

        ``retained``: the broker's retain flag; a retained advert is stale and is only counted.
        """
        now = now or datetime.now(UTC)
        if retained:
            self.decoder.counts["relay_retained"] += 1
            return BleOutput()
        try:
            advert = parse_relay_message(topic, payload)
        except RelayError as exc:
            return BleOutput(rejections=(self._rejection(now, topic, exc.reason, exc.detail),))
        if advert is None:
            self.decoder.counts["relay_not_bthome"] += 1
            return BleOutput()
        mono = time.monotonic() if mono is None else mono
        out = self.decoder.handle(advert.mac, advert.data, advert.rssi, now, self.source, mono)
        if not advert.problems:
            return out
        refused = tuple(self._rejection(now, topic, reason, detail, advert.mac) for reason, detail in advert.problems)
        return BleOutput(out.events, out.health, refused + out.rejections, out.packet)

    def _rejection(self, now: datetime, topic: str, reason: str, detail: str, device: str | None = None) -> Rejection:
        self.decoder.counts[reason] += 1
        return Rejection(now, self.source, reason, safe_text(f"{topic[-80:]}: {detail}"), device)
