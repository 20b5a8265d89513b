"""The zigbee2mqtt adapter fed by a real mosquitto: fixture payloads published with paho, received by
another paho client subscribed to the adapter's subscriptions, exactly as the gateway will do it."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from conftest import FIXTURES, PATIENCE_S, Mosquitto

from sensors.events import DeviceHealth, SensorEvent, SensorKind
from sensors.zigbee2mqtt import Zigbee2MqttAdapter, ZigbeeBinding

Z2M = FIXTURES / "zigbee2mqtt"
T0 = datetime(2026, 1, 5, 7, 40, tzinfo=UTC)
WAIT_S = PATIENCE_S  # generous: the machine is shared; a lost message fails the test, a slow one does not


def fx(name: str) -> bytes:
    return (Z2M / name).read_bytes()


def client(broker: Mosquitto, name: str) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:8]}")
    c.connect(broker.host, broker.port, keepalive=30)
    c.loop_start()
    return c


@pytest.fixture
def base() -> Iterator[str]:
    yield f"hearth-test-{uuid.uuid4().hex[:8]}/zigbee2mqtt"  # own topics on the shared broker


def publish(c: mqtt.Client, topic: str, payload: bytes, retain: bool = False) -> None:
    info = c.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(WAIT_S)
    assert info.is_published(), f"broker did not acknowledge {topic}"


def test_fixture_payloads_through_a_real_broker(mosquitto: Mosquitto, base: str) -> None:
    adapter = Zigbee2MqttAdapter([
        ZigbeeBinding("front_door", SensorKind.CONTACT, None, "0x00158d0008a1b2c3"),
        ZigbeeBinding("kettle", SensorKind.PLUG, "kettle plug", None),
        ZigbeeBinding("bed", SensorKind.BED, "bed strap", None),
    ], base_topic=base)
    pub = client(mosquitto, "z2m")
    # What zigbee2mqtt leaves retained before Hearth starts: the device list and availability.
    retained = [(f"{base}/bridge/devices", fx("bridge_devices.json")),
                (f"{base}/front door/availability", fx("availability_online.json"))]
    for topic, payload in retained:
        publish(pub, topic, payload, retain=True)

    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscribed = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hearth-{uuid.uuid4().hex[:8]}")
    sub.on_message = lambda _c, _u, msg: received.put((msg.topic, msg.payload))
    sub.on_subscribe = lambda *_args: subscribed.set()
    sub.on_connect = lambda c, *_args: c.subscribe([(t, 1) for t in adapter.subscriptions])
    sub.connect(mosquitto.host, mosquitto.port, keepalive=30)
    sub.loop_start()
    try:
        assert subscribed.wait(WAIT_S), "no SUBACK from the broker"
        live = [
            ("front door", "aqara_MCCGQ11LM_closed.json"), ("front door", "aqara_MCCGQ11LM_open.json"),
            ("front door", "aqara_MCCGQ11LM_periodic.json"),
            ("kettle plug", "tuya_TS011F_plug_idle.json"), ("kettle plug", "tuya_TS011F_plug_kettle.json"),
            ("kettle plug", "tuya_TS011F_plug_kettle_cooling.json"),
            ("kettle plug", "tuya_TS011F_plug_relay_off.json"),
            ("bed strap", "tuya_TS0601_bed_occupied.json"), ("bed strap", "tuya_TS0601_bed_empty.json"),
            ("bed strap/availability", "availability_legacy_offline.txt"),
            ("bridge/logging", "bridge_logging.json"),
        ]
        for name, fixture in live:
            publish(pub, f"{base}/{name}", fx(fixture))
        publish(pub, f"{base}/kettle plug/set", b'{"state":"OFF"}')  # a command from someone else
        publish(pub, f"{base}/garden gnome", b"not json at all")

        messages = []
        for _ in range(len(retained) + len(live) + 2):
            try:
                messages.append(received.get(timeout=WAIT_S))
            except queue.Empty:
                pytest.fail(f"only {len(messages)} messages arrived: {[m[0] for m in messages]}")
    finally:
        for topic, _ in retained:  # clear our retained topics on the shared broker
            publish(pub, topic, b"", retain=True)
        for c in (sub, pub):
            c.loop_stop()
            c.disconnect()

    events, health, rejections = [], [], []
    for i, (topic, payload) in enumerate(messages):
        out = adapter.handle(topic, payload, T0 + timedelta(seconds=i))
        events += out.events
        health += out.health
        rejections += out.rejections
    at = {topic: T0 + timedelta(seconds=i) for i, (topic, _) in reversed(list(enumerate(messages)))}

    def s(n: int) -> datetime:  # time of the n-th live message
        return T0 + timedelta(seconds=len(retained) + n)

    assert events == [
        SensorEvent(s(0), "front_door", SensorKind.CONTACT, False, "zigbee2mqtt"),
        SensorEvent(s(1), "front_door", SensorKind.CONTACT, True, "zigbee2mqtt"),
        SensorEvent(s(3), "kettle", SensorKind.PLUG, False, "zigbee2mqtt"),
        SensorEvent(s(4), "kettle", SensorKind.PLUG, True, "zigbee2mqtt"),
        SensorEvent(s(6), "kettle", SensorKind.PLUG, False, "zigbee2mqtt"),
        SensorEvent(s(7), "bed", SensorKind.BED, True, "zigbee2mqtt"),
        SensorEvent(s(8), "bed", SensorKind.BED, False, "zigbee2mqtt"),
    ]
    availability = [h for h in health if h.available is not None]
    assert availability == [
        DeviceHealth(at[f"{base}/front door/availability"], "front_door", "zigbee2mqtt", available=True),
        DeviceHealth(s(9), "bed", "zigbee2mqtt", available=False),
    ]
    assert DeviceHealth(s(2), "front_door", "zigbee2mqtt", battery=97.0, linkquality=105.0, voltage=3015.0) in health
    assert [(r.reason, r.device) for r in rejections if r.reason != "ignored_key"] == [("unknown_device", "garden gnome")]
    assert adapter.learned_ieee("kettle") == "0xa4c1380a1b2c3d4e"
