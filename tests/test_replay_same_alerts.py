"""Changes made for speed change no alert: a fixed seeded stream gives the alert list recorded before them.

The stream is 150 generated days of Ann (tests/test_routines_days.py) with a hand-made trouble every few
days (the rest of a day silent from a set hour, a morning in bed, a night trip out of the front door, a
day without the kitchen), so every detector's path is taken, learning, day-ends and limits included. The
expected list (kind, time, severity, audience, key, message and evidence of every alert) was recorded
from the code before the speed work (``tests/fixtures/replay_alerts_before_speed.json``).

A change that is MEANT to change alerts (a new rule, a new wording) re-records it on purpose:

    .venv/bin/python tests/test_replay_same_alerts.py --record
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: the day generator beside it

from test_routines_days import at, make_home, month

from routines.replay import replay

FIXTURE = Path(__file__).parent / "fixtures" / "replay_alerts_before_speed.json"
START = date(2026, 1, 5)
DAYS = 150


def _trouble(i: int, d: date, day: list) -> list:
    """Every 5th day from day 30 on, one kind of trouble in turn."""
    if i < 30 or i % 5:
        return day
    kind = (i // 5) % 4
    if kind == 0:  # silent from 11:00: a collapse in the day
        return [e for e in day if e[0] < at(d, 11)]
    if kind == 1:  # still in bed at 13:00: keep only what happens after that
        return [e for e in day if e[0] >= at(d, 13) or e[1] == "bed"]
    if kind == 2:  # no kitchen all day
        return [e for e in day if e[1] not in ("kitchen_pir", "fridge", "kettle")]
    # out of bed at 02:00 and out of the front door, not back until 06:00
    out = [(at(d, 26), "bed", False), (at(d, 26.05), "maindoor", True), (at(d, 26.06), "maindoor", False),
           (at(d, 30), "maindoor", True), (at(d, 30.01), "maindoor", False)]
    return sorted([e for e in day if not at(d, 25.5) <= e[0] <= at(d, 30.2)] + out, key=lambda e: e[0])


def alerts_now() -> list[dict]:
    events = month(START, DAYS, seed=11, edit=_trouble)
    until = at(START + timedelta(days=DAYS), 4)
    return [json.loads(json.dumps(a.to_json(), default=str)) for a in replay(make_home(), events, until=until)]


def test_a_fixed_stream_raises_exactly_the_alerts_recorded_before_the_speed_work() -> None:
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    got = alerts_now()
    assert len(expected) >= 30 and {a["kind"] for a in expected} >= {"silence", "not_up", "no_meal", "night_door"}
    for i, (e, g) in enumerate(zip(expected, got, strict=False)):
        assert g == e, f"alert {i} differs"
    assert len(got) == len(expected)


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    FIXTURE.write_text(json.dumps(alerts_now(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"recorded {FIXTURE}")
