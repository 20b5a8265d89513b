"""The BLE adapter fed bleak's own BLEDevice / AdvertisementData with published BTHome bytes, and the
scanner's backoff driven by bleak really failing (there is no BlueZ / D-Bus system bus here)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config import parse_config_text
from sensors.ble import BleAdapter, BleBinding, BleDecoder, BleOutput, BleScanner, bindings_from_config
from sensors.bthome import BTHOME_UUID, REASONS, BTHomePacket, Reading
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind
from tests.conftest import PATIENCE_S

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "bthome" / "vectors.json").read_text(encoding="utf-8"))
HEX = {v["name"]: v["hex"] for v in VECTORS["plain"] + VECTORS["encrypted"]}
T0 = datetime(2026, 1, 5, 7, 40, tzinfo=UTC)
KEY = bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
SHELLY_MAC = "54:48:E6:8F:80:A5"
DOOR_MAC = "A4:C1:38:8D:18:B2"


def advert(mac: str, hexdata: str | None, rssi: int = -67, name: str | None = None) -> tuple[BLEDevice, AdvertisementData]:
    service_data = {BTHOME_UUID: bytes.fromhex(hexdata)} if hexdata is not None else {}
    adv = AdvertisementData(local_name=name, manufacturer_data={}, service_data=service_data,
                            service_uuids=list(service_data), tx_power=None, rssi=rssi, platform_data=())
    return BLEDevice(mac, name, details=None), adv


def make_adapter() -> BleAdapter:
    return BleAdapter(BleDecoder([
        BleBinding("frontdoor", SensorKind.CONTACT, DOOR_MAC.lower()),
        BleBinding("hallway", SensorKind.MOTION, SHELLY_MAC, KEY),
        BleBinding("kettle", SensorKind.PLUG, "11:22:33:44:55:66"),
        BleBinding("bed", SensorKind.BED, "11:22:33:44:55:77"),
    ]))


def test_window_open_becomes_contact_open_with_health() -> None:
    out = make_adapter().handle_advertisement(*advert(DOOR_MAC, HEX["window_open"]), now=T0, mono=0.0)
    assert out == BleOutput(
        events=(SensorEvent(T0, "frontdoor", SensorKind.CONTACT, True, "ble"),),
        health=(DeviceHealth(T0, "frontdoor", "ble", available=True, linkquality=-67.0),),
        packet=BTHomePacket(False, False, (Reading(0x2D, "window", True),)),
    )


def test_encrypted_shelly_motion_decrypts_with_the_bound_key() -> None:
    out = make_adapter().handle_advertisement(*advert(SHELLY_MAC, HEX["shelly_blu_motion_encrypted"], rssi=-80),
                                              now=T0, mono=0.0)
    assert out.events == (SensorEvent(T0, "hallway", SensorKind.MOTION, True, "ble"),)
    assert out.rejections == ()
    assert out.packet is not None and out.packet.counter == 857870592


def test_plug_power_is_watts_and_bed_occupancy_is_bool() -> None:
    a = make_adapter()
    plug = a.handle_advertisement(*advert("11:22:33:44:55:66", HEX["power"]), now=T0, mono=0.0)
    assert plug.events == (SensorEvent(T0, "kettle", SensorKind.PLUG, 69.14, "ble"),)
    bed = a.handle_advertisement(*advert("11:22:33:44:55:77", "4000010164" + "2301" + "04138a01"), now=T0, mono=0.0)
    assert bed.events == (SensorEvent(T0, "bed", SensorKind.BED, True, "ble"),)
    assert bed.health[0].battery == 100.0


def test_battery_voltage_in_millivolts_and_tamper() -> None:
    out = make_adapter().handle_advertisement(*advert(DOOR_MAC, "40015d0c020c1a002b01"), now=T0, mono=0.0)
    assert out.events == (SensorEvent(T0, "frontdoor", SensorKind.CONTACT, False, "ble"),)
    assert out.health == (DeviceHealth(T0, "frontdoor", "ble", available=True, battery=93.0, linkquality=-67.0,
                                       voltage=3074.0, tamper=True),)


def test_other_devices_adverts_are_ignored_and_unknown_bthome_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    a = make_adapter()
    assert a.handle_advertisement(*advert("00:11:22:33:44:55", None, name="phone"), now=T0) == BleOutput()
    caplog.set_level(logging.WARNING)
    first = a.handle_advertisement(*advert("00:11:22:33:44:55", HEX["battery"]), now=T0, mono=0.0)
    assert first.rejections == (Rejection(T0, "ble", "unknown_device", "BTHome sensor 00:11:22:33:44:55 is not in the config",
                                          "00:11:22:33:44:55"),)
    assert "unknown_device" in caplog.text
    assert a.handle_advertisement(*advert("00:11:22:33:44:55", HEX["battery"]), now=T0, mono=1.0) == BleOutput()
    assert a.decoder.counts["unknown_device"] == 2


def test_counter_must_increase_replays_are_rejected(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    a = make_adapter()
    ok1 = a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122867"]), now=T0, mono=0.0)
    ok2 = a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122868"]), now=T0, mono=1.0)
    assert ok1.packet and ok1.packet.counter == 1122867 and ok1.health
    assert ok2.packet and ok2.packet.counter == 1122868
    old = a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122866"]), now=T0, mono=2.0)
    assert old == BleOutput(rejections=(Rejection(T0, "ble", "replayed",
                                                  "counter 1122866 is not above the last accepted 1122868", "hallway"),))
    assert "54:48:E6:8F:80:A5 (hallway) rejected: replayed" in caplog.text
    replay = a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122867"]), now=T0, mono=3.0)
    assert replay.rejections[0].reason == "replayed"
    assert a.decoder.counts["replayed"] == 2
    assert a.decoder.counters() == {SHELLY_MAC: 1122868}


def test_restored_counter_refuses_a_replay_after_a_restart() -> None:
    a = make_adapter()
    a.decoder.restore_counters({SHELLY_MAC.lower(): 1122867})
    out = a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122867"]), now=T0, mono=0.0)
    assert out.rejections[0].reason == "replayed"
    assert a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122868"]), now=T0, mono=0.0).health


def test_identical_encrypted_advert_is_a_silent_repeat() -> None:
    a = make_adapter()
    assert a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122867"]), now=T0, mono=0.0)
    assert a.handle_advertisement(*advert(SHELLY_MAC, HEX["counter_1122867"]), now=T0, mono=500.0) == BleOutput()
    assert a.decoder.counts["repeats"] == 1
    assert a.decoder.counts["replayed"] == 0


def test_packet_id_repeats_dropped_within_the_window_only() -> None:
    a = make_adapter()
    press = "40005201643a01"  # shelly button: packet id 82
    assert a.handle_advertisement(*advert(DOOR_MAC, press), now=T0, mono=0.0).health
    assert a.handle_advertisement(*advert(DOOR_MAC, "40005201633a01"), now=T0, mono=0.5) == BleOutput()
    assert a.handle_advertisement(*advert(DOOR_MAC, press), now=T0, mono=30.0).health
    assert a.decoder.counts["repeats"] == 1


def test_wrong_key_and_plain_downgrade_are_rejected(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    d = BleDecoder([BleBinding("hallway", SensorKind.MOTION, SHELLY_MAC, bytes.fromhex("814aac74c4f17b6c1581e1ab87816b99"))])
    out = d.handle(SHELLY_MAC, bytes.fromhex(HEX["shelly_blu_ht_encrypted"]), -70, T0, mono=0.0)
    assert [r.reason for r in out.rejections] == ["wrong_key"]
    assert "rejected: wrong_key" in caplog.text
    assert "814aac74" not in caplog.text  # the key is never logged
    plain = d.handle(SHELLY_MAC, bytes.fromhex("402101"), -70, T0, mono=1.0)
    assert [r.reason for r in plain.rejections] == ["not_encrypted"]
    assert plain.events == ()


def test_unknown_object_id_keeps_earlier_readings_and_counts() -> None:
    a = make_adapter()
    out = a.handle_advertisement(*advert(DOOR_MAC, "40015d1a01fe5d09"), now=T0, mono=0.0)
    assert out.events == (SensorEvent(T0, "frontdoor", SensorKind.CONTACT, True, "ble"),)
    assert [r.reason for r in out.rejections] == ["unknown_object_id"]
    assert a.decoder.counts["unknown_object_id"] == 1


def test_bindings_from_config_and_duplicate_macs() -> None:
    cfg = parse_config_text(f"""
timezone: Europe/London
people: [{{id: p1, name: Resident}}]
sensors:
  - {{id: hall, kind: motion, room: hall, person: p1, ble: {{mac: "{SHELLY_MAC}", bindkey: {KEY.hex()}}}}}
  - {{id: door, kind: contact, room: hall, role: front_door, person: p1, ble: {{mac: "{DOOR_MAC.lower()}"}}}}
  - {{id: bed, kind: bed, room: bedroom, person: p1}}
""", "home.yaml")
    got = bindings_from_config(cfg.sensors)
    assert got == [BleBinding("hall", SensorKind.MOTION, SHELLY_MAC, KEY), BleBinding("door", SensorKind.CONTACT, DOOR_MAC)]
    assert KEY.hex() not in repr(got)
    with pytest.raises(ValueError, match="bound to both"):
        BleDecoder([BleBinding("a", SensorKind.BED, DOOR_MAC), BleBinding("b", SensorKind.BED, DOOR_MAC.lower())])


def test_full_queue_drops_and_counts() -> None:
    queue: asyncio.Queue[BleOutput] = asyncio.Queue(maxsize=1)
    scanner = BleScanner(make_adapter(), queue)
    scanner._on_advert(*advert(DOOR_MAC, "4000010164"))
    scanner._on_advert(*advert(DOOR_MAC, "4000020164"))
    scanner._on_advert(*advert("00:00:00:00:00:01", None))  # not BTHome: nothing queued
    assert queue.qsize() == 1 and scanner.dropped == 1 and scanner.heard == 3
    assert scanner.adapter.decoder.counts["queue_full"] == 1


async def test_scanner_backs_off_when_bleak_cannot_reach_bluez() -> None:
    queue: asyncio.Queue[BleOutput] = asyncio.Queue(maxsize=10)
    scanner = BleScanner(make_adapter(), queue, backoff_initial_s=0.01, backoff_max_s=0.04)
    task = asyncio.create_task(scanner.run())
    for _ in range(int(PATIENCE_S / 0.005)):  # a guard against hanging, not a timing assertion
        if len(scanner.delays) >= 5:
            break
        await asyncio.sleep(0.005)
    assert scanner.delays[:5] == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert scanner.status.startswith("no adapter: ")
    assert "retrying in" in scanner.status
    assert not task.done()  # bleak's real failure never escapes
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scanner.status == "stopped"
    assert queue.empty()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([DOOR_MAC, SHELLY_MAC, "00:11:22:33:44:55", "zz"]))
def test_fuzz_adapter_never_raises(data: bytes, mac: str) -> None:
    a = make_adapter()
    device = BLEDevice(mac, None, None)
    adv = AdvertisementData(None, {}, {BTHOME_UUID: data}, [], None, -50, ())
    out = a.handle_advertisement(device, adv, now=T0, mono=0.0)
    for r in out.rejections:
        assert r.reason in REASONS or r.reason == "unknown_device"
    for e in out.events:
        assert isinstance(e.value, bool | float)
