from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.storage import Store
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind


def test_status_lists_devices_and_counted_rejections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite3"
    t = datetime(2026, 11, 20, 7, 40, tzinfo=UTC)
    s = Store(db)
    s.add_events([SensorEvent(t, "maindoor", SensorKind.CONTACT, True, "zigbee2mqtt")])
    s.add_events([SensorEvent(t, "maindoor", SensorKind.CONTACT, False, "zigbee2mqtt")], clock_trusted=False)
    s.mark_seen("maindoor", t)
    s.update_health(DeviceHealth(t, "maindoor", "zigbee2mqtt", available=False, battery=14.0, linkquality=88.0))
    for _ in range(3):
        s.add_rejection(Rejection(t, "zigbee2mqtt", "not_json", "payload is not JSON", "maindoor"))
    s.commit()
    s.close()
    assert main(["status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "maindoor         2026-11-20 07:40  OFFLINE  14%      88" in out
    assert "Events kept while the clock was not synchronised (stored, never judged): 1" in out
    assert "Rejected input (3 in all):" in out and "3  zigbee2mqtt/not_json  maindoor" in out
    assert "Outbox: OK no outbox yet" in out  # what `hearth doctor` says of it, here too
    assert "Gateway: WARN the gateway has not saved its health yet" in out


def test_status_without_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--db", str(tmp_path / "none.sqlite3")]) == 1
    assert "no database at" in capsys.readouterr().err


def test_status_prints_the_same_learning_words_as_the_engine_status(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """'hearth status' reads the gateway's checkpoint and prints routines.learning's words: the ones the
    console shows (engine.status() under 'routines' in /api/status) and the uplink sends."""
    from test_routines_days import at, month

    from gateway.checkpoint import pack
    from gateway.config import load_config
    from gateway.service import STATE_KEY
    from routines.engine import RoutineEngine
    from routines.replay import replay_into

    cfg_path = tmp_path / "home.yaml"
    cfg_path.write_text(
        "timezone: Europe/London\npeople:\n  - {id: p1, name: Ann, pronoun: she}\nsensors:\n"
        + "".join(f"  - {{id: {i}, kind: {k}, room: {r}, role: {o}, person: p1}}\n" for i, k, r, o in (
            ("bed", "bed", "bedroom", "bed"), ("chair", "chair", "living room", "chair"),
            ("living_pir", "motion", "living room", "activity"), ("kitchen_pir", "motion", "kitchen", "kitchen_motion"),
            ("fridge", "contact", "kitchen", "fridge"), ("kettle", "plug", "kitchen", "kettle"),
            ("bath_pir", "motion", "bathroom", "activity"), ("flush", "contact", "bathroom", "toilet_flush"),
            ("maindoor", "contact", "hall", "front_door")))
        + f"storage: {{path: {tmp_path / 'h.sqlite3'}}}\n")
    cfg = load_config(str(cfg_path))
    start = datetime(2026, 3, 2).date()
    eng = RoutineEngine(cfg.to_home(), cfg.routines)
    list(replay_into(eng, [(e.time.timestamp(), e.sensor_id, e.value) for e in month(start, 9, seed=3)], 60,
                     at(start, 24 * 9 + 12).timestamp()))
    db = tmp_path / "h.sqlite3"
    s = Store(db)
    s.save_state(STATE_KEY, pack(eng.checkpoint(), 0))
    s.commit()
    s.close()
    assert main(["status", "--config", str(cfg_path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    checks = eng.status()["p1"]["checks"]
    assert any(c["words"] == "learning: 9 of 14 days" for c in checks)
    assert "Learning:" in out and "Ann (p1)" in out
    for c in checks:
        assert f"    {c['watches']:<28} {c['words']}" in out
