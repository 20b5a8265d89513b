"""BTHome adverts relayed over MQTT (OpenMQTTGateway / Theengs, ESPHome, Shelly-script shapes), parsed
purely and also carried through a real mosquitto."""

from __future__ import annotations

import json
import logging
import queue
import uuid
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.ble import BleBinding, BleDecoder, BleOutput
from sensors.ble_relay import RELAY_REASONS, BleRelay, RelayedAdvert, RelayError, parse_relay_message
from sensors.bthome import REASONS
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind
from tests.conftest import PATIENCE_S

T0 = datetime(2026, 1, 5, 22, 15, tzinfo=UTC)
DOOR = "A4:C1:38:8D:18:B2"
SHELLY = "54:48:E6:8F:80:A5"
KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
OMG_TOPIC = "home/OMG_kitchen/BTtoMQTT/A4C1388D18B2"


def omg(mac: str, hexdata: str, uuid16: str = "0000fcd2-0000-1000-8000-00805f9b34fb", rssi: int = -71) -> bytes:
    return json.dumps({"id": mac, "rssi": rssi, "distance": 3.1, "servicedata": hexdata,
                       "servicedatauuid": uuid16}).encode()


def relay() -> BleRelay:
    return BleRelay(BleDecoder([BleBinding("frontdoor", SensorKind.CONTACT, DOOR),
                                BleBinding("hallway", SensorKind.MOTION, SHELLY, KEY)]), ["home/+/BTtoMQTT/#"])


@pytest.mark.parametrize(("topic", "payload"), [
    (OMG_TOPIC, omg(DOOR, "402d01")),
    (OMG_TOPIC, omg(DOOR.lower(), "402d01", uuid16="0xfcd2")),
    ("home/TheengsGateway/BTtoMQTT/A4C1388D18B2", json.dumps({"id": DOOR, "rssi": -71, "servicedata": "402D01",
                                                              "servicedatauuid": "fcd2"}).encode()),
    ("hearth/ble-relay/bedroom-proxy", json.dumps({"mac": DOOR, "rssi": -71, "uuid": "fcd2", "data": "402d01"}).encode()),
    ("shelly/blu/A4C1388D18B2", json.dumps({"addr": DOOR.lower(), "rssi": -71, "data": [0x40, 0x2D, 0x01]}).encode()),
    (OMG_TOPIC, json.dumps({"rssi": -71, "servicedata": "402d01", "servicedatauuid": "0xfcd2"}).encode()),  # MAC from topic
])
def test_every_supported_shape_gives_the_same_advert(topic: str, payload: bytes) -> None:
    assert parse_relay_message(topic, payload) == RelayedAdvert(DOOR, bytes.fromhex("402d01"), -71)


def test_other_service_uuids_and_presence_messages_are_ignored() -> None:
    flower_care = omg("C4:7C:8D:66:10:11", "71209800de1110668d7cc40d071003fd0000", "0000fe95-0000-1000-8000-00805f9b34fb")
    assert parse_relay_message("home/OMG/BTtoMQTT/C47C8D661011", flower_care) is None
    assert parse_relay_message("home/OMG/BTtoMQTT/C47C8D661011", b'{"id":"C4:7C:8D:66:10:11","rssi":-82}') is None
    r = relay()
    assert r.handle("home/OMG/BTtoMQTT/C47C8D661011", flower_care, T0) == BleOutput()
    assert r.decoder.counts["relay_not_bthome"] == 1


@pytest.mark.parametrize(("payload", "reason"), [
    (b"\xff\xfe not json", "not_json"),
    (b"[1, 2]", "wrong_type"),
    (b'{"id":"A4:C1:38:8D:18:B2","servicedata":"40zz","servicedatauuid":"fcd2"}', "bad_hex"),
    (b'{"id":"A4:C1:38:8D:18:B2","data":[64, 300]}', "bad_hex"),
    (b'{"id":"nope","servicedata":"402d01","servicedatauuid":"fcd2"}', "bad_mac"),
    (b'[' * 5 + b']' * 5, "too_deep"),
    (b'{"pad":"' + b"x" * 5000 + b'"}', "too_large"),
])
def test_bad_relay_messages_are_counted_and_rejected(payload: bytes, reason: str) -> None:
    with pytest.raises(RelayError) as err:
        parse_relay_message("home/OMG/BTtoMQTT/nomac", payload)
    assert err.value.reason == reason
    r = relay()
    out = r.handle("home/OMG/BTtoMQTT/nomac", payload, T0)
    assert [x.reason for x in out.rejections] == [reason]
    assert r.decoder.counts[reason] == 1


def test_relay_decodes_with_the_same_decoder_and_replay_rules(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    r = relay()
    out = r.handle(OMG_TOPIC, omg(DOOR, "402d01"), T0, mono=0.0)
    assert out.events == (SensorEvent(T0, "frontdoor", SensorKind.CONTACT, True, "ble-mqtt"),)
    assert out.health == (DeviceHealth(T0, "frontdoor", "ble-mqtt", available=True, linkquality=-71.0),)
    newer = r.handle("home/OMG/BTtoMQTT/5448E68F80A5", omg(SHELLY, "413e932cc7175f34221100553876af"), T0, mono=1.0)
    assert newer.health and not newer.rejections
    older = r.handle("home/OMG/BTtoMQTT/5448E68F80A5", omg(SHELLY, "41e445f3c9962b332211006c7c4519"), T0, mono=2.0)
    assert older.rejections == (Rejection(T0, "ble-mqtt", "replayed",
                                          "counter 1122867 is not above the last accepted 1122868", "hallway"),)
    assert "rejected: replayed" in caplog.text


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=600),
                 st.dictionaries(st.sampled_from(["id", "mac", "addr", "data", "servicedata", "servicedatauuid", "uuid",
                                                  "rssi"]),
                                 st.one_of(st.text(max_size=40), st.integers(), st.none(), st.booleans(),
                                           st.lists(st.integers(-5, 300), max_size=20)),
                                 max_size=6).map(lambda d: json.dumps(d).encode())))
def test_fuzz_relay_never_raises(payload: bytes) -> None:
    out = relay().handle(OMG_TOPIC, payload, T0, mono=0.0)
    for rej in out.rejections:
        assert rej.reason in RELAY_REASONS or rej.reason in REASONS or rej.reason == "unknown_device"


def test_through_a_real_mosquitto(mosquitto) -> None:
    """A proxy publishes; the gateway side subscribes to the configured filter and decodes."""
    r = relay()
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    tag = uuid.uuid4().hex[:8]
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hearth-ble-test-{tag}")
    subscribed = queue.Queue()
    sub.on_message = lambda c, u, m: received.put(m)
    sub.on_subscribe = lambda *a: subscribed.put(True)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.loop_start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"omg-proxy-{tag}")
    try:
        filter_ = f"{tag}/+/BTtoMQTT/#"
        sub.subscribe(filter_, qos=1)
        subscribed.get(timeout=PATIENCE_S)
        pub.connect(mosquitto.host, mosquitto.port)
        pub.loop_start()
        messages = [omg(DOOR, "4000010164" + "1a01"), omg(DOOR, "4000010164" + "1a01"),  # a proxy repeat
                    omg(DOOR, "4000020164" + "1a00"), b"garbage",
                    omg("C4:7C:8D:66:10:11", "7120", "0000fe95-0000-1000-8000-00805f9b34fb")]
        for m in messages:
            pub.publish(f"{tag}/OMG_bedroom/BTtoMQTT/A4C1388D18B2", m, qos=1).wait_for_publish(PATIENCE_S)
        outs = []
        for i in range(len(messages)):
            msg = received.get(timeout=PATIENCE_S)
            outs.append(r.handle(msg.topic, msg.payload, T0, mono=float(i)))
    finally:
        pub.loop_stop()
        pub.disconnect()
        sub.loop_stop()
        sub.disconnect()
    events = [e for o in outs for e in o.events]
    assert events == [SensorEvent(T0, "frontdoor", SensorKind.CONTACT, True, "ble-mqtt"),
                      SensorEvent(T0, "frontdoor", SensorKind.CONTACT, False, "ble-mqtt")]
    assert [x.reason for o in outs for x in o.rejections] == ["not_json"]
    assert r.decoder.counts["repeats"] == 1 and r.decoder.counts["relay_not_bthome"] == 1
