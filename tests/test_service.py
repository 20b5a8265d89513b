"""The running gateway end to end on a real mosquitto: payloads in, events stored, bad input counted."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import aiohttp
import paho.mqtt.client as mqtt

from gateway.config import parse_config_text
from gateway.service import Gateway
from gateway.storage import Store
from tests.conftest import PATIENCE_S

HOME = """\
timezone: Europe/London
people: [{id: p1, name: Ann, pronoun: she}]
sensors:
  - {id: maindoor, kind: contact, room: entrance, role: front_door, person: p1,
     zigbee: {ieee_address: "0x00158d0004a1b2c3"}}
  - {id: bed, kind: bed, room: bedroom, role: bed, person: p1, zigbee: {friendly_name: bedroom/bed_strap}}
  - {id: kettle, kind: plug, room: kitchen, role: kettle, person: p1,
     zigbee: {friendly_name: kitchen/kettle}, power: {on_above_w: 500, off_below_w: 100}}
broker: {host: 127.0.0.1, port: PORT, client_id: CLIENT}
console: {port: 0}
"""
DEVICES = [
    {"ieee_address": "0x00124b0024c1d2e3", "friendly_name": "Coordinator", "type": "Coordinator"},
    {"ieee_address": "0x00158d0004a1b2c3", "friendly_name": "hall/front_door", "type": "EndDevice",
     "supported": True, "definition": {"model": "MCCGQ11LM", "vendor": "Aqara", "description": "Door and window sensor"}},
]


def aqara(contact: bool) -> bytes:
    return json.dumps({"battery": 91, "contact": contact, "device_temperature": 21, "linkquality": 120,
                       "power_outage_count": 3, "voltage": 3005}).encode()


def plug(watts: float) -> bytes:
    return json.dumps({"current": 0.0, "energy": 1.2, "linkquality": 150, "power": watts, "state": "ON",
                       "voltage": 240}).encode()


def home_config(port: int, client_id: str) -> str:
    return HOME.replace("PORT", str(port)).replace("CLIENT", client_id)


class Publisher:
    """Plays zigbee2mqtt: a separate paho client publishing QoS 1."""

    def __init__(self, port: int, client_id: str = "test-z2m"):
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.c.reconnect_delay_set(0.1, 1)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def pub(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


async def wait_for(pred, within: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def stored(db: Path) -> list[tuple[str, object]]:
    s = Store(db)
    try:
        return [(e.sensor_id, e.value) for e in s.events()]
    finally:
        s.close()


async def test_payloads_become_stored_events_and_bad_input_is_counted(mosquitto, tmp_path: Path) -> None:
    cfg = parse_config_text(home_config(mosquitto.port, "gw-e2e"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    p = Publisher(mosquitto.port)
    try:
        p.pub("zigbee2mqtt/bridge/devices", json.dumps(DEVICES).encode(), retain=True)
        p.pub("zigbee2mqtt/hall/front_door", aqara(True))  # closed
        p.pub("zigbee2mqtt/hall/front_door", aqara(False))  # opened
        p.pub("zigbee2mqtt/kitchen/kettle", plug(2100.0))
        p.pub("zigbee2mqtt/kitchen/kettle", plug(0.4))
        p.pub("zigbee2mqtt/hall/front_door", b"{not json")
        p.pub("zigbee2mqtt/hall/front_door", b"x" * (1024 * 1024))
        p.pub("zigbee2mqtt/garage/unknown_plug", plug(5.0))
        p.pub("zigbee2mqtt/bedroom/bed_strap", json.dumps({"occupancy": "yes"}).encode())
        p.pub("zigbee2mqtt/hall/front_door", aqara(True))  # still works after all that
        await wait_for(lambda: gw.stats.messages >= 10)
        await gw.flushed(PATIENCE_S)
        assert not task.done(), "bad input must not stop the gateway"
        # flushed while running, not by the shutdown: all five events are in SQLite and every message acked
        assert (await gw.in_db(gw.store.count_events), gw.unacked_messages) == (5, 0)
    finally:
        # the broker is shared: a retained device list would be one more message for a later test's gateway
        p.pub("zigbee2mqtt/bridge/devices", b"", retain=True)
        p.close()
        stop.set()
        await task
    events = stored(tmp_path / "h.sqlite3")
    assert events == [("maindoor", False), ("maindoor", True), ("kettle", True), ("kettle", False),
                      ("maindoor", False)]
    s = Store(tmp_path / "h.sqlite3")
    reasons = {r.reason for r in s.rejections()}
    health = {h.sensor_id: h for h in s.health()}
    s.close()
    assert len(reasons) >= 4, reasons  # non-JSON, too large, unknown device, wrong type: each counted
    assert health["maindoor"].battery == 91


async def test_missing_broker_is_reported_not_fatal(tmp_path: Path) -> None:
    """No broker at the configured address: the gateway starts anyway, says (status and console) that
    the broker refuses connections and when it retries, and keeps retrying, so it connects by itself
    once the broker is there (a Pi often boots before it)."""
    from tests.conftest import Mosquitto

    broker = Mosquitto(tmp_path / "broker")  # its port is chosen, but nothing listens there yet
    cfg = parse_config_text(home_config(broker.port, "gw-nobroker"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3")
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    # paho's first attempt starts in link.start() and is refused at once; the next is 3 s later, the
    # next 4 s after that. A busy machine may look only after one of those retries (the exact countdown
    # is test_mqtt_status's), or just as one begins ("retrying now").
    refused = re.escape(f"cannot reach broker 127.0.0.1:{broker.port}: connection refused "
                        "(is the broker running, on that port?); ") + (
        r"(1 failed attempt, retrying (in [0-3] s|now)|[2-9] failed attempts, retrying (in [0-9]+ s|now))")
    try:
        await asyncio.wait_for(gw.ready.wait(), 60)
        assert not task.done() and not gw.link.connected
        await wait_for(lambda: gw.link.failed_attempts >= 1)
        status = gw.link.status  # read once: paho's thread moves on meanwhile
        assert re.fullmatch(refused, status), status
        async with aiohttp.ClientSession() as http, http.get(gw.console_url + "api/status") as r:
            shown = (await r.json())["broker"]
        assert shown["connected"] is False and re.fullmatch(refused, shown["status"]), shown
        # the broker only comes up now, so the connection below is a retry after a refusal
        await asyncio.to_thread(broker.start)
        await wait_for(lambda: gw.link.connected and gw.link.subscribed)
        assert not task.done()
        assert (gw.link.connects, gw.link.failed_attempts, gw.link.status) == (
            1, 0, f"connected to 127.0.0.1:{broker.port}")
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        broker.stop()


async def test_broker_restart_loses_no_qos1_message(own_mosquitto, tmp_path: Path) -> None:
    cfg = parse_config_text(home_config(own_mosquitto.port, "gw-restart"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    p = Publisher(own_mosquitto.port)
    p.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0))
    await wait_for(lambda: gw.stats.events >= 1)
    p.close()
    await asyncio.to_thread(own_mosquitto.restart)
    # Published right after the restart, possibly before the gateway has reconnected: the broker
    # must hold them in the gateway's persistent session.
    p = Publisher(own_mosquitto.port, "test-z2m-2")
    watts = [0.0, 2000.0, 0.0, 2000.0, 0.0, 2000.0, 0.0]
    for w in watts:
        p.pub("zigbee2mqtt/kitchen/kettle", plug(w))
    try:
        await wait_for(lambda: gw.stats.events >= 1 + len(watts))
    finally:
        p.close()
        stop.set()
        await task
    assert [v for _s, v in stored(tmp_path / "h.sqlite3")] == [True, False, True, False, True, False, True, False]


class ChildLog:
    """The JSON log lines a child process writes to stderr, read on a thread: a wait can then time out
    (a blocking readline cannot) and the pipe is always drained, so the child never blocks on it.

        log = ChildLog(proc)
        log.wait_for(lambda line: line["msg"] == "subscribed")
    """

    def __init__(self, proc: subprocess.Popen[bytes]):
        self.lines: queue.Queue[dict[str, object]] = queue.Queue()
        threading.Thread(target=self._read, args=(proc.stderr,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):  # ends at EOF, when the child exits
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # not a log record (e.g. a traceback's continuation)
            if isinstance(line, dict):
                self.lines.put(line)

    def wait_for(self, pred: Callable[[dict[str, object]], object], count: int = 1,
                 within: float = PATIENCE_S) -> None:
        """Return once ``count`` more lines matching ``pred`` have been logged; fail after ``within`` s."""
        deadline = time.monotonic() + within
        seen = 0
        while seen < count:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"only {seen} of {count} expected log lines within {within} s") from None
            seen += bool(pred(line))


def test_killed_gateway_loses_nothing_acked(mosquitto, tmp_path: Path) -> None:
    """SIGKILL the real `hearth run` process; what was published meanwhile arrives after restart."""
    cfg_file = tmp_path / "home.yaml"
    cfg_file.write_text(home_config(mosquitto.port, "gw-kill"))
    db = tmp_path / "h.sqlite3"
    cmd = [sys.executable, "-m", "gateway.cli", "--log-format", "json", "run", "--config", str(cfg_file),
           "--db", str(db)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start() -> tuple[subprocess.Popen[bytes], ChildLog]:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        log = ChildLog(proc)
        log.wait_for(lambda line: line["msg"] == "subscribed")
        return proc, log

    proc, log = start()
    p = Publisher(mosquitto.port, "test-z2m-kill")
    try:
        for i in range(6):
            p.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0 if i % 2 == 0 else 0.0))
        # killed once it has handled all six (logged each as an event), whether or not its 1 s commit
        # has stored and acked them yet: either way none may be lost or doubled
        log.wait_for(lambda line: line["msg"] == "event" and line.get("sensor") == "kettle", count=6)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for i in range(6, 10):  # while the gateway is dead
            p.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0 if i % 2 == 0 else 0.0))
        proc, log = start()
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline and len(stored(db)) < 10:
            time.sleep(0.2)
    finally:
        p.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(PATIENCE_S)
    values = [v for _s, v in stored(db)]
    assert values == [True, False] * 5


async def test_ble_adverts_relayed_over_mqtt_reach_the_store(mosquitto, tmp_path: Path) -> None:
    """An ESP32 proxy (OpenMQTTGateway format) forwards a BTHome window-open advert."""
    window = "  - {id: window, kind: contact, room: bedroom, person: p1, ble: {mac: 'A4:C1:38:8D:18:B2'}}\n"
    text = home_config(mosquitto.port, "gw-ble").replace("sensors:\n", "sensors:\n" + window)
    cfg = parse_config_text(text + 'ble: {enabled: false, relay_topics: ["home/+/BTtoMQTT/#"]}\n', "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    p = Publisher(mosquitto.port, "omg-kitchen")
    try:
        advert = {"id": "A4:C1:38:8D:18:B2", "rssi": -71, "servicedata": "402d01", "servicedatauuid": "0xfcd2"}
        p.pub("home/OMG_kitchen/BTtoMQTT/A4C1388D18B2", json.dumps(advert).encode())
        p.pub("home/OMG_kitchen/BTtoMQTT/A4C1388D18B2", b"not json")
        await wait_for(lambda: gw.stats.messages >= 2)
        await gw.flushed(PATIENCE_S)
    finally:
        p.close()
        stop.set()
        await task
    s = Store(tmp_path / "h.sqlite3")
    events = [(e.sensor_id, e.value, e.source) for e in s.events()]
    reasons = {(r.source, r.reason) for r in s.rejections()}
    s.close()
    assert events == [("window", True, "ble-mqtt")]
    assert any(src == "ble-mqtt" for src, _ in reasons)


async def test_no_bluetooth_adapter_is_reported_and_zigbee_keeps_working(mosquitto, tmp_path: Path) -> None:
    window = "  - {id: window, kind: contact, room: bedroom, person: p1, ble: {mac: 'A4:C1:38:8D:18:B2'}}\n"
    text = home_config(mosquitto.port, "gw-noble").replace("sensors:\n", "sensors:\n" + window)
    cfg = parse_config_text(text, "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed and gw.ble_scanner is not None)
    p = Publisher(mosquitto.port, "z2m-noble")
    try:
        p.pub("zigbee2mqtt/kitchen/kettle", plug(2100.0))
        await wait_for(lambda: gw.stats.events >= 1)
        await gw.flushed(PATIENCE_S)
        # no BlueZ / D-Bus on this machine: bleak really fails, the scanner says so and backs off
        await wait_for(lambda: "retrying in" in gw.ble_scanner.status)
        assert not task.done()
    finally:
        p.close()
        stop.set()
        await task
    assert stored(tmp_path / "h.sqlite3") == [("kettle", True)]


async def test_ending_a_pause_at_the_console_sends_the_held_alert_note_at_once(mosquitto, tmp_path: Path) -> None:
    """An urgent alert withheld during a privacy pause is never sent, but the team is told, once the
    pause is over, that something was held. Ending the pause at the console makes that note due, and
    it goes out at once — not after the sender's idle wait (made 120 s here so the two cannot be confused)."""
    from routines.alert import Alert, Audience, Severity
    from tests.test_console_security import console_post
    from tests.test_digest_schedule import Receiver
    from tests.test_gateway_alerting import SECRET, home

    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    async with Receiver(SECRET.encode()) as rx:
        gw = Gateway(parse_config_text(home(mosquitto.port, "gw-pause-console", rx.url, secret_file), "home.yaml"),
                     tmp_path / "hearth.sqlite3", commit_s=0.1)
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        try:
            await asyncio.wait_for(gw.ready.wait(), 60)
            await wait_for(lambda: gw.link.subscribed and bool(gw.console_url))
            delivery = gw.alerting.delivery
            delivery.idle_s = 120.0

            def held() -> bool:
                return any(w["alert_key"] == "p1:silence:1" for w in delivery.outbox.withheld(reason="paused"))

            # each idle wait the sender begins: was the alert already withheld, and how long is the wait
            waits: list[tuple[bool, float]] = []
            idle_for = delivery._idle_for

            def recorded_idle_for() -> float:
                waits.append((held(), idle_for()))
                return waits[-1][1]

            delivery._idle_for = recorded_idle_for
            async with aiohttp.ClientSession() as http:
                assert (await console_post(http, gw.console_url, "api/pause", {"person": "p1", "hours": 4}))[0] == 200
                gw.raise_alerts([Alert(gw.clock.now(), "p1", "silence", Severity.URGENT, Audience.CARE,
                                       "Urgent number 1.", key="p1:silence:1")])
                # the sender has withheld it and settled into its long idle wait (seen, not slept on)
                await wait_for(lambda: waits and waits[-1][0])
                assert waits[-1][1] > PATIENCE_S and rx.got == []
                assert await console_post(http, gw.console_url, "api/pause", {"person": "p1", "end": True}) == (
                    200, {"ended": 1})
                # within PATIENCE_S (60 s), well short of the 120 s idle wait: sent at once, not at the next look
                await wait_for(lambda: any("urgent alert(s) were held" in g["body"] for g in rx.got))
        finally:
            stop.set()
            await task
    [note] = rx.got
    assert note["category"] == "urgent"
    assert "Urgent number 1." not in note["body"]  # what was held stays held; only the fact is told
