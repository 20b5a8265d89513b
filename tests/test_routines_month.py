"""A generated month through the engine: quiet on normal days, learned explanations on odd ones, and a
restored checkpoint gives the same alerts as an uninterrupted run."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from test_routines_days import TZ, at, make_home, month

from routines.alert import Audience, Severity
from routines.engine import RoutineEngine
from routines.replay import replay, replay_into

START = date(2026, 3, 2)


def _care(alerts):
    return [a for a in alerts if a.audience == Audience.CARE and a.severity != Severity.INFO]


def test_a_normal_month_raises_no_care_alert_and_learns() -> None:
    evs = month(START, 30, seed=21)
    alerts = list(replay(make_home(), evs))
    assert _care(alerts) == []
    eng = RoutineEngine(make_home())
    for e in evs:
        eng.process(e)
    st = eng.status()["p1"]
    assert st["learning"] is False and st["confidence"] == 1.0 and st["degraded"] is False
    s = eng.day_summary("p1", START + timedelta(days=20))
    assert s.wake_time is not None and 6 <= s.wake_time.hour <= 8
    assert s.usual_wake_time is not None and s.usual_bed_time is not None
    assert s.appliance_uses.get("kettle", 0) >= 2 and s.kitchen_events > 0
    assert len(s.hourly_activity) == 24 and sum(s.usual_hourly_activity) > 0


def test_not_up_with_a_learned_explanation() -> None:
    def lie_in(i, d, day):
        if i != 20:
            return day
        return [e for e in day if e[0] >= at(d, 13.0)]  # day 20: no sign of Ann until 13:00

    alerts = list(replay(make_home(), month(START, 22, seed=21, edit=lie_in)))
    care = _care(alerts)
    # up at 13:07, nothing from the kitchen by 2 h later (she usually is by 08:13): the late start moved the
    # meal check, it did not cancel it (her first kitchen use that day is 18:08)
    assert [a.kind for a in care] == ["not_up", "no_meal"]
    a, meal = care
    d = START + timedelta(days=20)
    assert at(d, 15.0) < meal.time < at(d, 15.3) and "since she got up at 13:07" in meal.message
    usual = a.evidence["usual_wake"]
    # the day 20 is a Sunday: its usual is the weekend days' own, said as a count of those days (5 learned)
    assert a.message.startswith(f"Ann is usually up by {usual} (up by then on all 5 weekend days learned); "
                                "no movement since she went to bed at ")
    assert a.evidence["learned"] is True
    assert at(d, 7.5) < a.time < at(d, 9.5)  # shortly after her own usual latest time, not a fixed 10:00


def test_collapse_in_the_afternoon_is_caught_within_an_hour() -> None:
    fall = None

    def collapse(i, d, day):
        nonlocal fall
        if i != 18:
            return day
        fall = at(d, 14.6)
        return [e for e in day if e[0] < fall]

    evs = month(START, 19, seed=21, edit=collapse)
    alerts = list(replay(make_home(), evs, until=datetime(2026, 3, 21, 3, 0, tzinfo=TZ)))
    care = _care(alerts)
    assert [a.kind for a in care] == ["silence"]
    assert fall < care[0].time < fall + timedelta(minutes=60)
    assert "quiet spells at home have rarely lasted longer than" in care[0].message


def test_restore_gives_the_same_alerts_as_an_uninterrupted_run() -> None:
    def odd_days(i, d, day):
        if i == 16:
            return [e for e in day if e[0] >= at(d, 12.0)]
        if i == 19:
            return [e for e in day if not e[1].startswith(("kitchen", "fridge", "kettle"))]
        return day

    evs = month(START, 22, seed=4, edit=odd_days)
    rows = [(e.time.timestamp(), e.sensor_id, e.value) for e in evs]
    whole = [a.to_json() for a in replay_into(RoutineEngine(make_home()), rows)]
    assert {a["kind"] for a in whole} >= {"not_up", "no_meal"}
    cut = len(rows) // 2
    first = RoutineEngine(make_home())
    part = [a.to_json() for a in replay_into(first, rows[:cut])]
    blob = first.checkpoint()
    again = RoutineEngine.restore(make_home(), blob)
    part += [a.to_json() for a in replay_into(again, rows[cut:])]
    assert part == whole
    assert len(blob) < 5_000_000  # memory bounded per person


def test_state_follows_a_changed_config_after_restore() -> None:
    eng = RoutineEngine(make_home())
    for e in month(START, 9, seed=2):
        eng.process(e)
    home = make_home()
    smaller = type(home)(home.timezone, home.people, tuple(s for s in home.sensors if s.id != "chair"))
    again = RoutineEngine.restore(smaller, eng.checkpoint())
    assert again.status()["p1"]["days_learned"] == eng.status()["p1"]["days_learned"]
    assert "chair" not in again.person_sensors and len(again.person_sensors["p1"]) == len(smaller.sensors)
