"""The real gateway (real mosquitto, real SQLite, real console) on a clock the test steps.

``SteppedClock`` plays the Pi's clocks: the test moves monotonic and wall time together as real time
passes, and moves the wall clock alone for a jump. Events are published as zigbee2mqtt would publish
them, so the gateway stamps each with the clock's wall time, exactly as in a home.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from test_clock_trust import DAY, LEARNED_DAYS, START, Naive, care, learned, lie_in, rows_of
from test_routines_days import SENSORS, at
from test_service import Publisher

from gateway.clock import ClockWatch
from gateway.clocktrust import ClockTrust
from gateway.config import parse_config_text
from gateway.service import STATE_KEY, Gateway
from gateway.storage import Store
from gateway.timebase import Clock
from routines.alert import Alert
from sensors.events import SensorKind
from tests.conftest import PATIENCE_S

CONFIG = """\
timezone: Europe/London
people: [{id: p1, name: Ann, pronoun: she}]
sensors:
SENSORS
broker: {host: 127.0.0.1, port: PORT, client_id: CLIENT}
console: {port: 0}
"""
KIND = {s.id: s.kind for s in SENSORS}


def config_text(port: int, client: str) -> str:
    lines = "\n".join(f"  - {{id: {s.id}, kind: {s.kind}, room: {s.room}, role: {s.role}, person: p1, "
                      f"zigbee: {{friendly_name: {s.id}}}}}" for s in SENSORS)
    return CONFIG.replace("SENSORS", lines).replace("PORT", str(port)).replace("CLIENT", client)


def payload(sensor: str, value: bool | float) -> bytes:
    """What zigbee2mqtt publishes for this reading (a contact reports ``contact: true`` when CLOSED)."""
    kind = KIND[sensor]
    if kind == SensorKind.CONTACT:
        body: dict[str, object] = {"contact": not value}
    elif kind == SensorKind.PLUG:
        body = {"power": float(value)}
    else:
        body = {"occupancy": bool(value)}
    return json.dumps(body).encode()


async def wait_for(pred, within: float = PATIENCE_S) -> None:
    """Poll often: the tests step time hundreds of times and wait for the gateway after each step."""
    deadline = time.monotonic() + within
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.001)


class SteppedClock(Clock):
    """The Pi's clocks, moved by the test. Counts the ticker's sleeps so a test can wait for a tick."""

    def __init__(self, wall: float) -> None:
        self.wall, self.mono, self.sleeps = wall, 1000.0, 0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall, UTC)

    def monotonic(self) -> float:
        return self.mono

    def sleep_s(self, simulated_seconds: float) -> float:
        self.sleeps += 1
        return simulated_seconds


class LiveHome:
    """One running gateway and a zigbee2mqtt stand-in publishing to it."""

    def __init__(self, gw: Gateway, clock: SteppedClock, port: int, client: str) -> None:
        self.gw, self.clock, self.pub = gw, clock, Publisher(port, client)
        self.alerts: list[Alert] = []
        gw.on_alert = self.alerts.append

    async def at(self, real: float, wall: float) -> None:
        """Move the clocks (monotonic follows real time) and wait for a whole tick at that time."""
        self.clock.mono, self.clock.wall = 1000.0 + real - START_REAL, wall
        seen = self.clock.sleeps
        await wait_for(lambda: self.clock.sleeps >= seen + 2)

    async def live(self, rows, start: float, end: float, offset) -> None:
        """Ann's events from real ``start`` to ``end``, with ticks at least every 10 minutes between them."""
        t = start
        for real, sensor, value in (r for r in rows if start <= r[0] < end):
            while t + 600 < real:
                t += 600
                await self.at(t, t + offset(t))
            t = real
            self.clock.mono, self.clock.wall = 1000.0 + real - START_REAL, real + offset(real)
            n = self.gw.stats.messages + 1
            self.pub.pub(f"zigbee2mqtt/{sensor}", payload(sensor, value))
            await wait_for(lambda n=n: self.gw.stats.messages >= n)
        while t + 600 < end:
            t += 600
            await self.at(t, t + offset(t))


START_REAL = learned()[1]  # day 14, 12:00: where the learned checkpoint stops


async def run_home(mosquitto, db: Path, client: str, trust: ClockTrust, rows, end: float, offset) -> LiveHome:
    blob, t0 = learned()
    with Store(db) as store:  # two learned weeks, saved the way the gateway saves them
        store.save_state(STATE_KEY, blob)
        store.commit()
    cfg = parse_config_text(config_text(mosquitto.port, client), "home.yaml")
    clock = SteppedClock(t0)
    gw = Gateway(cfg, db, clock, tick_s=0.003, commit_s=0.05, clock_trust=trust)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    home = LiveHome(gw, clock, mosquitto.port, client + "-z2m")
    try:
        await home.live(rows, t0, end, offset)
        await gw.flushed(PATIENCE_S)
    finally:
        home.pub.close()
        stop.set()
        await task
    return home


async def test_gateway_three_day_jump_no_burst_against_a_naive_gateway(mosquitto, tmp_path: Path) -> None:
    _, t0 = learned()
    jump_at = t0 + 2 * 3600  # day 14, 14:00 real: the wall clock steps three days ahead

    def offset(real: float) -> float:
        return 3 * DAY if real >= jump_at else 0.0

    rows = rows_of(edit=lie_in(LEARNED_DAYS + 1))  # the morning after: Ann does not get up until 13:00
    lie_in_day = START + timedelta(days=LEARNED_DAYS + 1 + 3)  # ...on wall day 18
    naive_end = jump_at + 3600
    naive = await run_home(mosquitto, tmp_path / "naive.sqlite3", "gw-naive", Naive(), rows, naive_end, offset)
    burst = care(naive.alerts)
    # without clock trust the engine itself now reads three days with no event and no tick as unknown
    # time (a span over a day), so even the naive gateway raises no "stillness for three days" burst
    assert burst == [], [(a.kind, a.time) for a in naive.alerts]

    end = at(START + timedelta(days=LEARNED_DAYS + 1), 11.0).timestamp()
    trust = ClockTrust(ClockWatch(synchronised=lambda: True))
    home = await run_home(mosquitto, tmp_path / "h.sqlite3", "gw-trust", trust, rows, end, offset)
    got = care(home.alerts)
    assert [(a.kind, a.time.date()) for a in got] == [("not_up", lie_in_day)]  # only what is really due
    assert got[0].time > datetime.fromtimestamp(jump_at + 3 * DAY + trust.grace_s, UTC)
    assert len(trust.watch.jumps) == 1 and len(trust.spans) == 1
    with Store(tmp_path / "h.sqlite3") as store:  # nothing lost: every event stored, judged or not
        assert store.count_events() == home.gw.stats.events > 0
        assert [a.kind for a in store.alerts() if a.audience == "care"] == ["not_up"]
    assert home.gw.stats.clock.startswith("clock trusted (1 jumps, 1 unwatched spans paused)")


async def test_unsynchronised_events_are_stored_counted_shown_and_not_judged(mosquitto, tmp_path: Path) -> None:
    synced = False
    trust = ClockTrust(ClockWatch(synchronised=lambda: synced))
    cfg = parse_config_text(config_text(mosquitto.port, "gw-unsynced"), "home.yaml")
    t0 = at(START, 8.0).timestamp()
    clock = SteppedClock(t0)
    gw = Gateway(cfg, tmp_path / "h.sqlite3", clock, tick_s=0.003, commit_s=0.05, clock_trust=trust)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    home = LiveHome(gw, clock, mosquitto.port, "gw-unsynced-z2m")
    try:
        readings = [("bed", False), ("kitchen_pir", True), ("kettle", 2100.0), ("kitchen_pir", False)]
        for i, (sensor, value) in enumerate(readings):
            clock.wall, clock.mono = t0 + 60 * i, 1000.0 + 60 * i
            home.pub.pub(f"zigbee2mqtt/{sensor}", payload(sensor, value))
            await wait_for(lambda i=i: gw.stats.messages >= i + 1)
        await home.at(START_REAL + 300, t0 + 300)  # ticks run too, and give the engine nothing
        line = "clock not synchronised: 4 events kept but not judged"
        assert gw.stats.clock == line and gw.stats.unjudged_events == 4
        assert gw.engine.first_t == 0  # the engine has been given no event and no tick
        async with aiohttp.ClientSession() as http, http.get(gw.console_url + "api/status") as r:
            shown = (await r.json())["stats"]
        assert (shown["clock"], shown["unjudged_events"]) == (line, 4)
        synced = True
        clock.wall, clock.mono = t0 + 400, 1400.0
        home.pub.pub("zigbee2mqtt/living_pir", payload("living_pir", True))
        await wait_for(lambda: gw.stats.messages >= 5)
        assert gw.engine.first_t == t0 + 400  # judged from the first trusted reading on
        assert gw.stats.clock.endswith("4 events kept but not judged") and gw.stats.unjudged_events == 4
        await gw.flushed(PATIENCE_S)
    finally:
        home.pub.close()
        stop.set()
        await task
    with Store(tmp_path / "h.sqlite3") as store:
        assert [(e.sensor_id, e.value) for e in store.events()] == [
            ("bed", False), ("kitchen_pir", True), ("kettle", True), ("kitchen_pir", False), ("living_pir", True)]
        assert store.count_clock_untrusted() == 4  # the four before synchronisation are marked as such
