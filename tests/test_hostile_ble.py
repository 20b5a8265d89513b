"""Hostile input to the BLE parsers (every relay shape, BTHome adverts): nothing raises, every input gives
readings or counted rejections. Issue 12's exact relay inputs first: one of them once ended all monitoring."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.ble import BleBinding, BleDecoder, BleOutput
from sensors.ble_relay import RELAY_REASONS, BleRelay
from sensors.bthome import REASONS
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind

T0 = datetime(2026, 1, 5, 22, 15, tzinfo=UTC)
DOOR = "A4:C1:38:8D:18:B2"
TOPIC = "hearth/ble-relay/kitchen/A4C1388D18B2"
SRC = "ble-mqtt"


def relay() -> BleRelay:
    return BleRelay(BleDecoder([BleBinding("frontdoor", SensorKind.CONTACT, DOOR),
                                BleBinding("kettle", SensorKind.PLUG, "54:48:E6:8F:80:A5")]), ["hearth/ble-relay/#"])


@pytest.mark.parametrize(("rssi", "shown"), [
    (b"NaN", "NaN"), (b"Infinity", "Infinity"), (b"-Infinity", "-Infinity"), (b"1e400", "1e400"),
    (b"9" * 400, "a 400-digit number"),
])
def test_a_bad_rssi_loses_only_the_rssi(rssi: bytes, shown: str) -> None:
    r = relay()
    payload = b'{"mac": "' + DOOR.encode() + b'", "rssi": ' + rssi + b', "uuid": "fcd2", "data": "402d01"}'
    out = r.handle(TOPIC, payload, T0, 0.0)
    assert out.events == (SensorEvent(T0, "frontdoor", SensorKind.CONTACT, True, SRC),)
    assert out.health == (DeviceHealth(T0, "frontdoor", SRC, available=True),)
    assert out.rejections == (Rejection(T0, SRC, "wrong_type", f"{TOPIC}: rssi: expected an RSSI in dBm (-127..20), "
                                                               f"got {shown} (not a finite number)", DOOR),)
    assert r.decoder.counts["wrong_type"] == 1


def test_two_thousand_deep_json_is_one_counted_rejection() -> None:
    r = relay()
    out = r.handle(TOPIC, b'{"mac": ' + b"[" * 2000 + b"]" * 2000 + b"}", T0, 0.0)
    assert out == BleOutput(rejections=(Rejection(T0, SRC, "too_deep", f"{TOPIC}: JSON nested deeper than 4 levels"),))
    assert r.decoder.counts["too_deep"] == 1


def test_a_bthome_plug_reading_negative_watts_is_refused_by_the_shared_range() -> None:
    decoder = BleDecoder([BleBinding("kettle", SensorKind.PLUG, "54:48:E6:8F:80:A5")])
    # object 0x5C: power, 4 bytes signed, 0.01 W: -2000.00 W
    out = decoder.handle("54:48:E6:8F:80:A5", bytes([0x40, 0x5C]) + (-200000).to_bytes(4, "little", signed=True),
                         -60, T0, mono=0.0)
    assert out == BleOutput(health=out.health, packet=out.packet, rejections=(
        Rejection(T0, "ble", "wrong_type", "power: expected watts (a number 0..100000), got float -2000.0", "kettle"),))
    assert out.events == ()


def _check(r: BleRelay, out: BleOutput, before: int) -> None:
    allowed = set(RELAY_REASONS) | set(REASONS) | {"unknown_device"}
    assert {x.reason for x in out.rejections} <= allowed
    counted = sum(v for k, v in r.decoder.counts.items() if k in allowed) - before
    assert counted >= len(out.rejections)  # unknown devices after the first are counted, not reported
    for x in out.rejections:
        x.detail.encode("utf-8")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=16),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12)
fields = st.sampled_from(["id", "mac", "addr", "address", "rssi", "data", "servicedata", "service_data", "uuid",
                          "servicedatauuid", "name"])
service_data = st.binary(max_size=40).map(lambda b: (b"\x40" + b).hex()) | st.binary(max_size=20).map(list)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(fields, json_values | service_data | st.just(DOOR) | st.just("fcd2"), max_size=6))
def test_any_relay_json_in_any_shape_never_raises(message: dict) -> None:
    r = relay()
    _check(r, r.handle(TOPIC, json.dumps(message).encode(), T0, 0.0), 0)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600) | st.builds(lambda d: b"[" * d + b"]" * d, st.integers(0, 3000)), st.booleans())
def test_any_relay_bytes_never_raise(payload: bytes, retained: bool) -> None:
    r = relay()
    _check(r, r.handle(TOPIC, payload, T0, 0.0, retained=retained), 0)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([DOOR, "54:48:E6:8F:80:A5", "11:22:33:44:55:66", "not a mac", ""]))
def test_any_bthome_advert_never_raises(data: bytes, mac: str) -> None:
    decoder = BleDecoder([BleBinding("frontdoor", SensorKind.CONTACT, DOOR),
                          BleBinding("kettle", SensorKind.PLUG, "54:48:E6:8F:80:A5",
                                     bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932"))])
    out = decoder.handle(mac, data, -60, T0, mono=0.0)
    assert {x.reason for x in out.rejections} <= set(REASONS) | {"unknown_device", "wrong_type"}
    assert out.events or out.health or out.rejections or decoder.counts["unknown_device"]
