"""Nothing ends monitoring silently: a message the gateway fails on is counted and acked, a task that
dies is restarted and reported, and the watchdog goes unfed only when restarting is not helping."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from pathlib import Path

import pytest
from test_service import Publisher, home_config, plug, stored, wait_for
from test_systemd import fields

from gateway.clock import ClockWatch
from gateway.clocktrust import ClockTrust
from gateway.config import parse_config_text
from gateway.health import judge, read_health
from gateway.service import HEALTH_KEY, Gateway
from gateway.storage import Store
from gateway.supervise import DOWN_TOO_LONG_S
from gateway.timebase import Clock
from tests.conftest import PATIENCE_S

RELAY = "hearth/ble-relay/#"
DOOR_MAC = "A4:C1:38:8D:18:B2"
# What the issue found ending all monitoring: each on a relay topic, then a normal reading must still count.
POISON = [
    b'{"mac": "A4:C1:38:8D:18:B2", "rssi": NaN, "uuid": "fcd2", "data": "402d01"}',
    b'{"mac": "A4:C1:38:8D:18:B2", "rssi": Infinity, "uuid": "fcd2", "data": "402d01"}',
    b'{"mac": "A4:C1:38:8D:18:B2", "rssi": 1e400, "uuid": "fcd2", "data": "402d01"}',
    b"[" * 2000 + b"]" * 2000,
]


def relay_config(port: int, client: str) -> str:
    return home_config(port, client) + f"ble: {{relay_topics: ['{RELAY}']}}\n"


async def start(cfg_text: str, db: Path, **kw) -> tuple[Gateway, asyncio.Event, asyncio.Task[None]]:
    gw = Gateway(parse_config_text(cfg_text, "home.yaml"), db, commit_s=0.05, **kw)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    return gw, stop, task


async def test_poison_relay_messages_are_counted_acked_and_never_come_back(mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    gw, stop, task = await start(relay_config(mosquitto.port, "gw-poison"), db)
    p = Publisher(mosquitto.port, "z2m-poison")
    try:
        for payload in POISON:
            p.pub("hearth/ble-relay/bedroom-proxy", payload)
        p.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0))
        await wait_for(lambda: gw.stats.events == 1)
        await gw.flushed(PATIENCE_S)
        assert gw.unacked_messages == 0 and not task.done()
        assert gw.stats.rejections >= len(POISON)
    finally:
        stop.set()
        await task
    def relay_rejections() -> int:
        with Store(db) as s:
            return sum(r.count for r in s.rejections() if r.source != "zigbee2mqtt")

    before = relay_rejections()
    assert before >= len(POISON)
    # a restart on the same persistent session: the broker has nothing of them left to give back
    gw2, stop2, task2 = await start(relay_config(mosquitto.port, "gw-poison"), db)
    try:
        p.pub("zigbee2mqtt/kitchen/kettle", plug(0.0))
        await wait_for(lambda: gw2.stats.events == 1)  # handled after anything redelivered before it
        await gw2.flushed(PATIENCE_S)
    finally:
        p.close()
        stop2.set()
        await task2
    assert relay_rejections() == before  # no poison message came back
    assert stored(db) == [("kettle", True), ("kettle", False)]


async def test_a_bug_on_one_message_is_an_internal_error_and_the_next_is_handled(mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    gw, stop, task = await start(home_config(mosquitto.port, "gw-bug"), db)
    real_handle = gw.adapter.handle

    def buggy(topic: str, payload: bytes, now, **kw):  # an adapter bug on one device's messages
        if topic.endswith("bed_strap"):
            raise KeyError("occupancy")
        return real_handle(topic, payload, now, **kw)

    gw.adapter.handle = buggy
    p = Publisher(mosquitto.port, "z2m-bug")
    try:
        p.pub("zigbee2mqtt/bedroom/bed_strap", json.dumps({"occupancy": True}).encode())
        p.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0))
        await wait_for(lambda: gw.stats.events == 1)
        await gw.flushed(PATIENCE_S)
        assert (gw.stats.internal_errors, gw.unacked_messages, task.done()) == (1, 0, False)
    finally:
        p.close()
        stop.set()
        await task
    with Store(db) as s:
        [bug] = [r for r in s.rejections() if r.reason == "internal_error"]
    assert (bug.source, bug.device, bug.count) == ("mqtt", "zigbee2mqtt/bedroom/bed_strap", 1)
    assert bug.last_detail.startswith("KeyError: 'occupancy' (tests/test_gateway_guard.py:")
    assert stored(db) == [("kettle", True)]


async def test_a_task_that_dies_is_restarted_and_reported(mosquitto, tmp_path: Path) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("lost the radio")
        await asyncio.Event().wait()

    db = tmp_path / "h.sqlite3"
    # a synchronised clock: this machine's may say "not synchronised", a problem of its own, not this test's
    synced = ClockTrust(ClockWatch(synchronised=lambda: True))
    gw, stop, task = await start(home_config(mosquitto.port, "gw-flaky"), db, extra_tasks=[flaky], tick_s=0.05,
                                 clock_trust=synced)
    try:
        await wait_for(lambda: len(runs) == 2)
        rec = gw.supervisor.records["flaky"]
        assert (rec.state, rec.restarts) == ("running", 1)
        assert rec.last_error.startswith("RuntimeError: lost the radio (tests/test_gateway_guard.py:")
        assert gw.healthy() and gw.problems() == []

        async def saved() -> dict:
            blob = await gw.in_db(gw.store.load_state, HEALTH_KEY)
            return json.loads(blob) if blob else {}

        # the failure is saved at once for `hearth status` / `hearth doctor`, not at the next refresh;
        # first as a problem (restarting), then, once the task runs again, as a past failure
        first_save_seen = False
        for _ in range(int(PATIENCE_S / 0.05)):
            record = await saved()
            if record.get("tasks", {}).get("flaky", {}).get("restarts") == 1:
                first_save_seen = True
                if not record.get("problems"):
                    break
            await asyncio.sleep(0.05)
        assert first_save_seen
        assert (await saved())["tasks"]["flaky"]["last_error"] == rec.last_error
        # what `hearth doctor` and `hearth status` make of it, from another process's point of view
        state, what, fix = judge(read_health(db), time.time())
        assert (state, fix) == ("WARN", "report it with the log lines: journalctl -u hearth | grep -i 'failed'")
        assert f"flaky restarted 1x (last: {rec.last_error})" in what
    finally:
        stop.set()
        await task


class ManualMonotonic(Clock):
    """Real wall time; a monotonic clock the test moves (to pass the 'failing too long' limit)."""

    def __init__(self) -> None:
        self.mono = 1000.0

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def watchdog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    yield sock
    sock.close()


def drain(sock: socket.socket) -> list[dict[str, str]]:
    got = []
    while True:
        try:
            got.append(fields(sock.recv(4096)))
        except BlockingIOError:
            return got


async def test_watchdog_unfed_while_a_task_keeps_failing(mosquitto, tmp_path: Path, watchdog,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.systemd")

    def withheld() -> int:
        return sum(r.name == "gateway.systemd" and r.getMessage().startswith("withholding the watchdog ping")
                   for r in caplog.records)

    async def broken() -> None:
        raise OSError("hci0 gone")

    clock = ManualMonotonic()
    gw, stop, task = await start(home_config(mosquitto.port, "gw-wd"), tmp_path / "h.sqlite3", clock=clock,
                                 extra_tasks=[broken], tick_s=0.02)
    try:
        await wait_for(lambda: any(f.get("WATCHDOG") == "1" for f in drain(watchdog)))  # fed while young
        assert "broken restarting after 1 failure: OSError: hci0 gone" in gw.problems()[0]
        clock.mono += DOWN_TOO_LONG_S + 1  # still failing, long past the limit
        await wait_for(lambda: not gw.healthy())
        drain(watchdog)
        # several later rounds of the pinger, each seen to withhold its ping (a round that pinged instead
        # would have put its datagram in the socket before the next round's log line): not a sleep
        rounds = withheld()
        await wait_for(lambda: withheld() >= rounds + 3)
        assert not any(f.get("WATCHDOG") == "1" for f in drain(watchdog))
    finally:
        stop.set()
        await task
