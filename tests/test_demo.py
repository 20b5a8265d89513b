"""The demo a newcomer runs: `hearth run` with no config, and the embedded broker it falls back to."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt

from gateway import broker as broker_module
from gateway.broker import LocalBroker
from gateway.storage import Store
from tests.conftest import PATIENCE_S


async def test_embedded_broker_when_mosquitto_is_absent(monkeypatch) -> None:
    monkeypatch.setattr(broker_module, "mosquitto_binary", lambda: None)
    b = LocalBroker()
    await b.start()
    got: list[bytes] = []
    try:
        assert b.kind == "amqtt (embedded)"
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-sub")
        sub.on_message = lambda _c, _u, m: got.append(m.payload)
        subacked: list[int] = []
        sub.on_subscribe = lambda _c, _u, mid, _r, _p: subacked.append(mid)
        await asyncio.to_thread(sub.connect, b.host, b.port)
        _rc, mid = sub.subscribe("zigbee2mqtt/#", qos=1)
        sub.loop_start()
        for _ in range(int(PATIENCE_S / 0.05)):  # the SUBACK: a message published before it is not ours
            if mid in subacked:
                break
            await asyncio.sleep(0.05)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-pub")
        await asyncio.to_thread(pub.connect, b.host, b.port)
        pub.loop_start()
        await asyncio.to_thread(pub.publish("zigbee2mqtt/hall/front_door", b'{"contact":false}', qos=1).wait_for_publish, PATIENCE_S)
        for _ in range(int(PATIENCE_S / 0.05)):
            if got:
                break
            await asyncio.sleep(0.05)
        for c in (sub, pub):
            c.disconnect()
            c.loop_stop()
    finally:
        await b.stop()
    assert got == [b'{"contact":false}']


def test_demo_shows_events_flowing_within_seconds(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "run", "--for-seconds", "12", "--speed", "3000",
                           "--db", str(db), "--alerts-out", str(tmp_path / "alerts.jsonl")],
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Hearth demo: a simulated home (bed, maindoor, kettle, fridge)" in proc.stderr
    events = re.findall(r"event sensor=(\w+) value=(\S+)", proc.stderr)
    assert {s for s, _v in events} >= {"bed", "kettle", "fridge", "maindoor"}
    with Store(db) as store:
        stored = store.events()
        health = {h.sensor_id for h in store.health()}
    assert len(stored) == len(events) >= 8  # every event shown was stored
    assert health == {"bed", "maindoor", "kettle", "fridge"}
