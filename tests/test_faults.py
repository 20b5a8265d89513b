"""Faults found by attacking a real `hearth run` (a child process, a real mosquitto, a real SQLite file,
a real webhook receiver): each test is one attack that once lost monitoring or hid it from technicians.

Only public seams: the CLI, MQTT, HTTP (console and webhook), the JSON log and the database file.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.reliability_rig import GatewayProc, Publisher, Receiver, count_events, home_config, wait_until
from gateway.checkpoint import pack
from gateway.config import parse_config_text
from gateway.service import STATE_KEY
from gateway.storage import Store
from routines.engine import RoutineEngine
from sensors.events import SensorEvent, SensorKind
from tests.conftest import PATIENCE_S, Mosquitto
from tests.test_service import wait_for


def started(gw: GatewayProc) -> bool:
    """Start ``gw`` and wait until it is subscribed and its console listens (either may come first)."""
    gw.start(wait_subscribed=False)
    want = {"subscribed", "gateway running"}
    return gw.wait_log(lambda line: not want.difference_update({line.get("msg")}) and not want, within=PATIENCE_S)


def console_status(gw: GatewayProc) -> dict[str, Any]:
    with urllib.request.urlopen(gw.console + "/api/status", timeout=PATIENCE_S) as r:
        return json.loads(r.read())


@pytest.fixture
def rig(own_mosquitto: Mosquitto, tmp_path: Path):
    """A gateway process (not started) for one person with four contacts, whose technician and care
    worker are reached by a signed webhook to ``rx``; stopped and closed after the test."""
    rx = Receiver()
    gw = GatewayProc(tmp_path, home_config(own_mosquitto.port, f"faults-{tmp_path.name}", 1, rx.url, tmp_path))
    pub = Publisher(own_mosquitto.port, f"faults-z2m-{tmp_path.name}")
    yield gw, rx, pub
    pub.close()
    gw.stop()
    rx.close()


def test_an_unreadable_checkpoint_in_a_home_with_recipients_still_starts_and_tells(rig) -> None:
    """Found: the unreadable copy was saved without a commit, so the write lock stayed held and the
    outbox's own connection failed 'database is locked': exit 1 at every start, monitoring gone."""
    gw, rx, pub = rig
    home = parse_config_text(gw.config.read_text(), "home.yaml").to_home()
    with Store(gw.db) as s:  # a checkpoint cut short, as a power cut mid-copy or a bad card leaves it
        s.save_state(STATE_KEY, pack(RoutineEngine(home).checkpoint(), 0)[:100])
        s.commit()
    assert started(gw), gw.raw_log.decode()[-2000:]
    [problem] = console_status(gw)["gateway"]["problems"]
    assert problem.startswith("learned routines could not be restored")
    pub.contact("h000/fridge", battery=3)  # the alert path, outbox included, works
    assert wait_until(lambda: any(d.body.get("recipient") == "tech" for d in rx.deliveries), PATIENCE_S)
    assert gw.alive()


def test_a_database_file_deleted_under_the_running_gateway_is_written_back_and_nothing_is_lost(rig) -> None:
    """Found: deleted while running, SQLite went on writing to the nameless file, the console said
    nothing was wrong, and the next start began empty: every event, alert and the day's learning gone."""
    gw, rx, pub = rig
    assert started(gw)
    for _ in range(4):
        pub.contact("h000/fridge")
    assert wait_until(lambda: count_events(gw.db) == 4, PATIENCE_S)
    gw.db.unlink()  # as a clean-up script or a wrong `rm` would
    for _ in range(3):
        pub.contact("h000/fridge")
    pub.contact("h000/cupboard", battery=3)  # an alert raised while the file has no name
    assert gw.proc is not None
    gw.proc.wait(2 * PATIENCE_S)  # the ticker (every 30 s) notices, then it stops to write it back
    assert gw.proc.returncode == 1  # systemd's Restart=on-failure starts it again
    assert gw.db.exists()
    assert any(line.get("msg", "").startswith("the database file was deleted") for line in gw.lines)
    assert started(gw)
    assert wait_until(lambda: count_events(gw.db) == pub.published == 8, PATIENCE_S)
    assert wait_until(lambda: any(d.body.get("recipient") == "tech" for d in rx.deliveries), PATIENCE_S)
    assert all(len(ids) == 1 for ids in rx.keys_by_alert().values())  # delivered once, not again
    with Store(gw.db) as s:
        assert s.load_state(STATE_KEY)  # the learning was saved in the copy written back


def test_zigbee2mqtt_saying_it_is_offline_is_a_problem_technicians_see(rig) -> None:
    """Found: zigbee2mqtt's last will (``bridge/state`` offline, retained) was ignored; with it down no
    sensor reaches Hearth, yet the console, `hearth status` and the hub said nothing was wrong."""
    gw, _rx, pub = rig
    assert started(gw)

    def bridge_problems() -> list[str]:
        return [p for p in console_status(gw)["gateway"]["problems"] if p.startswith("zigbee2mqtt reported")]

    assert bridge_problems() == []
    pub.c.publish("zigbee2mqtt/bridge/state", b'{"state": "offline"}', qos=1, retain=True)
    assert wait_until(bridge_problems, PATIENCE_S)
    gw.stop()
    assert started(gw)  # the retained last will tells a gateway started while zigbee2mqtt is down
    assert wait_until(bridge_problems, PATIENCE_S)
    pub.c.publish("zigbee2mqtt/bridge/state", b"online", qos=1, retain=True)  # legacy plain text
    assert wait_until(lambda: not bridge_problems(), PATIENCE_S)


def test_sighup_reloads_a_config_that_loads_and_refuses_a_broken_one_aloud(rig) -> None:
    """Found: SIGHUP (what `systemctl reload` and a technician's `kill -HUP` send) ended the gateway
    at once, and systemd does not restart a service a SIGHUP ended: the home went unwatched."""
    gw, _rx, pub = rig
    assert started(gw) and gw.proc is not None
    pid, good = gw.proc.pid, gw.config.read_text()
    gw.config.write_text(good.replace("timezone: UTC", "timezone: Mars/Olympus_Mons"))  # a slip while editing
    gw.proc.send_signal(signal.SIGHUP)

    def problems() -> list[str]:
        return console_status(gw)["gateway"]["problems"]

    assert wait_until(lambda: any("was not reloaded" in p and "Mars/Olympus_Mons" in p for p in problems()),
                      PATIENCE_S)
    pub.contact("h000/fridge")  # still watching, on the config it started with
    assert wait_until(lambda: count_events(gw.db) == 1, PATIENCE_S)
    cfg = yaml.safe_load(good)  # now a good edit: one more sensor
    cfg["sensors"].append({**cfg["sensors"][0], "id": "s000new", "zigbee": {"friendly_name": "h000/new"}})
    gw.config.write_text(yaml.safe_dump(cfg))
    gw.proc.send_signal(signal.SIGHUP)
    assert gw.wait_log(lambda line: line.get("msg") == "gateway stopped", within=PATIENCE_S)
    assert gw.wait_log(lambda line: line.get("msg") == "gateway running", within=PATIENCE_S)
    assert gw.alive() and gw.proc.pid == pid  # the same process: systemd never saw it stop
    assert not any("was not reloaded" in p for p in problems())
    pub.contact("h000/new")  # the new sensor is heard
    assert wait_until(lambda: count_events(gw.db) == 2, PATIENCE_S)


def test_readings_after_the_clock_steps_back_are_stored_not_taken_for_repeats(rig) -> None:
    """Found: a reading whose zigbee2mqtt ``last_seen`` was older than the device's last was dropped
    as a broker's repeat; when the Pi's clock steps back (a wrong time corrected), zigbee2mqtt's
    stamps step back with it, and every sensor went unheard until the clock caught up."""
    gw, _rx, pub = rig
    assert started(gw)
    t0 = datetime.now(UTC)

    def reading(contact: bool, at: datetime) -> bytes:
        stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json.dumps({"battery": 90, "contact": contact, "linkquality": 100, "last_seen": stamp}).encode()

    stamps = [t0 + timedelta(seconds=i) for i in range(3)] + [t0 - timedelta(hours=1, seconds=-i) for i in range(5)]
    payloads = [reading(i % 2 == 0, at) for i, at in enumerate(stamps)]
    for payload in payloads:
        pub.c.publish("zigbee2mqtt/h000/fridge", payload, qos=1)
    assert wait_until(lambda: count_events(gw.db) == len(stamps), PATIENCE_S)
    pub.c.publish("zigbee2mqtt/h000/fridge", payloads[-1], qos=1)  # a true repeat, byte for byte
    assert wait_until(lambda: any(r["reason"] == "redelivered" for r in console_status(gw)["rejections"]),
                      PATIENCE_S)
    assert count_events(gw.db) == len(stamps)


async def test_a_broker_that_delivers_nothing_from_zigbee2mqtt_is_a_problem_until_it_does(
        own_mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Found: a broker ACL that lets Hearth subscribe to zigbee2mqtt/# but not read it (mosquitto 2
    grants the subscription and delivers nothing) left the console saying 'connected', no problem,
    every sensor unheard until each went silent, hours later."""
    from tests.test_gateway_guard import start
    from tests.test_service import Publisher as Z2m
    from tests.test_service import home_config as service_home

    z2m = Z2m(own_mosquitto.port, "z2m-unheard")
    z2m.pub("zigbee2mqtt/bridge/state", b'{"state": "online"}', retain=True)  # as zigbee2mqtt keeps it
    z2m.close()
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite hearth/#\n")  # anonymous clients may not read zigbee2mqtt/
    own_mosquitto.conf.write_text(own_mosquitto.conf.read_text() + f"acl_file {acl}\n")
    own_mosquitto.restart()  # the retained state is kept (persistence), but no longer readable

    def unheard() -> list[str]:
        return [p for p in gw.problems() if p.startswith("nothing heard from zigbee2mqtt on zigbee2mqtt/#")]

    gw, stop, task = await start(service_home(own_mosquitto.port, "gw-unheard"), tmp_path / "h.sqlite3",
                                 tick_s=0.05, zigbee_unheard_s=0.5)
    try:
        await wait_for(unheard)
        assert gw.stats.messages == 0 and gw.link.connected
        acl.write_text("topic readwrite #\n")  # the ACL put right
        own_mosquitto.restart()
        await wait_for(lambda: not unheard())  # the retained bridge state arrives on re-subscribing
        assert gw.stats.messages >= 1
    finally:
        stop.set()
        await task


def test_a_database_sqlite_cannot_read_is_kept_aside_and_the_home_watched_on_a_new_one(rig) -> None:
    """Found: a database file that is not one (a bad card, a half-copied restore) made every start exit
    1; systemd gives up after ten, and the home was unwatched. Now it is moved aside, kept, and said."""
    gw, rx, pub = rig
    junk = b"SQLite format 3\0" + bytes(range(256)) * 20  # a header, then nothing SQLite can read
    gw.db.write_bytes(junk)
    assert started(gw), gw.raw_log.decode()[-2000:]
    [problem] = console_status(gw)["gateway"]["problems"]
    assert problem.startswith("the database could not be read") and "hearth restore" in problem
    [kept] = gw.db.parent.glob(gw.db.name + ".corrupt-*")
    assert kept.read_bytes() == junk and problem.count(kept.name) == 1
    pub.contact("h000/fridge", battery=3)  # watched: stored, alerted, delivered
    assert wait_until(lambda: count_events(gw.db) == 1, PATIENCE_S)
    assert wait_until(lambda: any(d.body.get("recipient") == "tech" for d in rx.deliveries), PATIENCE_S)


def test_a_database_locked_by_another_program_is_a_problem_while_nothing_can_be_stored(rig) -> None:
    """Found: while another program held the write lock (a technician's sqlite3 shell mid-transaction,
    a copy tool), nothing was stored and the console listed no problem; only a full hold of 20,000
    items would have said so. Now it says since when, how much is held and the error."""
    gw, _rx, pub = rig
    assert started(gw)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.readline(); c.execute('ROLLBACK')",
         str(gw.db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        for _ in range(3):
            pub.contact("h000/fridge")

        def not_stored() -> list[str]:
            return [p for p in console_status(gw)["gateway"]["problems"] if p.startswith("nothing stored since")]

        assert wait_until(lambda: any("database is locked" in p for p in not_stored()), PATIENCE_S)
    finally:
        holder.communicate("\n", timeout=PATIENCE_S)  # the other program lets go
    assert wait_until(lambda: count_events(gw.db) == 3, PATIENCE_S)
    assert wait_until(lambda: not not_stored(), PATIENCE_S)


def test_a_file_moved_over_the_running_database_is_left_and_the_running_data_kept_beside_it(rig) -> None:
    """Someone's file moved over the database while the gateway ran: the gateway's data would be lost
    at the next start. It is kept beside as ``<name>.kept-<time>``, and the lost file's ``-wal`` is
    not left for the new file to read as its own."""
    gw, _rx, pub = rig
    assert started(gw) and gw.proc is not None
    for _ in range(4):
        pub.contact("h000/fridge")
    assert wait_until(lambda: count_events(gw.db) == 4, PATIENCE_S)
    other = gw.workdir / "other.sqlite3"
    with Store(other) as s:  # a Hearth database of its own (WAL, as the gateway's)
        s.commit()
    other.replace(gw.db)
    pub.contact("h000/fridge")
    gw.proc.wait(2 * PATIENCE_S)  # noticed at the next tick (every 30 s)
    assert gw.proc.returncode == 1
    assert not gw.db.with_name(gw.db.name + "-wal").exists()  # (before anything here opens the new file)
    [kept] = gw.db.parent.glob(gw.db.name + ".kept-*")
    assert count_events(kept) == 5 and count_events(gw.db) == 0
    assert started(gw)  # on the file put there


async def test_a_clock_that_is_not_synchronised_is_a_problem_since_nothing_is_judged(mosquitto, tmp_path: Path) -> None:
    """Found: a Pi with no time source (no RTC, no network) keeps every event but judges none, so no
    alert of any kind is raised; the problems list (console, status, the hub) said nothing."""
    from gateway.clock import ClockWatch
    from gateway.clocktrust import ClockTrust
    from tests.test_gateway_guard import start
    from tests.test_service import Publisher as Z2m
    from tests.test_service import home_config as service_home
    from tests.test_service import plug

    synced = False
    trust = ClockTrust(ClockWatch(synchronised=lambda: synced))
    gw, stop, task = await start(service_home(mosquitto.port, "gw-nosync"), tmp_path / "h.sqlite3",
                                 clock_trust=trust, tick_s=0.05)
    z2m = Z2m(mosquitto.port, "z2m-nosync")
    try:
        z2m.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0))
        await wait_for(lambda: gw.stats.events == 1)
        assert "clock not synchronised: 1 events kept but not judged: no alert can be raised until the clock " \
               "can be trusted" in gw.problems()
        synced = True  # NTP answers
        await wait_for(lambda: not [p for p in gw.problems() if p.startswith("clock ")])
    finally:
        z2m.close()
        stop.set()
        await task


async def test_the_clock_mark_is_saved_often_enough_that_a_quick_restart_is_not_an_unwatched_span(
        mosquitto, tmp_path: Path) -> None:
    """Found by reading the code: the clock trust's mark was saved only with the checkpoint
    (every 10 min). A crash just before the next one, restarted 15 s later, restored a mark over 10 min
    old: 'unwatched span', every alert paused 30 min more, though the broker had kept every event."""
    from gateway.clocktrust import ClockTrust
    from gateway.service import CLOCK_KEY
    from tests.held_clock import HeldClock
    from tests.test_gateway_guard import start
    from tests.test_service import Publisher as Z2m
    from tests.test_service import home_config as service_home
    from tests.test_service import plug

    clock = HeldClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC), speed=600.0)
    db = tmp_path / "h.sqlite3"
    gw, stop, task = await start(service_home(mosquitto.port, "gw-mark"), db, clock=clock, tick_s=30.0,
                                 checkpoint_s=3600.0)  # no checkpoint in this test: only the mark
    z2m = Z2m(mosquitto.port, "z2m-mark")
    try:
        z2m.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0))
        await wait_for(lambda: gw.stats.events == 1)
        clock.move(9 * 60 + 50)  # nearly a checkpoint interval on, judging all the while

        def saved_mark() -> float:
            with Store(db) as s:
                blob = s.load_state(CLOCK_KEY)
            return (json.loads(blob)["judged_until"] or 0.0) if blob else 0.0

        await wait_for(lambda: saved_mark() >= clock.now().timestamp() - 300)
        crash_at = clock.now()
    finally:
        z2m.close()
        stop.set()
        await task
    # what a successor restarted 15 s after a crash at ``crash_at`` makes of the mark it finds
    successor = ClockTrust.for_clock(clock)
    with Store(db) as s:
        successor.restore_state(s.load_state(CLOCK_KEY))
    engine = RoutineEngine(parse_config_text(service_home(mosquitto.port, "x"), "home.yaml").to_home())
    engine.process(SensorEvent(crash_at, "kettle", SensorKind.PLUG, True, "test"))
    assert successor.admit(engine, 5000.0, crash_at + timedelta(seconds=15))
    assert successor.spans == []  # judged at once: no 'unwatched span', no alert paused
