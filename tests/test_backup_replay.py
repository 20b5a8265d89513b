"""Backup then restore into empty dirs gives the same alerts on replay (issue 7).

All real: ``hearth replay`` writes the first part's alerts and learned state; they go into a real SQLite
store the way the gateway keeps them; ``hearth backup`` archives config + database; the original dirs
are deleted; ``hearth restore`` lays them down in new empty dirs; the engine restored from the restored
database replays the rest. Its alerts must equal those of one uninterrupted ``hearth replay``.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from test_replay import CONFIG
from test_routines_days import at, month

from gateway.cli import main
from gateway.config import load_config
from gateway.paths import database_path
from gateway.service import STATE_KEY
from gateway.storage import Store
from routines.alert import Alert, Audience, Severity
from routines.engine import RoutineEngine
from routines.replay import replay_into
from sensors.replay import read_rows

START = date(2026, 3, 2)


def odd_days(i, d, day):
    if i == 16:  # a lie-in: not up until noon
        return [e for e in day if e[0] >= at(d, 12.0)]
    if i == 19:  # no kitchen all day
        return [e for e in day if not e[1].startswith(("kitchen", "fridge", "kettle"))]
    return day


def write_csv(path: Path, events) -> None:
    lines = ["time,sensor,value"]
    for e in events:
        v = ("on" if e.value else "off") if isinstance(e.value, bool) else f"{e.value:g}"
        lines.append(f"{e.time.isoformat()},{e.sensor_id},{v}")
    path.write_text("\n".join(lines) + "\n")


def from_json(j: dict) -> Alert:
    return Alert(datetime.fromisoformat(j["time"]), j["person"], j["kind"], Severity(j["severity"]),
                 Audience(j["audience"]), j["message"], j["key"], j["evidence"], j["recipients"])


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def same(a: Alert) -> tuple:
    return (a.time.timestamp(), a.person, a.kind, str(a.severity), str(a.audience), a.message, a.key)


def test_backup_restore_into_empty_dirs_gives_the_same_alerts_on_replay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "old"
    (old / "etc").mkdir(parents=True)
    (old / "var" / "hearth").mkdir(parents=True)
    config = old / "etc" / "home.yaml"
    config.write_text(CONFIG)
    monkeypatch.setenv("STATE_DIRECTORY", str(old / "var" / "hearth"))  # as systemd sets it for hearth.service

    evs = month(START, 22, seed=4, edit=odd_days)
    cut_at = at(date(2026, 3, 19), 14.0)  # mid-afternoon of day 17, with a day's state in flight
    first = [e for e in evs if e.time < cut_at]
    rest = [e for e in evs if e.time >= cut_at]
    for name, part in (("whole", evs), ("first", first), ("rest", rest)):
        write_csv(tmp_path / f"{name}.csv", part)
    cut = rest[0].time.isoformat()  # run part one's clock up to the first event of part two

    assert main(["replay", "--config", str(config), "--events", str(tmp_path / "whole.csv"),
                 "--alerts-out", str(tmp_path / "whole.jsonl")]) == 0
    assert main(["replay", "--config", str(config), "--events", str(tmp_path / "first.csv"),
                 "--alerts-out", str(tmp_path / "first.jsonl"), "--until", cut,
                 "--checkpoint-out", str(tmp_path / "routines.ckpt")]) == 0
    whole, before = jsonl(tmp_path / "whole.jsonl"), jsonl(tmp_path / "first.jsonl")
    kinds_after = {a["kind"] for a in whole[len(before):]}
    assert {"not_up"} <= {a["kind"] for a in before} and "no_meal" in kinds_after  # alerts on both sides

    # the gateway's own keeping: alert history and learned routines in its SQLite database
    db = database_path(load_config(config).storage.path)
    assert db.parent == old / "var" / "hearth"
    with Store(db) as store:
        for a in before:
            store.add_alert(from_json(a))
        store.save_state(STATE_KEY, (tmp_path / "routines.ckpt").read_bytes())
        store.commit()

    archive = tmp_path / "usb" / "hearth-backup.tar.gz"
    assert main(["backup", "--config", str(config), "--out", str(archive)]) == 0
    shutil.rmtree(old)  # the SD card died: only the archive is left

    new = tmp_path / "new"
    assert main(["restore", "--from", str(archive), "--config-dir", str(new / "etc"),
                 "--data-dir", str(new / "var" / "hearth")]) == 0
    monkeypatch.setenv("STATE_DIRECTORY", str(new / "var" / "hearth"))
    cfg = load_config(new / "etc" / "home.yaml")
    home = cfg.to_home()
    with Store(database_path(cfg.storage.path)) as store:
        history = store.alerts()
        engine = RoutineEngine.restore(home, store.load_state(STATE_KEY), cfg.routines)
    assert [same(a) for a in history] == [same(from_json(a)) for a in before]  # alert history came back

    rows = ((t, sid, v) for t, sid, _kind, v in read_rows(tmp_path / "rest.csv", home))
    after = [a.to_json() for a in replay_into(engine, rows)]
    assert before + after == whole  # identical alerts, field by field, to the uninterrupted run
