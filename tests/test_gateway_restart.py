"""A restart forgets nothing and a second gateway cannot share the home: the database lock, catch-up
from stored events, the versioned checkpoint (older formats migrated, renamed classes mapped, newer
ones refused aloud), and checkpoints not rewritten when nothing changed."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_gateway_guard import start
from test_service import ChildLog, Publisher, aqara, home_config, plug, stored, wait_for

from gateway import checkpoint
from gateway.config import parse_config_text
from gateway.dblock import DatabaseInUseError
from gateway.service import STATE_KEY, Gateway
from gateway.storage import Store
from routines import pickling
from routines.engine import _MAGIC, RoutineEngine
from sensors.events import SensorEvent, SensorKind
from tests.conftest import PATIENCE_S

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


async def test_a_second_gateway_on_the_same_database_refuses_to_start(mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    gw, stop, task = await start(home_config(mosquitto.port, "gw-one"), db)
    try:
        second = Gateway(parse_config_text(home_config(mosquitto.port, "gw-two"), "home.yaml"), db)
        with pytest.raises(DatabaseInUseError, match=rf"process {os.getpid()}\) is already using .*h.sqlite3"):
            await second.run(asyncio.Event())
        p = Publisher(mosquitto.port, "z2m-one")
        for w in (2000.0, 0.0):
            p.pub("zigbee2mqtt/kitchen/kettle", plug(w))
        p.close()
        await wait_for(lambda: gw.stats.events == 2)
        await gw.flushed()
    finally:
        stop.set()
        await task
    assert stored(db) == [("kettle", True), ("kettle", False)]  # once each, not once per gateway
    _gw3, stop3, task3 = await start(home_config(mosquitto.port, "gw-three"), db)  # released on stop
    stop3.set()
    await task3


def test_the_cli_says_who_holds_the_database(mosquitto, tmp_path: Path) -> None:
    cfg = tmp_path / "home.yaml"
    cfg.write_text(home_config(mosquitto.port, "gw-cli"))
    db = tmp_path / "h.sqlite3"
    cmd = [sys.executable, "-m", "gateway.cli", "run", "--config", str(cfg), "--db", str(db)]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lock = db.with_name(db.name + ".lock")
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip() == str(first.pid)):
            time.sleep(0.05)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert f"another Hearth gateway (process {first.pid}) is already using {db}" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(PATIENCE_S)


def engine_events(n: int) -> list[tuple[str, bool | float]]:
    """A morning: bed, door and kettle changes (what the stored rows will say)."""
    out: list[tuple[str, bool | float]] = []
    for i in range(n):
        out.append(("kettle", 2000.0 if i % 2 == 0 else 0.0))
        out.append(("maindoor", i % 2 == 0))
    return out


async def test_a_killed_gateway_catches_up_from_stored_events(mosquitto, tmp_path: Path) -> None:
    """SIGKILL long before the next checkpoint: on restart the core is given every event stored since
    its last checkpoint, so it knows exactly what a core that never stopped knows."""
    cfg = tmp_path / "home.yaml"
    text = home_config(mosquitto.port, "gw-catch-up") + "clock: {require_sync: false}\n"  # judged, whatever NTP says
    cfg.write_text(text)
    db = tmp_path / "h.sqlite3"
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "--log-format", "json", "run", "--config",  # noqa: ASYNC220
                             str(cfg), "--db", str(db)], env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ChildLog(proc).wait_for(lambda line: line["msg"] == "subscribed")
    p = Publisher(mosquitto.port, "z2m-catch-up")
    try:
        for sensor, value in engine_events(6):
            if sensor == "kettle":
                p.pub("zigbee2mqtt/kitchen/kettle", plug(float(value)))
            else:
                p.pub("zigbee2mqtt/0x00158d0004a1b2c3", aqara(not value))  # contact False = door open
        for _ in range(int(PATIENCE_S / 0.05)):
            if len(stored(db)) == 12:
                break
            await asyncio.sleep(0.05)
        assert len(stored(db)) == 12
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(PATIENCE_S)
        p.close()
    with Store(db) as s:
        assert s.load_state(STATE_KEY) is None  # killed before any checkpoint
        events = s.events()
    reference = RoutineEngine(parse_config_text(text, "h.yaml").to_home())
    for e in events:
        reference.process(e)
    gw, stop, task = await start(text, db)
    try:
        assert gw.engine.status() == reference.status()
        assert gw.engine.first_t == reference.first_t > 0
    finally:
        stop.set()
        await task
    with Store(db) as s:  # the checkpoint written on stop covers every stored event: no catch-up twice
        ck = checkpoint.unpack(s.load_state(STATE_KEY))
        assert ck.last_event_id == s.last_event_id() == 12


def _engine_with_a_morning(home) -> RoutineEngine:
    eng = RoutineEngine(home)
    for i, (sid, kind, value) in enumerate([("bed", SensorKind.BED, False), ("kettle", SensorKind.PLUG, True)]):
        eng.process(SensorEvent(T0.replace(minute=i), sid, kind, value, "test"))
    return eng


def test_format_1_checkpoints_are_migrated_and_newer_ones_refused() -> None:
    old = b"HEARTH-ROUTINES\x01whatever"
    ck = checkpoint.unpack(old)
    assert (ck.format, ck.engine, ck.last_event_id) == (2, old, None)
    newer = checkpoint.MAGIC + b'{"format": 3, "last_event_id": 5}\n' + old
    with pytest.raises(checkpoint.CheckpointError, match="format 3 was written by a newer Hearth"):
        checkpoint.unpack(newer)


def test_a_renamed_class_is_mapped_and_an_unknown_one_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    home = parse_config_text(home_config(1883, "x"), "h.yaml").to_home()
    eng = _engine_with_a_morning(home)
    state = pickle.loads(zlib.decompress(eng.checkpoint()[len(_MAGIC):]))
    # as an older Hearth would have written it, when SilenceModel was called QuietSpellModel
    # (protocol 2 names classes as "module\nname\n", so the old name can be put back byte for byte)
    raw = pickle.dumps(state, protocol=2)
    assert b"routines.models\nSilenceModel\n" in raw
    renamed = _MAGIC + zlib.compress(raw.replace(b"routines.models\nSilenceModel\n",
                                                 b"routines.models\nQuietSpellModel\n"))
    with pytest.raises(AttributeError, match="QuietSpellModel"):
        RoutineEngine.restore(home, renamed)
    monkeypatch.setitem(pickling.RENAMED, ("routines.models", "QuietSpellModel"), ("routines.models", "SilenceModel"))
    assert RoutineEngine.restore(home, renamed).status() == eng.status()
    hostile = _MAGIC + zlib.compress(pickle.dumps(state, protocol=2).replace(
        b"routines.models\nSilenceModel\n", b"os\nsystem\n"))
    with pytest.raises(pickle.UnpicklingError, match=r"may not hold os\.system"):
        RoutineEngine.restore(home, hostile)


async def test_an_unreadable_checkpoint_is_kept_reported_and_learning_restarts_from_stored_events(
        mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    cfg = parse_config_text(home_config(mosquitto.port, "gw-bad-ck"), "home.yaml")
    events = [SensorEvent(T0.replace(minute=i), "kettle", SensorKind.PLUG, i % 2 == 0, "test") for i in range(4)]
    with Store(db) as s:
        s.add_events(events)
        s.save_state(STATE_KEY, checkpoint.MAGIC + b'{"format": 9}\n' + b"from the future")
        s.commit()
    gw, stop, task = await start(home_config(mosquitto.port, "gw-bad-ck"), db)
    try:
        [problem] = [p for p in gw.problems() if not p.startswith("clock ")]  # (this machine's clock aside)
        assert problem.startswith("learned routines could not be restored (CheckpointError: checkpoint format 9")
        reference = RoutineEngine(cfg.to_home())
        for e in events:
            reference.process(e)
        assert gw.engine.status() == reference.status()  # relearned from what was stored
    finally:
        stop.set()
        await task
    with Store(db) as s:
        assert s.load_state(f"{STATE_KEY}.unreadable").endswith(b"from the future")


async def test_an_unchanged_checkpoint_is_not_rewritten(mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    gw, stop, task = await start(home_config(mosquitto.port, "gw-ck"), db, checkpoint_s=0.02)
    p = Publisher(mosquitto.port, "z2m-ck")
    try:
        p.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0))
        await wait_for(lambda: gw.stats.checkpoints_written >= 1 and gw.stats.events == 1)
        await wait_for(lambda: gw.stats.checkpoints_written >= 2)  # the event's checkpoint is written
        written = gw.stats.checkpoints_written
        looked = gw.stats.checkpoint_checks
        await wait_for(lambda: gw.stats.checkpoint_checks >= looked + 20)
        assert gw.stats.checkpoints_written == written  # 20 looks, nothing changed, nothing written
        p.pub("zigbee2mqtt/kitchen/kettle", plug(0.0))
        await wait_for(lambda: gw.stats.checkpoints_written > written)
    finally:
        p.close()
        stop.set()
        await task
