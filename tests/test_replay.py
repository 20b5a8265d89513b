"""EVENTS.csv reading and ``hearth replay`` end to end: real files, real process, real JSONL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from test_routines_days import TZ, make_home, month

from sensors.events import SensorEvent, SensorKind
from sensors.replay import JUMP_LOOKAHEAD, in_time, read_events_csv

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
        (7, "value '-3': expected watts (a number 0..100000), got float -3.0"),  # as live (sensors.readings)
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
    # 12 days of her own (the prior still fading in until 14): the alert names the limit it used
    assert a["message"].startswith("Ann is not up by ") and ("the starting limit set at install, from other people's "
                                                              "routines, with 12 days of her own") in a["message"]
    assert "until her own routine is learned: 12 of 14 days" in a["message"]
    assert a["evidence"]["limit"] == "learning"


def test_hearth_replay_reports_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "home.yaml").write_text(CONFIG.replace("kind: plug", "kind: socket"))
    (tmp_path / "events.csv").write_text("time,sensor,value\n")
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "replay", "--config", str(tmp_path / "home.yaml"),
                           "--events", str(tmp_path / "events.csv"), "--alerts-out", str(tmp_path / "a.jsonl")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "home.yaml:9: sensors[5].kind" in proc.stderr


def _days_csv(start: date, days: int) -> list[str]:
    """A plain routine: up at 7, kettle at 7:20, in bed at 22 (home time)."""
    rows = []
    for d in range(days):
        day = datetime.combine(start, datetime.min.time()) + timedelta(days=d)
        rows += [f"{(day + timedelta(hours=h, minutes=m)).isoformat()},{sid},{v}"
                 for h, m, sid, v in ((7, 0, "bed", "off"), (7, 20, "kettle", "2100"), (7, 24, "kettle", "0"),
                                      (22, 0, "bed", "on"))]
    return rows


def test_rows_far_outside_the_files_time_are_refused_with_reasons() -> None:
    bed = SensorKind.BED
    t0 = datetime(2026, 3, 2, 7, tzinfo=UTC).timestamp()
    rows = [(2, t0), (3, t0 + 60), (4, t0 + 40 * 86400), (5, t0 + 120), (6, t0 - 3 * 86400), (7, t0 + 400 * 86400),
            (8, t0 + 180)]
    bad: list[tuple[int, str]] = []
    got = [r[0] for r in in_time(((n, (t, "bed", bed, True)) for n, t in rows), lambda n, r: bad.append((n, r)))]
    assert got == [t0, t0 + 60, t0 + 120, t0 + 180]
    assert bad == [
        (4, "time 2026-04-11T07:00:00+00:00 is more than a day ahead of the rows around it "
            "(2026-03-02T07:01:00+00:00)"),
        (6, "time 2026-02-27T07:00:00+00:00 is more than a day before the row before it "
            "(2026-03-02T07:02:00+00:00): is the file sorted?"),
        (7, "time 2027-04-06T07:00:00+00:00 is more than a year after the row before it (2026-03-02T07:02:00+00:00)"),
    ]


def test_a_real_gap_is_kept_when_the_rows_after_it_follow() -> None:
    t0 = datetime(2026, 3, 2, 7, tzinfo=UTC).timestamp()
    times = [t0, t0 + 60] + [t0 + 20 * 86400 + 60 * i for i in range(JUMP_LOOKAHEAD + 2)]
    bad: list[tuple[int, str]] = []
    got = [r[0] for r in in_time(((n, (t, "bed", SensorKind.BED, True)) for n, t in enumerate(times, 2)),
                                 lambda n, r: bad.append((n, r)))]
    assert (got, bad) == (times, [])


def test_hearth_replay_ends_and_stays_small_with_far_future_rows(tmp_path: Path) -> None:
    # Once, one far-future row made `hearth replay` raise an alert for every day up to it: 458 MB in 10 minutes.
    (tmp_path / "home.yaml").write_text(CONFIG)
    rows = ["time,sensor,value", *_days_csv(date(2026, 3, 2), 6)]
    rows.insert(10, "9999-12-31T23:59:59,maindoor,open")  # line 11
    rows.insert(14, "2125-03-06T08:00:00,maindoor,open")  # line 15
    rows.insert(18, "2026-04-20T08:00:00,maindoor,open")  # line 19: a typo within the year
    rows += _days_csv(date(2026, 3, 30), 6)  # a real 3-week gap (the recorder was off): the clock jumps it
    (tmp_path / "events.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "alerts.jsonl"
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "replay", "--config", str(tmp_path / "home.yaml"),
                           "--events", str(tmp_path / "events.csv"), "--alerts-out", str(out),
                           "--until", "2124-01-01T00:00:00"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = tmp_path / "events.csv"
    assert f"{events}:11: skipped: time '9999-12-31T23:59:59' is outside 1970..2200\n" in proc.stderr
    assert f"{events}:15: skipped: time 2125-03-06T08:00:00+00:00 is more than a year after the row before it" \
        in proc.stderr
    assert f"{events}:19: skipped: time 2026-04-20T07:00:00+00:00 is more than a day ahead of the rows around it" \
        in proc.stderr
    assert proc.stderr.count("clock jumped over a gap of ") == 2  # the 3 weeks, and up to --until
    assert "(3 bad rows skipped, 0 unknown, 2 gaps jumped)" in proc.stderr
    alerts = [json.loads(x) for x in out.read_text().splitlines()]
    # 6 + 6 days of events, 7 ticked across the gap and 7 towards --until: a few alerts a day, not one a day for a century
    assert out.stat().st_size < 60_000 and len(alerts) < 4 * 26
    assert max(a["time"] for a in alerts) < "2026-05"
