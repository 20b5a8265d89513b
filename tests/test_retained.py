"""Retained messages are a state sync, not news: a real mosquitto re-sends every retained topic on each
(re)subscribe, and that must not become a new door event on every restart of the gateway. What the
broker queued for the persistent session while the gateway was down still arrives, first, as news."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from conftest import PATIENCE_S, Mosquitto

from sensors.ble import BleBinding, BleDecoder, BleOutput
from sensors.ble_relay import BleRelay
from sensors.events import DeviceHealth, SensorEvent, SensorKind
from sensors.zigbee2mqtt import Zigbee2MqttAdapter, ZigbeeBinding

T0 = datetime(2026, 1, 5, 7, 40, tzinfo=UTC)
WAIT_S = PATIENCE_S  # generous: the machine is shared; a lost message fails the test, a slow one does not
OPEN, CLOSED = b'{"contact": false, "battery": 97}', b'{"contact": true, "battery": 97}'  # zigbee2mqtt: true = closed


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Gateway:
    """A paho client as gateway/mqtt.py runs it: persistent session, QoS 1, subscribing on every connect."""

    def __init__(self, broker: Mosquitto, client_id: str, topic: str):
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.subscribed: queue.Queue[bool] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.put(True)
        self.client.on_message = lambda _c, _u, m: self.messages.put(m)
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        self.subscribed.get(timeout=WAIT_S)

    def next(self) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=WAIT_S)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def base() -> Iterator[str]:
    yield f"hearth-retained-{uuid.uuid4().hex[:8]}/zigbee2mqtt"


def publisher(broker: Mosquitto) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"z2m-{uuid.uuid4().hex[:8]}")
    c.connect(broker.host, broker.port, keepalive=30)
    c.loop_start()
    return c


def publish(c: mqtt.Client, topic: str, payload: bytes, retain: bool = False) -> None:
    info = c.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(WAIT_S)
    assert info.is_published(), f"broker did not acknowledge {topic}"


def adapter(base: str) -> Zigbee2MqttAdapter:
    return Zigbee2MqttAdapter([ZigbeeBinding("front_door", SensorKind.CONTACT, "front door", None)], base_topic=base)


def test_retained_state_is_synced_not_news_across_a_restart(mosquitto: Mosquitto, base: str) -> None:
    pub = publisher(mosquitto)
    door = f"{base}/front door"
    publish(pub, door, OPEN, retain=True)  # e.g. a zigbee2mqtt set to retain, or a stray retained copy
    gid = f"hearth-{uuid.uuid4().hex[:8]}"

    gw = Gateway(mosquitto, gid, f"{base}/#")
    z = adapter(base)
    first = gw.next()
    assert first.retain is True  # the broker's copy, flagged as such
    out = z.handle(first.topic, first.payload, t(1), retained=first.retain)
    assert (out.events, out.health) == ([], [DeviceHealth(t(1), "front_door", "zigbee2mqtt", battery=97.0)])
    assert z.last_value("front_door") is True  # known to be open, without calling it news
    publish(pub, door, CLOSED)
    live = gw.next()
    assert live.retain is False
    assert z.handle(live.topic, live.payload, t(2), retained=live.retain).events == [
        SensorEvent(t(2), "front_door", SensorKind.CONTACT, False, "zigbee2mqtt")]
    gw.stop()

    # Down: the door opens. At QoS 1 the broker keeps it for the persistent session.
    publish(pub, door, OPEN)
    gw = Gateway(mosquitto, gid, f"{base}/#")
    z = adapter(base)
    z.restore_last_values({"front_door": False})  # the gateway's store: last known closed
    events = []
    for minute in (3, 4):  # the queued message, then the retained copy from the resubscribe
        m = gw.next()
        events.append((m.retain, z.handle(m.topic, m.payload, t(minute), retained=m.retain).events))
    gw.stop()
    pub.loop_stop()
    assert events == [(False, [SensorEvent(t(3), "front_door", SensorKind.CONTACT, True, "zigbee2mqtt")]),
                      (True, [])]


def test_restored_last_value_makes_a_repeat_no_event() -> None:
    z = adapter("zigbee2mqtt")
    z.restore_last_values({"front_door": True, "gone_sensor": False})  # unknown ids are ignored
    assert z.handle("zigbee2mqtt/front door", OPEN, t(1)).events == []
    assert z.handle("zigbee2mqtt/front door", CLOSED, t(2)).events == [
        SensorEvent(t(2), "front_door", SensorKind.CONTACT, False, "zigbee2mqtt")]


def test_restored_plug_keeps_its_hysteresis() -> None:
    z = Zigbee2MqttAdapter([ZigbeeBinding("kettle", SensorKind.PLUG, "kettle", None, 500.0, 100.0)])
    z.restore_last_values({"kettle": True})
    # 300 W is between off_below and on_above: still on, as before the restart, so no event at all.
    assert z.handle("zigbee2mqtt/kettle", b'{"power": 300}', t(1)).events == []
    assert z.handle("zigbee2mqtt/kettle", b'{"power": 2}', t(2)).events == [
        SensorEvent(t(2), "kettle", SensorKind.PLUG, False, "zigbee2mqtt")]


def test_a_retained_relay_advert_is_counted_and_ignored() -> None:
    relay = BleRelay(BleDecoder([BleBinding("frontdoor", SensorKind.CONTACT, "A4:C1:38:8D:18:B2")]))
    payload = b'{"mac": "A4:C1:38:8D:18:B2", "rssi": -70, "uuid": "fcd2", "data": "402d01"}'
    assert relay.handle("hearth/ble-relay/kitchen/A4C1388D18B2", payload, T0, 0.0, retained=True) == BleOutput()
    assert relay.decoder.counts["relay_retained"] == 1
    live = relay.handle("hearth/ble-relay/kitchen/A4C1388D18B2", payload, T0, 1.0)
    assert live.events == (SensorEvent(T0, "frontdoor", SensorKind.CONTACT, True, "ble-mqtt"),)
