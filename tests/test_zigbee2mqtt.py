"""The zigbee2mqtt adapter against payloads shaped as zigbee2mqtt publishes them (tests/fixtures/zigbee2mqtt)."""

from __future__ import annotations

import doctest
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

import sensors.zigbee2mqtt
import sensors.zigbee2mqtt_bridge
import sensors.zigbee2mqtt_keys
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind
from sensors.zigbee2mqtt import AdapterOutput, PairedDevice, Zigbee2MqttAdapter, ZigbeeBinding

Z2M = FIXTURES / "zigbee2mqtt"
T0 = datetime(2026, 1, 5, 7, 40, tzinfo=UTC)
SRC = "zigbee2mqtt"
DOOR_IEEE = "0x00158d0008a1b2c3"
PLUG_IEEE = "0xa4c1380a1b2c3d4e"
BED_IEEE = "0xa4c138f0e1d2c3b4"
WEATHER_IEEE = "0x00158d0009c8d7e6"


def fx(name: str) -> bytes:
    return (Z2M / name).read_bytes()


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def bindings() -> list[ZigbeeBinding]:
    return [
        ZigbeeBinding("front_door", SensorKind.CONTACT, None, DOOR_IEEE),  # by IEEE: survives renames
        ZigbeeBinding("kettle", SensorKind.PLUG, "kettle plug", None, on_above_w=10.0, off_below_w=5.0),
        ZigbeeBinding("bed", SensorKind.BED, "bed strap", None),
    ]


@pytest.fixture
def z() -> Zigbee2MqttAdapter:
    return Zigbee2MqttAdapter(bindings())


@pytest.fixture
def zb(z: Zigbee2MqttAdapter) -> Zigbee2MqttAdapter:
    """The adapter after the retained bridge/devices list arrived."""
    z.handle("zigbee2mqtt/bridge/devices", fx("bridge_devices.json"), T0)
    return z


def reasons(out: AdapterOutput) -> list[str]:
    return [r.reason for r in out.rejections]


def test_doctests_in_the_adapter_modules_pass() -> None:
    for module in (sensors.zigbee2mqtt, sensors.zigbee2mqtt_bridge, sensors.zigbee2mqtt_keys):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_subscriptions_cover_the_base_topic() -> None:
    assert Zigbee2MqttAdapter([], base_topic="z2m/home").subscriptions == ["z2m/home/#"]
    assert Zigbee2MqttAdapter([]).subscriptions == ["zigbee2mqtt/#"]


def test_aqara_contact_true_is_closed_and_only_changes_emit(zb: Zigbee2MqttAdapter) -> None:
    first = zb.handle("zigbee2mqtt/front door", fx("aqara_MCCGQ11LM_closed.json"), t(1))
    assert first.events == [SensorEvent(t(1), "front_door", SensorKind.CONTACT, False, SRC)]
    assert first.health == [DeviceHealth(t(1), "front_door", SRC, battery=100.0, linkquality=102.0, voltage=3035.0)]
    # device_temperature and power_outage_count are counted quietly, once per (device, key)
    assert sorted((r.reason, r.detail.split("'")[1]) for r in first.rejections) == [
        ("ignored_key", "device_temperature"), ("ignored_key", "power_outage_count")]

    opened = zb.handle("zigbee2mqtt/front door", fx("aqara_MCCGQ11LM_open.json"), t(2))
    assert opened.events == [SensorEvent(t(2), "front_door", SensorKind.CONTACT, True, SRC)]
    assert opened.rejections == []

    # a periodic battery report repeats `contact: false`: health only, no event
    periodic = zb.handle("zigbee2mqtt/front door", fx("aqara_MCCGQ11LM_periodic.json"), t(3))
    assert periodic == AdapterOutput(
        health=[DeviceHealth(t(3), "front_door", SRC, battery=97.0, linkquality=105.0, voltage=3015.0)])
    assert zb.key_counts[("front_door", "power_outage_count")] == 3
    assert zb.counts["ignored_key"] == 2


def test_first_message_after_start_always_emits(zb: Zigbee2MqttAdapter) -> None:
    out = zb.handle("zigbee2mqtt/front door", fx("aqara_MCCGQ11LM_periodic.json"), t(1))
    assert out.events == [SensorEvent(t(1), "front_door", SensorKind.CONTACT, True, SRC)]


def test_plug_watts_use_hysteresis_and_relay_is_not_appliance(zb: Zigbee2MqttAdapter) -> None:
    idle = zb.handle("zigbee2mqtt/kettle plug", fx("tuya_TS011F_plug_idle.json"), t(1))
    # relay ON at 0 W: the socket is on, the kettle is not
    assert idle.events == [SensorEvent(t(1), "kettle", SensorKind.PLUG, False, SRC)]
    assert idle.notes == ["sensor kettle: plug relay is ON"]
    # plug `voltage` is mains volts, not a battery: not health
    assert idle.health == [DeviceHealth(t(1), "kettle", SRC, linkquality=116.0)]
    assert zb.relay_on("kettle") is True

    boil = zb.handle("zigbee2mqtt/kettle plug", fx("tuya_TS011F_plug_kettle.json"), t(2))
    assert boil.events == [SensorEvent(t(2), "kettle", SensorKind.PLUG, True, SRC)]
    assert boil.notes == []
    # 7 W is between off_below_w=5 and on_above_w=10: still on (no flapping)
    assert zb.handle("zigbee2mqtt/kettle plug", fx("tuya_TS011F_plug_kettle_cooling.json"), t(3)).events == []
    off = zb.handle("zigbee2mqtt/kettle plug", fx("tuya_TS011F_plug_relay_off.json"), t(4))
    assert off.events == [SensorEvent(t(4), "kettle", SensorKind.PLUG, False, SRC)]
    assert off.notes == ["sensor kettle: plug relay is OFF (the appliance cannot draw power)"]
    assert zb.relay_on("kettle") is False


@pytest.mark.parametrize(("on_above", "off_below", "expected"), [(10.0, 5.0, False), (5.0, 2.0, True)])
def test_plug_thresholds_come_from_the_binding(on_above: float, off_below: float, expected: bool) -> None:
    z = Zigbee2MqttAdapter([ZigbeeBinding("tv", SensorKind.PLUG, "tv plug", None, on_above, off_below)])
    out = z.handle("zigbee2mqtt/tv plug", fx("tuya_TS011F_plug_kettle_cooling.json"), T0)  # 7 W
    assert out.events == [SensorEvent(T0, "tv", SensorKind.PLUG, expected, SRC)]


def test_tuya_bed_strap_occupancy_and_raw_pressure(zb: Zigbee2MqttAdapter) -> None:
    occupied = zb.handle("zigbee2mqtt/bed strap", fx("tuya_TS0601_bed_occupied.json"), t(1))
    assert occupied == AdapterOutput(
        events=[SensorEvent(t(1), "bed", SensorKind.BED, True, SRC)],
        health=[DeviceHealth(t(1), "bed", SRC, battery=100.0, linkquality=156.0)])
    assert zb.last_pressure("bed") == 385.0
    empty = zb.handle("zigbee2mqtt/bed strap", fx("tuya_TS0601_bed_empty.json"), t(2))
    assert empty.events == [SensorEvent(t(2), "bed", SensorKind.BED, False, SRC)]
    assert zb.last_pressure("bed") == 12.0


def test_presence_and_tamper() -> None:
    z = Zigbee2MqttAdapter([ZigbeeBinding("hall", SensorKind.MOTION, "hall radar", None)])
    out = z.handle("zigbee2mqtt/hall radar", b'{"presence":true,"tamper":true,"linkquality":80,"illuminance":40}', T0)
    assert out == AdapterOutput(
        events=[SensorEvent(T0, "hall", SensorKind.MOTION, True, SRC)],
        health=[DeviceHealth(T0, "hall", SRC, linkquality=80.0, tamper=True)],
        rejections=[Rejection(T0, SRC, "ignored_key", "'illuminance' is not used by Hearth", "hall")])


@pytest.mark.parametrize(("fixture", "available"), [
    ("availability_online.json", True), ("availability_offline.json", False),
    ("availability_legacy_offline.txt", False)])
def test_availability(zb: Zigbee2MqttAdapter, fixture: str, available: bool) -> None:
    out = zb.handle("zigbee2mqtt/bed strap/availability", fx(fixture), t(1))
    assert out == AdapterOutput(health=[DeviceHealth(t(1), "bed", SRC, available=available)])


def test_bridge_devices_lists_paired_and_unassigned(z: Zigbee2MqttAdapter) -> None:
    out = z.handle("zigbee2mqtt/bridge/devices", fx("bridge_devices.json"), T0)
    assert z.paired_devices() == [
        PairedDevice(DOOR_IEEE, "front door", "MCCGQ11LM", "Aqara", "EndDevice"),
        PairedDevice(PLUG_IEEE, "kettle plug", "TS011F_plug_1", "TuYa", "Router"),
        PairedDevice(BED_IEEE, "bed strap", "TS0601", "Tuya", "EndDevice"),
        PairedDevice(WEATHER_IEEE, WEATHER_IEEE, "WSDCGQ11LM", "Aqara", "EndDevice"),
    ]
    assert z.unassigned_devices() == [PairedDevice(WEATHER_IEEE, WEATHER_IEEE, "WSDCGQ11LM", "Aqara", "EndDevice")]
    assert z.learned_ieee("kettle") == PLUG_IEEE and z.learned_ieee("bed") == BED_IEEE
    assert out.notes == [
        f"sensor kettle is zigbee device {PLUG_IEEE}",
        f"sensor bed is zigbee device {BED_IEEE}",
        f"paired zigbee devices with no sensor configured: '{WEATHER_IEEE}' {WEATHER_IEEE} (Aqara WSDCGQ11LM)",
    ]
    assert out.rejections == []


def test_configured_but_unpaired_sensor_is_noted() -> None:
    z = Zigbee2MqttAdapter([*bindings(), ZigbeeBinding("fridge", SensorKind.CONTACT, "fridge door", None)])
    out = z.handle("zigbee2mqtt/bridge/devices", fx("bridge_devices.json"), T0)
    assert out.notes[-1] == "configured zigbee sensors not paired with zigbee2mqtt: fridge"


def test_ieee_binding_survives_rename(zb: Zigbee2MqttAdapter) -> None:
    out = zb.handle("zigbee2mqtt/bridge/response/device/rename", fx("bridge_response_device_rename.json"), t(1))
    assert out.notes == [f"zigbee device {DOOR_IEEE} renamed 'front door' -> 'hall door' (sensor front_door follows it)"]
    renamed = zb.handle("zigbee2mqtt/hall door", fx("aqara_MCCGQ11LM_open.json"), t(2))
    assert renamed.events == [SensorEvent(t(2), "front_door", SensorKind.CONTACT, True, SRC)]
    assert zb.paired_devices()[0].friendly_name == "hall door"


def test_rename_given_by_ieee_forgets_the_old_name(zb: Zigbee2MqttAdapter) -> None:
    body = {"data": {"from": DOOR_IEEE, "to": "hall door", "homeassistant_rename": False}, "status": "ok"}
    zb.handle("zigbee2mqtt/bridge/response/device/rename", json.dumps(body).encode(), t(1))
    assert zb.handle("zigbee2mqtt/hall door", fx("aqara_MCCGQ11LM_open.json"), t(2)).events == [
        SensorEvent(t(2), "front_door", SensorKind.CONTACT, True, SRC)]
    # "front door" is no longer the door's name: whatever publishes there is not the door
    stale = zb.handle("zigbee2mqtt/front door", fx("aqara_MCCGQ11LM_closed.json"), t(3))
    assert stale.events == [] and reasons(stale) == ["unknown_device"]


def test_name_binding_learns_ieee_and_follows_it_not_the_name(zb: Zigbee2MqttAdapter) -> None:
    devices = json.loads(fx("bridge_devices.json"))
    for d in devices:
        if d["ieee_address"] == PLUG_IEEE:
            d["friendly_name"] = "kitchen plug"
        if d["ieee_address"] == WEATHER_IEEE:  # another device takes the old name
            d["friendly_name"] = "kettle plug"
    zb.handle("zigbee2mqtt/bridge/devices", json.dumps(devices).encode(), t(1))
    moved = zb.handle("zigbee2mqtt/kitchen plug", fx("tuya_TS011F_plug_kettle.json"), t(2))
    assert moved.events == [SensorEvent(t(2), "kettle", SensorKind.PLUG, True, SRC)]
    impostor = zb.handle("zigbee2mqtt/kettle plug", fx("tuya_TS011F_plug_idle.json"), t(3))
    assert impostor.events == [] and reasons(impostor) == ["unassigned_device"]


def test_bridge_events_keep_the_device_map_current(zb: Zigbee2MqttAdapter) -> None:
    new = "0x00158d000a0b0c0d"
    joined = zb.handle("zigbee2mqtt/bridge/event", fx("bridge_event_device_joined.json"), t(1))
    assert joined.notes == [f"zigbee device joined: '{new}' {new}"]
    zb.handle("zigbee2mqtt/bridge/event", fx("bridge_event_device_interview_started.json"), t(1))
    done = zb.handle("zigbee2mqtt/bridge/event", fx("bridge_event_device_interview_successful.json"), t(2))
    assert done.notes == [f"zigbee device interview successful as Aqara MCCGQ11LM: '{new}' {new}"]
    assert PairedDevice(new, new, "MCCGQ11LM", "Aqara", "Unknown") in zb.unassigned_devices()
    failed = zb.handle("zigbee2mqtt/bridge/event", fx("bridge_event_device_interview_failed.json"), t(2))
    assert failed.notes[0].endswith("(re-pair it)")
    announce = zb.handle("zigbee2mqtt/bridge/event", fx("bridge_event_device_announce.json"), t(3))
    assert announce.notes == [f"zigbee device announced itself (powered up or rejoined): '{new}' {new}"]

    leave = zb.handle("zigbee2mqtt/bridge/event", fx("bridge_event_device_leave.json"), t(4))
    assert leave.health == [DeviceHealth(t(4), "front_door", SRC, available=False)]
    assert leave.notes == [
        f"configured zigbee sensor front_door left the network: re-pair it ('front door' {DOOR_IEEE} (sensor front_door))"]
    assert DOOR_IEEE not in [d.ieee_address for d in zb.paired_devices()]


def test_event_rename_keeps_map(zb: Zigbee2MqttAdapter) -> None:
    body = {"type": "device_renamed", "data": {"from": "bed strap", "to": "bedroom strap"}}
    zb.handle("zigbee2mqtt/bridge/event", json.dumps(body).encode(), t(1))
    out = zb.handle("zigbee2mqtt/bedroom strap", fx("tuya_TS0601_bed_occupied.json"), t(2))
    assert out.events == [SensorEvent(t(2), "bed", SensorKind.BED, True, SRC)]


@pytest.mark.parametrize(("topic", "payload"), [
    ("zigbee2mqtt/bridge/state", fx("bridge_state_legacy.txt")),
    ("zigbee2mqtt/bridge/state", b'{"state":"online"}'),
    ("zigbee2mqtt/bridge/info", b'{"version":"1.13.0-dev","commit":"772f6c0","log_level":"debug"}'),
    ("zigbee2mqtt/bridge/logging", fx("bridge_logging.json")),
    ("zigbee2mqtt/bridge/response/permit_join", b'{"data":{"value":true},"status":"ok"}'),
    ("zigbee2mqtt/kettle plug/set", b'{"state":"OFF"}'),
    ("zigbee2mqtt/kettle plug/get", b'{"state":""}'),
    ("zigbee2mqtt/somebody else/set/state", b"ON"),
    ("zigbee2mqtt/front door", b""),  # a retained topic being cleared
])
def test_ignored_topics_produce_nothing(zb: Zigbee2MqttAdapter, topic: str, payload: bytes) -> None:
    assert zb.handle(topic, payload, T0) == AdapterOutput()
    assert sum(zb.counts.values()) == 0


BAD = [
    # (topic, payload, reason, device, detail fragment)
    ("zigbee2mqtt/front door", b"contact=open", "not_json", "front_door", "payload is not JSON"),
    ("zigbee2mqtt/front door", b"\xff\xfe{}", "not_json", "front_door", "not UTF-8"),
    ("zigbee2mqtt/front door", b"[true]", "not_object", "front_door", "JSON list, not an object"),
    ("zigbee2mqtt/front door", b'{"contact":"yes"}', "wrong_type", "front_door",
     "contact: expected true or false, got str 'yes'"),
    ("zigbee2mqtt/kettle plug", b'{"power":"2 kW"}', "wrong_type", "kettle", "power: expected watts"),
    ("zigbee2mqtt/kettle plug", b'{"power":NaN}', "wrong_type", "kettle", "power: expected watts"),
    ("zigbee2mqtt/bed strap", b'{"battery":140}', "wrong_type", "bed", "battery: expected a number 0..100"),
    ("zigbee2mqtt/front door", b'{"frobnication":3}', "unknown_key", "front_door", "'frobnication' is not a key"),
    ("zigbee2mqtt/front door", b'{"occupancy":true}', "key_not_for_kind", "front_door", "is its kind right?"),
    ("zigbee2mqtt/front door", b"x" * 1_000_000, "too_large", "front door", "1000000 bytes > 65536"),
    ("zigbee2mqtt/garden gnome", b'{"contact":true}', "unknown_device", "garden gnome", "no sensor is configured"),
    (f"zigbee2mqtt/{WEATHER_IEEE}", b'{"temperature":21.5}', "unassigned_device", WEATHER_IEEE, "is paired but"),
    ("zigbee2mqtt/bed strap/availability", b'{"state":"maybe"}', "bad_availability", "bed", "availability is not"),
    ("zigbee2mqtt/bed strap/availability", b"maybe", "not_json", "bed", "payload is not JSON"),
    ("zigbee2mqtt/bridge/devices", b'{"devices":[]}', "wrong_type", "bridge/devices", "dict, not a list"),
    ("zigbee2mqtt/bridge/devices", b'[{"friendly_name":"x"}]', "bad_device_entry", "bridge/devices",
     "entry 0: device entry has no valid ieee_address"),
    ("zigbee2mqtt/bridge/event", b'{"type":"device_leave"}', "wrong_type", "bridge/event", "has no 'data' object"),
    ("elsewhere/front door", b"{}", "foreign_topic", None, "is not under zigbee2mqtt/"),
]


@pytest.mark.parametrize(("topic", "payload", "reason", "device", "fragment"), BAD,
                         ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_refused_with_reason_and_logged_once(
        zb: Zigbee2MqttAdapter, caplog: pytest.LogCaptureFixture,
        topic: str, payload: bytes, reason: str, device: str | None, fragment: str) -> None:
    caplog.set_level(logging.DEBUG, logger="hearth.zigbee")
    first = zb.handle(topic, payload, t(1))
    assert first.events == []
    assert [(r.reason, r.device) for r in first.rejections] == [(reason, device)]
    assert fragment in first.rejections[0].detail
    assert len(first.rejections[0].detail) <= 200
    records = [r for r in caplog.records if r.name == "hearth.zigbee"]
    assert len(records) == 1
    assert f"({reason}) from {device or '?'}" in records[0].getMessage()
    assert fragment in records[0].getMessage()

    zb.handle(topic, payload, t(2))  # the same again: counted, not logged again
    assert len([r for r in caplog.records if r.name == "hearth.zigbee"]) == 1
    assert zb.counts[reason] >= 1


def test_unknown_key_is_rejected_once_per_device_and_key(zb: Zigbee2MqttAdapter) -> None:
    first = zb.handle("zigbee2mqtt/front door", b'{"contact":true,"frobnication":3}', t(1))
    again = zb.handle("zigbee2mqtt/front door", b'{"contact":true,"frobnication":4}', t(2))
    assert reasons(first) == ["unknown_key"] and reasons(again) == []
    assert zb.key_counts[("front_door", "frobnication")] == 2


def test_a_bad_key_does_not_spoil_the_rest_of_the_message(zb: Zigbee2MqttAdapter) -> None:
    out = zb.handle("zigbee2mqtt/front door", b'{"contact":false,"battery":"low","linkquality":90}', t(1))
    assert out.events == [SensorEvent(t(1), "front_door", SensorKind.CONTACT, True, SRC)]
    assert out.health == [DeviceHealth(t(1), "front_door", SRC, linkquality=90.0)]
    assert reasons(out) == ["wrong_type"]


def test_null_state_is_counted_as_no_value_and_null_health_is_skipped(zb: Zigbee2MqttAdapter) -> None:
    # Replay refuses an empty value; live refuses a null state the same way (sensors.readings).
    out = zb.handle("zigbee2mqtt/front door", b'{"contact":null,"battery":null,"linkquality":90}', t(1))
    assert out == AdapterOutput(health=[DeviceHealth(t(1), "front_door", SRC, linkquality=90.0)], rejections=[
        Rejection(t(1), SRC, "no_value", "contact is null: zigbee2mqtt has no reading from the device yet "
                                         "(just paired, or it has not reported)", "front_door")])
    assert zb.counts == {"no_value": 1}


def test_messages_before_bridge_devices_wait_for_it(z: Zigbee2MqttAdapter) -> None:
    # The door is bound by IEEE only; its retained availability may arrive before bridge/devices.
    early = z.handle("zigbee2mqtt/front door/availability", fx("availability_online.json"), t(1))
    assert early == AdapterOutput()
    out = z.handle("zigbee2mqtt/bridge/devices", fx("bridge_devices.json"), t(2))
    assert out.health == [DeviceHealth(t(1), "front_door", SRC, available=True)]


def test_every_held_message_is_replayed_in_order(z: Zigbee2MqttAdapter) -> None:
    z.handle("zigbee2mqtt/front door", fx("aqara_MCCGQ11LM_open.json"), t(1))
    z.handle("zigbee2mqtt/front door", fx("aqara_MCCGQ11LM_closed.json"), t(2))
    out = z.handle("zigbee2mqtt/bridge/devices", fx("bridge_devices.json"), t(3))
    assert out.events == [SensorEvent(t(1), "front_door", SensorKind.CONTACT, True, SRC),
                          SensorEvent(t(2), "front_door", SensorKind.CONTACT, False, SRC)]


def test_unknown_device_held_before_bridge_devices_is_refused_after(z: Zigbee2MqttAdapter) -> None:
    assert z.handle("zigbee2mqtt/garden gnome", b'{"contact":true}', t(1)) == AdapterOutput()
    out = z.handle("zigbee2mqtt/bridge/devices", fx("bridge_devices.json"), t(2))
    assert [(r.reason, r.device, r.time) for r in out.rejections] == [("unknown_device", "garden gnome", t(1))]


def test_payload_limit_is_inclusive() -> None:
    z = Zigbee2MqttAdapter(bindings(), max_payload_bytes=40)
    ok = b'{"contact":true,"linkquality":100}      '
    assert len(ok) == 40
    assert z.handle(f"zigbee2mqtt/{DOOR_IEEE}", ok, T0).events[0].value is False
    assert reasons(z.handle(f"zigbee2mqtt/{DOOR_IEEE}", ok + b" ", T0)) == ["too_large"]


def test_a_big_homes_device_list_is_not_too_large(z: Zigbee2MqttAdapter) -> None:
    # Real bridge/devices entries carry the full exposes/options lists: kB per device.
    devices = json.loads(fx("bridge_devices.json"))
    for d in devices[1:]:
        d["definition"]["exposes"] = [{"type": "numeric", "name": f"x{i}", "property": f"x{i}",
                                       "access": 1, "description": "padding " * 20} for i in range(80)]
    payload = json.dumps(devices).encode()
    assert len(payload) > 65536
    out = z.handle("zigbee2mqtt/bridge/devices", payload, T0)
    assert out.rejections == [] and len(z.paired_devices()) == 4
    huge = b"[" + b" " * 3_000_000 + b"]"
    assert reasons(z.handle("zigbee2mqtt/bridge/devices", huge, T0)) == ["too_large"]


def test_bindings_are_checked() -> None:
    with pytest.raises(ValueError, match="give friendly_name or ieee_address"):
        ZigbeeBinding("x", SensorKind.CONTACT, None, None)
    with pytest.raises(ValueError, match="not 0x"):
        ZigbeeBinding("x", SensorKind.CONTACT, None, "0x12")
    assert ZigbeeBinding("x", SensorKind.CONTACT, None, "0x00158D0008A1B2C3").ieee_address == DOOR_IEEE
    with pytest.raises(ValueError, match="bound twice"):
        Zigbee2MqttAdapter([ZigbeeBinding("x", SensorKind.CONTACT, "a", None)] * 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        Zigbee2MqttAdapter([]).handle("zigbee2mqtt/a", b"{}", datetime(2026, 1, 1))


# ---- never raises ----------------------------------------------------------------------------

TOPICS = st.sampled_from([
    "zigbee2mqtt/front door", f"zigbee2mqtt/{DOOR_IEEE}", "zigbee2mqtt/kettle plug", "zigbee2mqtt/bed strap",
    "zigbee2mqtt/bed strap/availability", "zigbee2mqtt/bridge/devices", "zigbee2mqtt/bridge/event",
    "zigbee2mqtt/bridge/response/device/rename", "zigbee2mqtt/nobody", "zigbee2mqtt/", "zigbee2mqtt//availability",
    "zigbee2mqtt/bridge", "other/x"])
KEYS = st.sampled_from(["contact", "occupancy", "presence", "power", "state", "battery", "linkquality", "voltage",
                        "tamper", "illuminance", "type", "data", "ieee_address", "friendly_name", "from", "to",
                        "status", "definition", "update"]) | st.text(max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["ON", "OFF", "online", "offline", DOOR_IEEE, "front door", "device_leave",
                       "device_renamed", "device_interview", "successful", "ok"]),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30)


def _check(out: AdapterOutput) -> None:
    assert "internal_error" not in reasons(out)
    for e in out.events:
        assert isinstance(e, SensorEvent) and isinstance(e.value, bool)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TOPICS, st.binary(max_size=300)), max_size=6))
def test_random_bytes_never_raise(messages: list[tuple[str, bytes]]) -> None:
    z = Zigbee2MqttAdapter(bindings())
    for topic, payload in messages:
        _check(z.handle(topic, payload, T0))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TOPICS, JSON), max_size=6))
def test_random_json_never_raises(messages: list[tuple[str, object]]) -> None:
    z = Zigbee2MqttAdapter(bindings())
    z.handle("zigbee2mqtt/bridge/devices", fx("bridge_devices.json"), T0)
    for topic, value in messages:
        _check(z.handle(topic, json.dumps(value).encode(), T0))
    z.paired_devices()
    z.unassigned_devices()


def test_deeply_nested_json_is_refused_not_raised(zb: Zigbee2MqttAdapter) -> None:
    out = zb.handle("zigbee2mqtt/front door", b"[" * 60000 + b"]" * 60000, T0)
    assert reasons(out) == ["too_large"]
    out = zb.handle("zigbee2mqtt/front door", b"[" * 30000 + b"]" * 30000, T0)
    assert reasons(out) == ["too_deep"]


def test_a_repeat_of_a_message_is_counted_as_redelivered_and_never_a_second_event(z: Zigbee2MqttAdapter) -> None:
    """QoS 1 is at-least-once: a broker killed before it saved our acks sends messages again. With
    zigbee2mqtt's `last_seen` (on in the shipped config) a repeat is known by its stamp."""
    def bed(on: bool, seen: str) -> bytes:
        return json.dumps({"occupancy": on, "last_seen": seen}).encode()

    topic = "zigbee2mqtt/bed strap"
    first = z.handle(topic, bed(True, "2026-01-05T07:40:00.120Z"), t(0))
    assert first.events == [SensorEvent(t(0), "bed", SensorKind.BED, True, SRC)]
    z.handle(topic, bed(False, "2026-01-05T07:41:00.000Z"), t(1))
    again = z.handle(topic, bed(True, "2026-01-05T07:40:00.120Z"), t(2))  # the first one, redelivered
    assert again.events == [] and reasons(again) == ["redelivered"]
    exact = z.handle(topic, bed(False, "2026-01-05T07:41:00.000Z"), t(2))  # the latest, redelivered
    assert exact.events == [] and reasons(exact) == ["redelivered"]
    news = z.handle(topic, bed(True, "2026-01-05T07:42:00.000Z"), t(3))
    assert news.events == [SensorEvent(t(3), "bed", SensorKind.BED, True, SRC)] and news.rejections == []
    # the Pi's clock steps back an hour: an older stamp on new bytes is a new reading, not a repeat
    stepped = z.handle(topic, bed(False, "2026-01-05T06:42:05.000Z"), t(4))
    assert stepped.events == [SensorEvent(t(4), "bed", SensorKind.BED, False, SRC)] and stepped.rejections == []
