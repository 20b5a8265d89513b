"""Load benchmark of the team's hub (run on purpose; prints a table):

    .venv/bin/python -m benchmarks.hub_load                 # 1,000 homes, an hour of simulated time
    .venv/bin/python -m benchmarks.hub_load --homes 100 --minutes 10   # a quick look

1,000 simulated homes publish through a real mosquitto what a gateway publishes in an hour: a heartbeat a
minute each (with device health and engine status), a digest each, and for one home in ten an urgent
alert, its acknowledgement and its resolution. They are published in one burst, as fast as a separate
process can, and the hub (in this process, its own event loop and database threads) absorbs them.
Measured: messages per second from the first publish to the last one stored, whether every message was
stored (nothing lost), a worker's board (60 people) p50/p95 over HTTP while the burst is absorbed and
after, and the process's resident memory at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import paho.mqtt.client as mqtt

TARGETS = {"absorbed msg/s": 2000.0, "board p95 ms (busy)": 200.0, "board p95 ms (idle)": 200.0, "rss MB": 300.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mosquitto(where: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = where / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n"
                    "max_inflight_messages 1000\nmessage_size_limit 524288\n"
                    + ("user root\n" if os.geteuid() == 0 else ""))
    proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def status(home: str, minute: int, sent_at: int) -> dict[str, Any]:
    devices = [{"sensor": s, "source": "zigbee", "last_seen": "2026-01-05T08:00:00+00:00", "available": True,
                "battery": 80 - minute % 7, "linkquality": 120, "tamper": None}
               for s in ("bed", "maindoor", "kettle", "fridge")]
    return {"v": 1, "type": "status", "home": home, "sent_at": sent_at, "interval_s": 60,
            "timezone": "Europe/London", "people": [{"id": "p1", "name": f"Person {home}",
                                                     "shared": ["urgent", "concern", "digest", "technical"]}],
            "circle": [{"id": "jo", "name": "Jo", "person": "p1", "receives": ["urgent", "digest"]}],
            "open_alerts": [],
            "health": {"devices": devices, "rejected": 0, "broker_connected": True, "clock": "clock trusted",
                       "disk_free_mb": 20000, "gateway": {"problems": [], "tasks": {}},
                       "routines": {"p1": {"name": "Person", "learning": False, "blind": [], "days_learned": 30,
                                           "usual": {"wake_by": "08:10", "bed": "22:30"}}}}}


def plan(homes: int, minutes: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """Every message of the simulated period, in the order the homes would send them."""
    rng = random.Random(seed)
    t0 = int(time.time())
    alerting = set(rng.sample(range(homes), max(1, homes // 10)))
    out: list[tuple[str, bytes]] = []
    for m in range(minutes):
        for i in range(homes):
            home = f"home-{i:05d}"
            out.append((f"hearth/{home}/status", json.dumps(status(home, m, t0 + 60 * m)).encode()))
            key = f"p1:not_up:{home}"
            base = {"v": 1, "home": home, "sent_at": t0 + 60 * m}
            if i in alerting and m == minutes // 4:
                out.append((f"hearth/{home}/alerts", json.dumps(base | {
                    "type": "message", "message_id": f"a-{home}", "category": "urgent", "title": "Person: not up",
                    "body": "Usually up by 08:10 (9 days in 10); no movement since 22:40.", "person": "p1",
                    "kind": "not_up", "alert_key": key, "replaces": None, "attachments": [],
                    "ack_token": "hearth-ack1.x.y.1.n.s"}).encode()))
            if i in alerting and m in (minutes // 4 + 1, minutes // 4 + 2):
                kind = "acknowledged" if m == minutes // 4 + 1 else "resolved"
                out.append((f"hearth/{home}/events", json.dumps(base | {
                    "type": kind, "alert_key": key, "person": "p1", "category": "urgent",
                    "acknowledged_by": "Sam", "acknowledged_at": "2026-01-05T08:40:00+00:00",
                    "resolved_by": "Sam" if kind == "resolved" else None,
                    "outcome": "false_alarm" if kind == "resolved" else None, "told": []}).encode()))
            if m == minutes // 2:
                out.append((f"hearth/{home}/alerts", json.dumps(base | {
                    "type": "message", "message_id": f"digest/p1/2026-01-05/{home}", "category": "digest",
                    "title": "Person's day", "body": "Up at 07:40 as usual. Kettle 4 times. A settled night.",
                    "person": "p1", "kind": "digest", "alert_key": None, "replaces": None,
                    "attachments": [{"filename": "d.png", "mime_type": "image/png", "size": 3000,
                                     "data_b64": "iVBORw0KGgo" + "A" * 4000}]}).encode()))
    return out


def publish_all(port: int, messages: list[tuple[str, bytes]], started: Any) -> None:
    """In its own process: one client per 100 homes' worth of traffic, QoS 1, as fast as the broker takes it."""
    clients = []
    for n in range(4):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{n}")
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        c.connect("127.0.0.1", port)
        c.loop_start()
        clients.append(c)
    started.set()
    infos = [clients[i % 4].publish(t, p, qos=1) for i, (t, p) in enumerate(messages)]
    for info in infos:
        info.wait_for_publish(120)
    for c in clients:
        c.disconnect()
        c.loop_stop()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def board_times(url: str, name: str, password: str, n: int) -> list[float]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(url + "login") as r:
            token = (await r.text()).split('name="login_token" value="')[1].split('"')[0]
        async with http.post(url + "login", data={"name": name, "password": password, "login_token": token},
                             allow_redirects=False) as r:
            assert r.status == 303, r.status
        times = []
        for _ in range(n):
            t = time.perf_counter()
            async with http.get(url) as r:
                body = await r.text()
                assert r.status == 200 and "Who needs you now" in body
            times.append((time.perf_counter() - t) * 1000)
        return times


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) >= 20 else max(xs)


async def run(homes: int, minutes: int) -> dict[str, Any]:
    from hub import auth
    from hub.config import HubBroker, HubConfig
    from hub.db import connect
    from hub.service import running_hub

    where = Path(tempfile.mkdtemp(prefix="hearth-hub-load-"))
    broker, port = start_mosquitto(where)
    messages = plan(homes, minutes)
    kinds: dict[str, int] = {}
    for _topic, p in messages:
        k = json.loads(p)["type"]
        kinds[k] = kinds.get(k, 0) + 1
    db = connect(where / "hub.db")
    from hub import store
    store.create(db)
    auth.add_user(db, "sam", "worker", "bench-password", time.time(), team=[f"home-{i:05d}" for i in range(60)])
    db.close()
    cfg = HubConfig(database=where / "hub.db", port=0, broker=HubBroker(host="127.0.0.1", port=port))
    try:
        async with running_hub(cfg) as hub:
            await asyncio.wait_for(hub.intake.connected.wait(), 10)
            await asyncio.sleep(0.5)
            ctx = multiprocessing.get_context("spawn")
            started = ctx.Event()
            proc = ctx.Process(target=publish_all, args=(port, messages, started))
            proc.start()
            await asyncio.to_thread(started.wait, 30)
            t0 = time.perf_counter()
            busy = asyncio.create_task(board_times(hub.url, "sam", "bench-password", 100))
            total = len(messages)
            while sum(v for k, v in hub.intake.stats.items() if not k.startswith("refused")) < total:
                if time.perf_counter() - t0 > 600:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            busy_times = await busy
            idle_times = await board_times(hub.url, "sam", "bench-password", 200)
            await asyncio.to_thread(proc.join, 60)
            stored = dict(hub.intake.stats)
            rows = await hub.hub.read(lambda d: (d.one("SELECT COUNT(*) FROM homes")[0],
                                                 d.one("SELECT COUNT(*) FROM alerts")[0],
                                                 d.one("SELECT COUNT(*) FROM alerts WHERE state='resolved'")[0],
                                                 d.one("SELECT COUNT(*) FROM notes")[0]))
            mem = rss_mb()
    finally:
        broker.terminate()
        broker.wait()
        shutil.rmtree(where, ignore_errors=True)
    alerting = kinds.get("message", 0) - homes
    lost = total - sum(v for k, v in stored.items() if not k.startswith("refused"))
    return {"homes": homes, "simulated minutes": minutes, "messages": total, "seconds": round(elapsed, 2),
            "absorbed msg/s": round(total / elapsed), "lost": lost,
            "stored rows ok": rows == (homes, alerting, alerting, homes),
            "board p50 ms (busy)": round(statistics.median(busy_times), 1),
            "board p95 ms (busy)": round(p95(busy_times), 1),
            "board p50 ms (idle)": round(statistics.median(idle_times), 1),
            "board p95 ms (idle)": round(p95(idle_times), 1), "rss MB": round(mem, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--homes", type=int, default=1000)
    ap.add_argument("--minutes", type=int, default=60)
    args = ap.parse_args()
    result = asyncio.run(run(args.homes, args.minutes))
    print(f"{'measure':28} {'value':>12} {'target':>10}")
    for k, v in result.items():
        target = TARGETS.get(k)
        mark = ""
        if target is not None:
            ok = v >= target if k == "absorbed msg/s" else v <= target
            mark = f"{('>= ' if k == 'absorbed msg/s' else '<= ') + format(target, 'g'):>10} {'ok' if ok else 'MISSED'}"
        print(f"{k:28} {v!s:>12} {mark}")


if __name__ == "__main__":
    main()
