"""EVENTS.csv reading and ``hearth replay`` end to end: real files, real process, real JSONL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from test_routines_days import TZ, make_home, month

from sensors.events import SensorEvent, SensorKind
from sensors.replay import read_events_csv

CONFIG = """\
timezone: Europe/London
people: [{id: p1, name: Ann, pronoun: she}]
sensors:
  - {id: bed, kind: bed, room: bedroom, role: bed, person: p1}
  - {id: chair, kind: chair, room: living room, role: chair, person: p1}
  - {id: living_pir, kind: motion, room: living room, person: p1}
  - {id: kitchen_pir, kind: motion, room: kitchen, role: kitchen_motion, person: p1}
  - {id: fridge, kind: contact, room: kitchen, role: fridge, person: p1}
  - {id: kettle, kind: plug, room: kitchen, role: kettle, person: p1}
  - {id: bath_pir, kind: motion, room: bathroom, person: p1}
  - {id: flush, kind: contact, room: bathroom, role: toilet_flush, person: p1}
  - {id: maindoor, kind: contact, room: hall, role: front_door, person: p1}
"""


def _csv(events: list[SensorEvent]) -> str:
    lines = ["time,sensor,value"]
    for e in events:
        v = ("on" if e.value else "off") if isinstance(e.value, bool) else f"{e.value:g}"
        lines.append(f"{e.time.replace(tzinfo=None).isoformat()},{e.sensor_id},{v}")
    return "\n".join(lines) + "\n"


def test_reader_maps_values_and_times(tmp_path: Path) -> None:
    f = tmp_path / "events.csv"
    f.write_text("time,sensor,value\n"
                 "2026-07-01T07:00:00,bed,vacant\n"
                 "2026-07-01T07:01:00+00:00,maindoor,open\n"
                 "2026-07-01T07:02:00,kettle,2150.5\n"
                 "2026-07-01T07:03:00,kettle,off\n"
                 "2026-07-01T07:04:00,living_pir,1\n")
    got = list(read_events_csv(f, make_home()))
    assert got == [
        SensorEvent(datetime(2026, 7, 1, 7, 0, tzinfo=TZ), "bed", SensorKind.BED, False, "replay"),
        SensorEvent(datetime(2026, 7, 1, 8, 1, tzinfo=TZ), "maindoor", SensorKind.CONTACT, True, "replay"),
        SensorEvent(datetime(2026, 7, 1, 7, 2, tzinfo=TZ), "kettle", SensorKind.PLUG, 2150.5, "replay"),
        SensorEvent(datetime(2026, 7, 1, 7, 3, tzinfo=TZ), "kettle", SensorKind.PLUG, False, "replay"),
        SensorEvent(datetime(2026, 7, 1, 7, 4, tzinfo=TZ), "living_pir", SensorKind.MOTION, True, "replay"),
    ]
    assert got[0].time.utcoffset().total_seconds() == 3600  # naive = the home's zone (BST in July)


def test_bad_rows_are_reported_with_line_numbers_and_skipped(tmp_path: Path) -> None:
    f = tmp_path / "events.csv"
    f.write_text("time,sensor,value\n"
                 "2026-01-05T07:00:00,bed,off\n"
                 "yesterday,bed,on\n"
                 "2026-01-05T07:02:00,toaster,on\n"
                 "2026-01-05T07:03:00,bed,maybe\n"
                 "2026-01-05T07:04:00,bed\n"
                 "2026-01-05T07:05:00,kettle,-3\n"
                 "2026-01-05T07:06:00,fridge,open\n")
    bad: list[tuple[int, str]] = []
    got = list(read_events_csv(f, make_home(), lambda n, r: bad.append((n, r))))
    assert [e.sensor_id for e in got] == ["bed", "fridge"]
    assert bad == [
        (3, "time 'yesterday' is not ISO 8601"),
        (4, "unknown sensor 'toaster'"),
        (5, "value 'maybe' is not one of on/off, open/closed, occupied/vacant, true/false, 1/0"),
        (6, "expected 3 columns (time,sensor,value), got 2"),
        (7, "watts must be a finite number >= 0, not '-3'"),
    ]


def test_hearth_replay_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "home.yaml").write_text(CONFIG)

    def lie_in(i, d, day):  # day 12: no sign of Ann until 13:00
        return day if i != 12 else [e for e in day if e[0].hour >= 13]

    text = _csv(month(date(2026, 3, 2), 14, seed=8, edit=lie_in))
    lines = text.splitlines()
    lines.insert(5, "2026-03-02T08:00:00,bed,sideways")  # a broken row, line 6 of the file
    (tmp_path / "events.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "alerts.jsonl"
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "replay", "--config", str(tmp_path / "home.yaml"),
                           "--events", str(tmp_path / "events.csv"), "--alerts-out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{tmp_path / 'events.csv'}:6: skipped: value 'sideways'" in proc.stderr
    assert "1 bad rows skipped" in proc.stderr
    everything = [json.loads(x) for x in out.read_text().splitlines()]
    alerts = [a for a in everything if a["audience"] == "care"]
    assert [a["kind"] for a in alerts] == ["not_up", "no_meal"]  # up at 13:xx and no meal within 2 h of it
    a = alerts[0]
    assert set(a) >= {"time", "person", "kind", "severity", "audience", "message", "recipients"}
    assert (a["person"], a["severity"], a["audience"], a["recipients"]) == ("p1", "urgent", "care", [])
    assert a["time"].startswith("2026-03-14T0")
    assert a["message"].startswith("Ann is usually up by ")


def test_hearth_replay_reports_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "home.yaml").write_text(CONFIG.replace("kind: plug", "kind: socket"))
    (tmp_path / "events.csv").write_text("time,sensor,value\n")
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "replay", "--config", str(tmp_path / "home.yaml"),
                           "--events", str(tmp_path / "events.csv"), "--alerts-out", str(tmp_path / "a.jsonl")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "home.yaml:9: sensors[5].kind" in proc.stderr
