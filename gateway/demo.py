"""A simulated home for the demo: publishes real zigbee2mqtt-format messages following plausible days.

Ann gets up around 07:30, uses the kettle and fridge through the day, goes out late morning, is in bed
by about 22:30 and gets up once in the night. On the fourth day she does not get up, so a newcomer
watching the demo sees the routine learned and then a "not up" alert, explained.

The payload shapes are those zigbee2mqtt publishes for the devices named in ``DEVICES`` (an Aqara
MCCGQ11LM door/window contact, a TuYa TS011F metering plug, a TuYa TS0601 bed strap).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt

from gateway.timebase import Clock

log = logging.getLogger("hearth.demo")

# friendly name -> (ieee, model, vendor, description)
DEVICES = {
    "bedroom/bed_strap": ("0xa4c138d2f6e1b0a1", "TS0601_bed", "TuYa", "Bed occupancy strap"),
    "hall/front_door": ("0x00158d0004a1b2c3", "MCCGQ11LM", "Aqara", "Door and window sensor"),
    "kitchen/kettle_plug": ("0x0c4314fffe5a7b8c", "TS011F_plug_1", "TuYa", "Smart plug (with power monitoring)"),
    "kitchen/fridge_door": ("0x00158d0004d5e6f7", "MCCGQ11LM", "Aqara", "Door and window sensor"),
}
NOT_UP_DAY = 3  # day index (0-based) on which Ann stays in bed: the demo's anomaly


@dataclass(frozen=True, slots=True)
class DemoMessage:
    at: datetime
    topic: str
    payload: dict


def _contact(open_: bool, rng: random.Random) -> dict:
    return {"battery": 91, "contact": not open_, "device_temperature": 21, "linkquality": rng.randint(90, 160),
            "power_outage_count": 3, "voltage": 3005}


def _plug(watts: float, rng: random.Random) -> dict:
    return {"current": round(watts / 240, 2), "energy": 12.41, "linkquality": rng.randint(100, 200),
            "power": watts, "power_outage_memory": "restore", "state": "ON", "voltage": 241}


def _bed(occupied: bool, rng: random.Random) -> dict:
    return {"battery": 100, "illuminance": rng.randint(420, 600) if occupied else rng.randint(0, 30),
            "linkquality": rng.randint(60, 120), "occupancy": occupied}


class DemoDay:
    """Builds one day's messages (local time) with a little seeded variation."""

    def __init__(self, day: date, index: int, tz: ZoneInfo, base: str, rng: random.Random,
                 not_up_day: int | None = NOT_UP_DAY):
        self.not_up_day = not_up_day
        self.day, self.index, self.tz, self.base, self.rng = day, index, tz, base, rng
        self.out: list[DemoMessage] = []

    def at(self, hhmm: str, jitter_min: int = 10) -> datetime:
        h, m = map(int, hhmm.split(":"))
        t = datetime.combine(self.day, time(h, m), self.tz)
        return t + timedelta(minutes=self.rng.uniform(-jitter_min, jitter_min))

    def pub(self, when: datetime, name: str, payload: dict) -> None:
        self.out.append(DemoMessage(when, f"{self.base}/{name}", payload))

    def door(self, when: datetime, name: str, open_s: float) -> None:
        self.pub(when, name, _contact(True, self.rng))
        self.pub(when + timedelta(seconds=open_s), name, _contact(False, self.rng))

    def kettle(self, when: datetime) -> None:
        self.pub(when, "kitchen/kettle_plug", _plug(2150.0, self.rng))
        self.pub(when + timedelta(seconds=self.rng.uniform(120, 200)), "kitchen/kettle_plug", _plug(0.0, self.rng))

    def build(self) -> list[DemoMessage]:
        stays_in_bed = self.index == self.not_up_day
        night = self.at("03:10", 40)
        self.pub(night, "bedroom/bed_strap", _bed(False, self.rng))  # a trip to the toilet
        self.pub(night + timedelta(minutes=self.rng.uniform(3, 9)), "bedroom/bed_strap", _bed(True, self.rng))
        if stays_in_bed:
            self.pub(self.at("12:30", 5), "bedroom/bed_strap", _bed(False, self.rng))
            start = self.at("12:40", 5)
        else:
            up = self.at("07:30", 15)
            self.pub(up, "bedroom/bed_strap", _bed(False, self.rng))
            start = up + timedelta(minutes=8)
            self.kettle(start)
            self.door(start + timedelta(minutes=4), "kitchen/fridge_door", 25)
            out = self.at("10:45", 30)
            self.door(out, "hall/front_door", 12)
            self.door(out + timedelta(minutes=self.rng.uniform(50, 110)), "hall/front_door", 10)
        for hhmm in ("13:00", "15:30", "18:15", "20:30"):
            t = self.at(hhmm, 20)
            if t > start:
                self.kettle(t)
                self.door(t + timedelta(minutes=3), "kitchen/fridge_door", self.rng.uniform(10, 60))
        self.pub(self.at("22:30", 20), "bedroom/bed_strap", _bed(True, self.rng))
        return sorted(self.out, key=lambda m: m.at)


def demo_messages(start: datetime, tz: ZoneInfo, base: str = "zigbee2mqtt", seed: int = 7,
                  not_up_day: int | None = NOT_UP_DAY) -> Iterator[DemoMessage]:
    """All demo messages from ``start`` on, day after day, in time order (``not_up_day``: the day index
    the person stays in bed, or None for a home where nothing goes wrong)."""
    rng = random.Random(seed)
    day0 = start.astimezone(tz).date()
    index = 0
    while True:
        for m in DemoDay(day0 + timedelta(days=index), index, tz, base, rng, not_up_day).build():
            if m.at >= start:
                yield m
        index += 1


def bridge_devices_payload() -> list[dict]:
    """What zigbee2mqtt retains on ``bridge/devices`` for the demo's devices (plus the coordinator)."""
    devices: list[dict] = [{"ieee_address": "0x00124b0024c1d2e3", "friendly_name": "Coordinator",
                            "type": "Coordinator", "supported": True, "interview_completed": True}]
    for name, (ieee, model, vendor, description) in DEVICES.items():
        devices.append({"ieee_address": ieee, "friendly_name": name, "type": "EndDevice" if "plug" not in name
                        else "Router", "supported": True, "interview_completed": True, "disabled": False,
                        "definition": {"model": model, "vendor": vendor, "description": description}})
    return devices


async def run_demo_home(host: str, port: int, clock: Clock, tz: ZoneInfo, base: str = "zigbee2mqtt",
                        seed: int = 7, not_up_day: int | None = NOT_UP_DAY,
                        ready: Callable[[], bool] | None = None) -> None:
    """Act as zigbee2mqtt for the demo home until cancelled; once ``ready()`` (the gateway has subscribed:
    until the broker has its subscription, a sensor message goes to nobody and the demo's first
    events, minutes of demo time on a slow start, would be lost)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hearth-demo-{base}")
    client.connect_async(host, port)
    client.loop_start()
    try:
        while ready is not None and not ready():  # noqa: ASYNC110 - a flag set on paho's thread, no event
            await asyncio.sleep(0.05)
        client.publish(f"{base}/bridge/state", json.dumps({"state": "online"}), qos=1, retain=True)
        client.publish(f"{base}/bridge/devices", json.dumps(bridge_devices_payload()), qos=1, retain=True)
        for name in DEVICES:
            client.publish(f"{base}/{name}/availability", json.dumps({"state": "online"}), qos=1, retain=True)
        log.info("demo home is publishing zigbee2mqtt messages", extra={"ctx": {"speed": f"{clock.speed:g}x"}})
        for msg in demo_messages(clock.now(), tz, base, seed, not_up_day):
            wait = (msg.at - clock.now()).total_seconds()
            if wait > 0:
                await asyncio.sleep(clock.sleep_s(wait))
            client.publish(msg.topic, json.dumps(msg.payload), qos=1)
    finally:
        await asyncio.to_thread(client.disconnect)
        await asyncio.to_thread(client.loop_stop)
