"""Getting into bed by day looks again when the night would begin, not 20 s on, and that changes nothing.

``phases.look_after_bed`` moves the look after a bed mat's 'occupied' by day to the time going to bed
would read the night as begun, when that look could tell nothing else. The proof is two engines on the
same stream: one with the rule, one looking 20 s after every change in or out of bed as before it. Every
alert and every limit after every day end must be the same, and the rule must really have moved looks.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the day generator beside it

from test_replay_same_alerts import _trouble
from test_routines_days import at, make_home, month

from routines import detectors
from routines.engine import RoutineEngine
from routines.replay import replay_into

START = date(2026, 1, 5)
DAYS = 90


def _sits(i: int, d: date, day: list) -> list:
    """The trouble days of the replay test, and a sit on the bed every afternoon (in for 3 min, then the
    living room), twice on some days, and lying down for an hour on others: getting into bed by day."""
    day = _trouble(i, d, day)
    extra = [(at(d, 15), "bed", True), (at(d, 15.05), "bed", False), (at(d, 15.06), "living_pir", True)]
    if i % 3 == 0:
        extra += [(at(d, 16.5), "bed", True), (at(d, 17.5), "bed", False), (at(d, 17.52), "living_pir", True)]
    if i % 4 == 1:
        extra += [(at(d, 15.2), "bed", True), (at(d, 15.21), "bed", False)]
    return sorted(day + extra, key=lambda e: e[0])


def _run() -> tuple[list[str], list[str]]:
    """(every alert as JSON, every person's limits after every day end) over the stream."""
    home = make_home()
    engine = RoutineEngine(home)
    limits: list[str] = []
    rollover = engine._rollover

    def kept() -> list:
        out = rollover()
        limits.extend(repr(p.thr) for p in engine._persons.values())
        return out

    engine._rollover = kept  # type: ignore[method-assign]  # an instance attribute: only this engine
    events = month(START, DAYS, seed=11, edit=_sits)
    rows = ((e.time.timestamp(), e.sensor_id, e.value) for e in events)
    until = at(START + timedelta(days=DAYS), 4).timestamp()
    alerts = [json.dumps(a.to_json(), default=str, sort_keys=True) for a in replay_into(engine, rows, until=until)]
    return alerts, limits


def test_looking_when_the_night_would_begin_gives_the_alerts_and_limits_of_looking_20_s_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rule = detectors.look_after_bed
    moved = []

    def counted(eng: RoutineEngine, p, t: float, delay: float) -> float:
        due = rule(eng, p, t, delay)
        if due != t + delay:
            moved.append(due - t)
        return due

    monkeypatch.setattr(detectors, "look_after_bed", counted)
    alerts, limits = _run()
    monkeypatch.setattr(detectors, "look_after_bed", lambda eng, p, t, delay: t + delay)  # as before the rule
    alerts_before, limits_before = _run()
    assert len(moved) >= DAYS and min(moved) > 20.0  # looks really moved, and only later
    assert len(alerts) >= 20 and {json.loads(a)["kind"] for a in alerts} >= {"silence", "not_up", "no_meal"}
    assert alerts == alerts_before
    assert len(limits) > DAYS and limits == limits_before  # (and the evening before day 0)


def test_a_moved_look_is_looked_at_after_all_when_the_limits_change_before_it() -> None:
    # an outcome refreshes the limits at once, and a restored checkpoint refreshes them too: the look the
    # rule moved (20 s after getting into bed) must still come then, so the new limits are read as soon as
    # they always were
    home = make_home()
    engine = RoutineEngine(home)
    d = START + timedelta(days=41)  # an ordinary day, her own limits learned
    sat = at(d, 15).timestamp()
    rows = [(e.time.timestamp(), e.sensor_id, e.value) for e in month(START, 42, seed=11, edit=_sits)]
    for _ in replay_into(engine, [r for r in rows if r[0] <= sat]):
        pass
    assert engine._persons["p1"].in_bed and engine.next_due > sat + 20.0  # the look was moved
    restored = RoutineEngine.restore(home, engine.checkpoint())
    assert restored.next_due <= sat + 20.0
    engine.record_outcome("p1:silence:0", "real")
    assert engine.next_due <= sat + 20.0
