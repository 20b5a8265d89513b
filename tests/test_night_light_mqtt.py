"""The night path light through a real mosquitto: a running gateway, a client playing zigbee2mqtt (bed
strap reports, the light's confirmations), and the ``zigbee2mqtt/<light>/set`` messages it receives.

The wall clock is set to the night (or the day) and moves with a monotonic clock the test steps
forward, so an "after 20 minutes" is a step, never a wait."""

from __future__ import annotations

import asyncio
import json
import queue
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from test_service import Publisher, wait_for

from gateway.cli import main
from gateway.config import parse_config_text
from gateway.health import read_health
from gateway.night_light import GRACE_S
from gateway.night_light_mqtt import STATE_KEY
from gateway.service import HEALTH_EVERY_S, Gateway
from gateway.timebase import Clock
from tests.conftest import PATIENCE_S

LONDON = ZoneInfo("Europe/London")
LIGHT_IEEE = "0x0017880104a1b2c3"
HOME = f"""\
timezone: Europe/London
people:
  - id: p1
    name: Ann
    actions:
      night_light:
        consented: true
        lights: [{{ieee_address: "{LIGHT_IEEE}"}}]
        brightness: 25
        dark_hours: "21:30-07:00"
        off_after_minutes: 20
  - id: p2
    name: Bob
    actions:
      night_light: {{consented: false, lights: [{{friendly_name: landing/lamp}}], dark_hours: "21:30-07:00"}}
sensors:
  - {{id: bed, kind: bed, room: bedroom, role: bed, person: p1, zigbee: {{friendly_name: bedroom/bed_strap}}}}
  - {{id: bed2, kind: bed, room: bedroom2, role: bed, person: p2, zigbee: {{friendly_name: bedroom2/bed_strap}}}}
broker: {{host: 127.0.0.1, port: PORT, client_id: CLIENT}}
console: {{port: 0}}
"""
DEVICES = [{"ieee_address": LIGHT_IEEE, "friendly_name": "hall/night_light", "type": "Router",
            "definition": {"model": "LED1545G12", "vendor": "IKEA"}}]
SET_TOPIC = "zigbee2mqtt/hall/night_light/set"
ON = {"state": "ON", "brightness": 25}
OFF = {"state": "OFF"}


class SteppedClock(Clock):
    """Wall time from ``start``; the test steps both clocks forward together (no clock jump is seen)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.t0, self.skipped = start, time.monotonic(), 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0 + self.skipped)

    def monotonic(self) -> float:
        return 1000.0 + time.monotonic() - self.t0 + self.skipped


class Zigbee2Mqtt(Publisher):
    """Plays zigbee2mqtt: publishes bed reports, records every */set it receives, and (when ``answers``)
    confirms it on the light's state topic as zigbee2mqtt does."""

    def __init__(self, port: int, client_id: str, answers: bool = True) -> None:
        super().__init__(port, client_id)
        self.sets: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.answers = answers
        self.c.on_message = self._on_message
        self.c.subscribe("zigbee2mqtt/#", qos=1)
        self.pub("zigbee2mqtt/bridge/devices", json.dumps(DEVICES).encode(), retain=True)

    def _on_message(self, client: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
        if m.topic.endswith("/set"):
            body = json.loads(m.payload)
            self.sets.put((m.topic, body))
            if self.answers:
                client.publish(m.topic.removesuffix("/set"), json.dumps({"state": body["state"], "linkquality": 90}),
                               qos=1)

    def close(self) -> None:
        """Clear the retained device list first: the broker is shared, and a later test's gateway would
        get it as one more message than it published (and count it)."""
        self.pub("zigbee2mqtt/bridge/devices", b"", retain=True)
        super().close()

    def bed(self, occupied: bool, name: str = "bedroom/bed_strap") -> None:
        self.pub(f"zigbee2mqtt/{name}", json.dumps({"occupancy": occupied, "battery": 80}).encode())

    def next_set(self, within: float = PATIENCE_S) -> tuple[str, dict]:
        return self.sets.get(timeout=within)


async def next_set(z2m: Zigbee2Mqtt) -> tuple[str, dict]:
    return await asyncio.to_thread(z2m.next_set)


async def start(port: int, client: str, db: Path, clock: Clock,
                tick_s: float = 30.0) -> tuple[Gateway, asyncio.Event, asyncio.Task]:
    cfg = parse_config_text(HOME.replace("PORT", str(port)).replace("CLIENT", client), "home.yaml")
    gw = Gateway(cfg, db, clock=clock, commit_s=0.05, tick_s=tick_s)
    assert gw.night_light is not None
    gw.night_light.poll_s = 0.05
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    return gw, stop, task


def night(hh: int, mm: int = 0) -> SteppedClock:
    return SteppedClock(datetime(2026, 1, 6, hh, mm, tzinfo=LONDON))


async def test_out_of_bed_at_night_lights_the_path_and_back_in_bed_or_a_timeout_switches_it_off(
        mosquitto, tmp_path: Path) -> None:
    clock = night(3, 0)
    gw, stop, task = await start(mosquitto.port, "gw-nl-night", tmp_path / "h.sqlite3", clock)
    z2m = Zigbee2Mqtt(mosquitto.port, "z2m-nl-night")
    try:
        z2m.bed(True, "bedroom2/bed_strap")
        z2m.bed(False, "bedroom2/bed_strap")  # Bob never agreed: nothing for him (the first set below is Ann's)
        z2m.bed(True)
        z2m.bed(False)  # Ann gets up at 03:00
        assert await next_set(z2m) == (SET_TOPIC, ON)
        z2m.bed(True)  # back in bed
        await wait_for(lambda: gw.night_light.controller._trips["p1"].back_at is not None)
        clock.skipped += GRACE_S
        assert await next_set(z2m) == (SET_TOPIC, OFF)
        z2m.bed(False)  # up again, and not back
        assert await next_set(z2m) == (SET_TOPIC, ON)
        clock.skipped += 20 * 60
        assert await next_set(z2m) == (SET_TOPIC, OFF)
        await wait_for(lambda: gw.health_record()["night_light"]["lights"][LIGHT_IEEE]["reported_on"] is False)
        record = gw.health_record()["night_light"]
        assert record["lights"][LIGHT_IEEE] == {"held_on_for": [], "reported_on": False, "available": None,
                                                "counts": {"switched_off": 2, "switched_on": 2},
                                                "last_problem": None}
        assert (record["exits"], record["problems"]) == ({"p1": {"lit": 2}, "p2": {"no_consent": 1}}, [])
        assert z2m.sets.empty() and gw.stats.rejections == 0  # the light's own reports are not sensor input
    finally:
        z2m.close()
        stop.set()
        await task


async def test_no_light_in_the_daylight_hours_the_person_chose(mosquitto, tmp_path: Path) -> None:
    clock = night(7, 0)  # dark_hours end at 07:00
    gw, stop, task = await start(mosquitto.port, "gw-nl-day", tmp_path / "h.sqlite3", clock)
    z2m = Zigbee2Mqtt(mosquitto.port, "z2m-nl-day")
    try:
        z2m.bed(True)
        z2m.bed(False)
        await wait_for(lambda: gw.night_light.controller.exits["p1"]["daylight"] == 1)
        z2m.bed(True)
        clock.skipped += 14.5 * 3600  # 21:30: dark again
        await wait_for(lambda: gw.stats.events >= 3)
        z2m.bed(False)
        assert await next_set(z2m) == (SET_TOPIC, ON)  # the first and only command: none in daylight
    finally:
        z2m.close()
        stop.set()
        await task


async def test_a_restart_while_the_light_is_on_switches_it_off_and_a_silent_light_is_counted_not_alerted(
        mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, clock = tmp_path / "h.sqlite3", night(2, 0)
    gw, stop, task = await start(mosquitto.port, "gw-nl-restart", db, clock, tick_s=0.05)
    z2m = Zigbee2Mqtt(mosquitto.port, "z2m-nl-restart", answers=False)  # the light is out of reach
    try:
        z2m.bed(True)
        z2m.bed(False)
        assert await next_set(z2m) == (SET_TOPIC, ON)
        clock.skipped += 11  # no confirmation within 10 s
        await wait_for(lambda: gw.night_light.report()["problems"])
        assert gw.night_light.report()["problems"] == [
            f"{LIGHT_IEEE}: 1 failed (no_answer 1); last: no answer to ON within 10 s (out of range, unpowered, "
            "or not paired?)"]
        assert gw.stats.alerts == 0  # a technician's matter, never a care alert
        clock.skipped += HEALTH_EVERY_S  # the saved health record is refreshed: `hearth status` reads it
        await wait_for(lambda: (read_health(db) or {}).get("night_light", {}).get("problems"))
        await gw.flushed()
        assert await gw.in_db(gw.store.load_state, STATE_KEY) == json.dumps([LIGHT_IEEE]).encode()
    finally:
        stop.set()
        await task
    assert main(["status", "--db", str(db)]) == 0
    assert (f"Night light {LIGHT_IEEE}: switched on 1x, off 0x; last problem: no answer to ON within 10 s"
            in capsys.readouterr().out)
    gw, stop, task = await start(mosquitto.port, "gw-nl-restart", db, clock)
    try:
        assert await next_set(z2m) == (SET_TOPIC, OFF)  # what Hearth left on, off once connected
        await wait_for(lambda: gw.stats.held_items == 0 and not gw.night_light.report()["off_pending"])
        await gw.flushed()
        assert await gw.in_db(gw.store.load_state, STATE_KEY) == b"[]"
    finally:
        z2m.close()
        stop.set()
        await task


def test_a_night_light_is_not_listed_as_a_paired_device_without_a_sensor() -> None:
    from gateway.config import parse_config_text
    from gateway.night_light_mqtt import NightLightLink
    from gateway.service import zigbee_bindings
    from sensors.zigbee2mqtt import Zigbee2MqttAdapter

    cfg = parse_config_text("""\
timezone: Europe/London
people:
  - id: p1
    name: Ann
    actions: {night_light: {consented: true, lights: [{ieee_address: "0x0017880104a1b2c3"}], dark_hours: "21:30-07:00"}}
sensors:
  - {id: bed, kind: bed, room: bedroom, role: bed, person: p1}
""", "home.yaml")
    adapter = Zigbee2MqttAdapter(zigbee_bindings(cfg))
    devices = [{"ieee_address": "0x0017880104a1b2c3", "friendly_name": "hall/night_light", "type": "Router",
                "supported": True, "definition": {"model": "LWA017", "vendor": "Philips", "description": "bulb"}}]
    adapter.handle("zigbee2mqtt/bridge/devices", json.dumps(devices).encode(), datetime.now(UTC))
    assert [d.ieee_address for d in adapter.unassigned_devices()] == ["0x0017880104a1b2c3"]
    NightLightLink.for_config(cfg, adapter, lambda: 0.0)
    assert adapter.unassigned_devices() == []
