"""Every file in firmware_configs/ parses, and what it declares is what Hearth's config and decoders expect."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from paho.mqtt.client import topic_matches_sub

from gateway.config import HomeConfig, parse_config_text
from sensors.ble import KIND_READINGS, BleDecoder, bindings_from_config
from sensors.ble_relay import parse_relay_message
from sensors.bthome import OBJECTS, encrypt_service_data
from sensors.events import SensorEvent, SensorKind

ROOT = Path(__file__).resolve().parents[1] / "firmware_configs"
T0 = datetime(2026, 1, 5, 23, 5, tzinfo=UTC)

# dz0ny/esphome-bthome "type" names -> BTHome object id (from its sensor / binary-sensor type reference).
ESPHOME_BTHOME_TYPES = {"packet_id": 0x00, "battery": 0x01, "pressure": 0x04, "mass_kg": 0x06, "voltage": 0x0C,
                        "occupancy": 0x23, "motion": 0x21, "door": 0x1A, "window": 0x2D, "opening": 0x11}


class Tagged:
    """An ESPHome tag such as !secret or !lambda, kept with its value."""

    def __init__(self, tag: str, value: Any):
        self.tag, self.value = tag, value


class _Loader(yaml.SafeLoader):
    pass


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        return Tagged("!" + suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return Tagged("!" + suffix, loader.construct_sequence(node))
    return Tagged("!" + suffix, loader.construct_mapping(node))


_Loader.add_multi_constructor("!", _tagged)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader subclass


@pytest.fixture
def example(tmp_path: Path) -> HomeConfig:
    """hearth-example.yaml, with its bind-key files pointing at real temporary files."""
    text = (ROOT / "hearth-example.yaml").read_text(encoding="utf-8")
    for name in re.findall(r"/etc/hearth/keys/([\w.-]+)", text):
        (tmp_path / name).write_text("231d39c1d7cc1ab1aee224cd096db932\n")
    return parse_config_text(text.replace("/etc/hearth/keys/", f"{tmp_path}/"), "hearth-example.yaml")


def test_every_file_is_covered_by_a_test() -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file())
    assert files == ["esphome/bed-pressure-bthome.yaml", "esphome/ble-proxy-relay.yaml", "hearth-example.yaml",
                     "pvvx-bthome.md", "shelly-blu-door-window.md", "zigbee2mqtt/configuration.yaml",
                     "zigbee2mqtt/configure_reporting.json"]


def test_example_config_validates_and_has_ble_and_zigbee(example: HomeConfig) -> None:
    kinds = {s.id: (s.kind, s.ble is not None) for s in example.sensors}
    assert kinds["bed"] == (SensorKind.BED, True)
    assert kinds["backdoor"] == (SensorKind.CONTACT, True)
    assert kinds["maindoor"] == (SensorKind.CONTACT, False)
    assert example.ble.relay_topics


def test_bed_sensor_yaml_declares_what_hearth_decodes(example: HomeConfig) -> None:
    doc = load_yaml(ROOT / "esphome" / "bed-pressure-bthome.yaml")
    subs = doc["substitutions"]
    assert float(subs["occupied_above_kg"]) > float(subs["vacant_below_kg"])  # hysteresis, no flapping
    assert any("esphome-bthome" in c["source"] for c in doc["external_components"])
    bthome = doc["bthome"]
    assert isinstance(bthome["encryption_key"], Tagged) and bthome["encryption_key"].tag == "!secret"
    declared = [e["type"] for e in bthome["sensors"]] + [e["type"] for e in bthome["binary_sensors"]]
    ids = [ESPHOME_BTHOME_TYPES[t] for t in declared]
    assert ids == sorted(ids)  # BTHome requires ascending object ids
    assert [OBJECTS[i].name for i in ids] == ["packet_id", "mass", "occupancy"]
    assert "occupancy" in KIND_READINGS[SensorKind.BED]
    local_ids = {s["id"] for s in doc["sensor"]} | {b["id"] for b in doc["binary_sensor"]}
    assert {e["id"] for e in bthome["sensors"] + bthome["binary_sensors"] if "id" in e} <= local_ids
    # The Hearth side: the same sensor id, kind bed, and a bind key because the device encrypts.
    sensor = next(s for s in example.sensors if s.id == subs["hearth_sensor_id"])
    assert sensor.kind is SensorKind.BED and sensor.ble is not None and sensor.ble.key_bytes() is not None


def test_bed_advert_as_the_firmware_would_send_it_decodes_to_occupied(example: HomeConfig) -> None:
    bed = next(s for s in example.sensors if s.id == "bed")
    objects = bytes([0x00, 7]) + bytes([0x06]) + round(64.25 / 0.01).to_bytes(2, "little") + bytes([0x23, 1])
    data = encrypt_service_data(objects, bed.ble.mac, bed.ble.key_bytes(), counter=1001)
    out = BleDecoder(bindings_from_config(example.sensors)).handle(bed.ble.mac, data, -62, T0, mono=0.0)
    assert out.events == (SensorEvent(T0, "bed", SensorKind.BED, True, "ble"),)
    assert out.packet is not None and out.packet.first("mass").value == 64.25


def test_relay_proxy_publishes_the_shape_hearth_parses(example: HomeConfig) -> None:
    doc = load_yaml(ROOT / "esphome" / "ble-proxy-relay.yaml")
    assert doc["esp32_ble_tracker"]["scan_parameters"]["active"] is False
    lam = doc["esp32_ble_tracker"]["on_ble_advertise"]["then"][0]["lambda"]
    assert "0xFCD2" in lam and "get_service_datas" in lam
    for key in ('\\"mac\\"', '\\"rssi\\"', '\\"uuid\\"', '\\"data\\"'):
        assert key in lam
    name = doc["substitutions"]["name"]
    topic = f"hearth/ble-relay/{name}/A4C1388D18B2"
    assert any(topic_matches_sub(f, topic) for f in example.ble.relay_topics)
    payload = json.dumps({"mac": "A4:C1:38:8D:18:B2", "rssi": -71, "uuid": "fcd2", "data": "40000a1101"}).encode()
    advert = parse_relay_message(topic, payload)
    assert advert is not None and advert.data == bytes.fromhex("40000a1101")
    out = BleDecoder(bindings_from_config(example.sensors)).handle(advert.mac, advert.data, advert.rssi, T0, mono=0.0)
    assert out.events == (SensorEvent(T0, "bathroomdoor", SensorKind.CONTACT, True, "ble"),)


def test_zigbee2mqtt_fragment_matches_the_hearth_config(example: HomeConfig) -> None:
    z2m = load_yaml(ROOT / "zigbee2mqtt" / "configuration.yaml")
    assert z2m["mqtt"]["base_topic"] == example.zigbee2mqtt.base_topic
    assert z2m["availability"]["enabled"] is True
    assert z2m["device_options"]["retain"] is False
    devices = {ieee: d["friendly_name"] for ieee, d in z2m["devices"].items()}
    hearth = {s.zigbee.ieee_address: s.zigbee.friendly_name for s in example.sensors if s.zigbee is not None}
    lights = {light.ieee_address for p in example.people if p.actions and p.actions.night_light
              for light in p.actions.night_light.lights}
    assert lights and devices == hearth | {ieee: devices.get(ieee) for ieee in lights}
    assert all(devices[ieee] for ieee in lights)  # every night light is paired, with a name


def test_reporting_intervals_spare_batteries_and_catch_the_kettle() -> None:
    z2m = load_yaml(ROOT / "zigbee2mqtt" / "configuration.yaml")
    # the sensors' reporting: a night light reports nothing Hearth waits on
    names = {d["friendly_name"] for d in z2m["devices"].values() if "night_light" not in d["friendly_name"]}
    requests = json.loads((ROOT / "zigbee2mqtt" / "configure_reporting.json").read_text())["requests"]
    assert {r["id"] for r in requests} == names
    for r in requests:
        assert 0 < r["minimum_report_interval"] <= r["maximum_report_interval"]
        if r["cluster"] == "genPowerCfg":  # battery: no more than every 6 h
            assert r["minimum_report_interval"] >= 6 * 3600
        if r["attribute"] == "activePower":  # a kettle boils in ~3 min: see it within seconds
            assert r["minimum_report_interval"] <= 10 and r["maximum_report_interval"] <= 600


@pytest.mark.parametrize(("doc", "sensor_id", "encrypted"), [
    ("shelly-blu-door-window.md", "backdoor", True),
    ("pvvx-bthome.md", "bathroomdoor", False),
])
def test_device_notes_object_ids_and_bindings(doc: str, sensor_id: str, encrypted: bool, example: HomeConfig) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*0x([0-9A-Fa-f]{2})\s*\|\s*(\w+)\s*\|", text, flags=re.MULTILINE)
    assert len(rows) >= 4
    for hexid, name in rows:
        assert OBJECTS[int(hexid, 16)].name == name, (doc, hexid)
    contact_ids = [int(h, 16) for h, n in rows if n in KIND_READINGS[SensorKind.CONTACT]]
    assert contact_ids, "the notes must name the object Hearth reads as the contact"
    sensor = next(s for s in example.sensors if s.id == sensor_id)
    assert f"**`{sensor_id}`**" in text and f"**`{sensor.ble.mac}`**" in text
    assert sensor.kind is SensorKind.CONTACT
    assert (sensor.ble.key_bytes() is not None) == encrypted


DEPLOY = ROOT.parent / "deploy"


def _zigbee2mqtt_configs() -> list[Path]:
    """Every zigbee2mqtt configuration Hearth ships (a fragment to merge, and the one install.sh writes)."""
    return sorted(p for base in (ROOT, DEPLOY) for p in base.rglob("*.yaml") if p.parent.name == "zigbee2mqtt")


def test_every_shipped_zigbee2mqtt_config_publishes_at_qos_1() -> None:
    # At QoS 0 the broker drops what arrives while Hearth restarts, persistent session or not.
    configs = _zigbee2mqtt_configs()
    assert [str(p.relative_to(ROOT.parent)) for p in configs] == [
        "deploy/raspberrypi/zigbee2mqtt/configuration.yaml", "firmware_configs/zigbee2mqtt/configuration.yaml"]
    for path in configs:
        text = path.read_text(encoding="utf-8").replace("@SERIAL_PORT@", "/dev/ttyUSB0")  # install.sh fills it
        options = load_yaml_text(text).get("device_options") or {}
        assert options.get("qos") == 1, f"{path}: device_options.qos must be 1"
        assert options.get("retain", False) is False, f"{path}: device_options.retain must stay false"
        for ieee, device in (load_yaml_text(text).get("devices") or {}).items():
            assert device.get("qos", 1) == 1 and not device.get("retain", False), f"{path}: device {ieee}"


def test_esphome_relay_publishes_adverts_at_qos_1_not_retained() -> None:
    lam = load_yaml(ROOT / "esphome" / "ble-proxy-relay.yaml")["esp32_ble_tracker"]["on_ble_advertise"]["then"][0]
    calls = re.findall(r"\.publish\((.*?)\);", lam["lambda"], flags=re.DOTALL)
    assert calls and all(re.search(r",\s*1,\s*false\s*$", c) for c in calls), calls  # (topic, payload, qos, retain)


def load_yaml_text(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
