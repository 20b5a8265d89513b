"""Hostile input to the zigbee2mqtt adapter: nothing raises, and every input gives readings or counted
rejections. The exact inputs of issue 12 first (full-object equality), then arbitrary bytes and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind
from sensors.zigbee2mqtt import AdapterOutput, Zigbee2MqttAdapter, ZigbeeBinding

T0 = datetime(2026, 1, 5, 7, 40, tzinfo=UTC)
SRC = "zigbee2mqtt"
# Every reason the adapter may give (its module docstring's table); a new one must be documented there.
REASONS = {"too_large", "not_json", "not_object", "too_deep", "wrong_type", "no_value", "unknown_device",
           "unassigned_device", "unknown_key", "ignored_key", "key_not_for_kind", "bad_availability",
           "bad_device_entry", "foreign_topic"}


def adapter() -> Zigbee2MqttAdapter:
    return Zigbee2MqttAdapter([ZigbeeBinding("front_door", SensorKind.CONTACT, "front door", None),
                               ZigbeeBinding("kettle", SensorKind.PLUG, "kettle", None)])


def wrong(detail: str, device: str) -> Rejection:
    return Rejection(T0, SRC, "wrong_type", detail, device)


@pytest.mark.parametrize(("payload", "rejection"), [
    (b'{"power": -2000, "linkquality": 80}',
     wrong("power: expected watts (a number 0..100000), got int -2000", "kettle")),
    (b'{"power": NaN, "linkquality": 80}', wrong("power: expected watts (a number 0..100000), got NaN (not a finite number)",
                                                 "kettle")),
    (b'{"power": Infinity, "linkquality": 80}',
     wrong("power: expected watts (a number 0..100000), got Infinity (not a finite number)", "kettle")),
    (b'{"power": 1e400, "linkquality": 80}',
     wrong("power: expected watts (a number 0..100000), got 1e400 (not a finite number)", "kettle")),
    (b'{"power": ' + b"9" * 400 + b', "linkquality": 80}',
     wrong("power: expected watts (a number 0..100000), got a 400-digit number (not a finite number)", "kettle")),
    (b'{"power": ' + b"9" * 5000 + b', "linkquality": 80}',  # beyond Python's own int-digits limit
     wrong("power: expected watts (a number 0..100000), got a 5000-digit number (not a finite number)", "kettle")),
])
def test_a_bad_number_refuses_its_key_and_the_rest_is_still_read(payload: bytes, rejection: Rejection) -> None:
    z = adapter()
    out = z.handle("zigbee2mqtt/kettle", payload, T0)
    assert out == AdapterOutput(health=[DeviceHealth(T0, "kettle", SRC, linkquality=80.0)], rejections=[rejection])
    assert z.counts == {"wrong_type": 1}


def test_contact_null_is_refused_as_replay_refuses_an_empty_value() -> None:
    out = adapter().handle("zigbee2mqtt/front door", b'{"contact": null, "battery": 90}', T0)
    assert out == AdapterOutput(health=[DeviceHealth(T0, "front_door", SRC, battery=90.0)], rejections=[
        Rejection(T0, SRC, "no_value", "contact is null: zigbee2mqtt has no reading from the device yet "
                                       "(just paired, or it has not reported)", "front_door")])


@pytest.mark.parametrize(("payload", "reason", "detail"), [
    (b"[" * 2000 + b"]" * 2000, "too_deep", "JSON nested deeper than 32 levels"),
    (b'{"contact": \xff}', "not_json", "payload is not UTF-8 text (byte 12): b'{\"contact\": \\xff}'"),
    (b'{"contact": tru}', "not_json",
     "payload is not JSON (Expecting value: line 1 column 13 (char 12)): b'{\"contact\": tru}'"),
])
def test_unreadable_payloads_are_one_counted_rejection(payload: bytes, reason: str, detail: str) -> None:
    z = adapter()
    assert z.handle("zigbee2mqtt/front door", payload, T0) == AdapterOutput(
        rejections=[Rejection(T0, SRC, reason, detail, "front_door")])
    assert z.counts == {reason: 1}


def test_a_good_message_after_hostile_ones_is_still_an_event() -> None:
    z = adapter()
    for payload in (b'{"contact": NaN}', b"[" * 2000, b'{"contact": 1e400}', b"\x00\xff"):
        z.handle("zigbee2mqtt/front door", payload, T0)
    assert z.handle("zigbee2mqtt/front door", b'{"contact": false}', T0).events == [
        SensorEvent(T0, "front_door", SensorKind.CONTACT, True, SRC)]


def _check(z: Zigbee2MqttAdapter, out: AdapterOutput, counted_before: int) -> None:
    assert {r.reason for r in out.rejections} <= REASONS  # never "internal_error": no bug path was taken
    assert sum(z.counts.values()) - counted_before == len(out.rejections)  # every rejection counted
    for r in out.rejections:
        r.detail.encode("utf-8")  # storable and loggable as it is
        assert len(r.detail) <= 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
keys = st.sampled_from(["contact", "occupancy", "power", "state", "battery", "linkquality", "voltage", "tamper",
                        "illuminance", "last_seen", "mystery"])
topics = st.sampled_from(["zigbee2mqtt/front door", "zigbee2mqtt/kettle", "zigbee2mqtt/front door/availability",
                          "zigbee2mqtt/bridge/devices", "zigbee2mqtt/bridge/event",
                          "zigbee2mqtt/bridge/response/device/rename", "zigbee2mqtt/stranger", "elsewhere/x"])


@settings(max_examples=300, deadline=None)
@given(topics, st.dictionaries(keys, json_values, max_size=6), st.booleans())
def test_any_json_state_never_raises_and_every_refusal_is_counted(topic: str, state: dict, retained: bool) -> None:
    z = adapter()
    payload = json.dumps(state).encode()  # json.dumps writes NaN / Infinity, as a broken producer would
    out = z.handle(topic, payload, T0, retained=retained)
    _check(z, out, 0)
    if topic == "zigbee2mqtt/front door":  # a known device: each key is used, or refused and counted
        assert out.events or out.health or out.rejections or all(v is None for v in state.values()) or not state


@settings(max_examples=300, deadline=None)
@given(topics, st.binary(max_size=300) | st.builds(lambda d: b"[" * d + b"]" * d, st.integers(0, 3000)))
def test_any_bytes_never_raise(topic: str, payload: bytes) -> None:
    z = adapter()
    _check(z, z.handle(topic, payload, T0), 0)
