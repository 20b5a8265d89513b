"""Just home (issue 11, item 1): came home by the front door, then no sign of life indoors, on hand-built
days (``just_home`` in routines.detectors.situations; the check in routines.detectors.justhome).

Ann's home and days of test_routines_days: on 4 days in 10 she goes out at 10:00 and comes home one or two
hours later, and the living room shows her within a minute of the door. Until something moves indoors
the core still reads her as out, so before this situation a fall in the hall right after coming in was
judged by nothing at all.
"""

from __future__ import annotations

from datetime import date, timedelta

from test_routines_days import at, make_home, month
from test_routines_situations import DAY0, LEARNED, START, care, ev, feed, morning

from routines.detectors.situations import SITUATIONS, models
from routines.engine import RoutineEngine
from routines.explain import duration
from routines.waiting import WaitModel


def learned(edit=None, days: int = LEARNED) -> tuple[RoutineEngine, list, date]:
    eng = RoutineEngine(make_home(), START)
    last = DAY0 + timedelta(days=days)
    return eng, feed(eng, month(DAY0, days, seed=7, edit=edit), at(last, 6.0)), last


def out_and_back(d: date, back: float = 11.5) -> list:
    """The morning, out by the front door at 10:01, home at ``back`` (the door opens, shuts a minute later)."""
    am = [e for e in morning(d) if e.time < at(d, 10.0)]  # (about the living room until she leaves)
    return [*am, ev(at(d, 10.0), "living_pir", True), ev(at(d, 10 + 1 / 60), "maindoor", True),
            ev(at(d, 10 + 1 / 60) + timedelta(seconds=20), "maindoor", False),
            ev(at(d, back), "maindoor", True), ev(at(d, back + 1 / 60), "maindoor", False)]


def slow_returns(i: int, d: date, day: list) -> list:
    """Ann's returns go quiet for 38 min or more (she sits in the hall to get her breath back; no sensor
    there), until the next movement in the living room."""
    doors = [e[0] for e in day if e[1] == "maindoor"]
    if len(doors) < 4:
        return day
    back = doors[2]
    return [e for e in day if not (back < e[0] < back + timedelta(minutes=38) and e[1] != "maindoor")]


def test_home_by_the_front_door_and_then_nothing_is_caught_at_her_own_limit() -> None:
    eng, before, d = learned()
    assert care(before) == []
    p = eng._persons["p1"]
    # on her own returns the living room shows her within a minute of the door: the limit is the floor
    assert p.thr.wait_own["just_home"]
    limit = p.thr.wait_s["just_home"]
    assert limit == START.stillness_context_floor_min * 60
    alerts = care(feed(eng, out_and_back(d), at(d, 14.0)))
    assert [a.kind for a in alerts] == ["silence"], [a.message for a in alerts]
    [a] = alerts
    door = at(d, 11.5 + 1 / 60)  # the door shut behind her: the last sign of life
    assert a.time == door + timedelta(seconds=limit)
    days = models(p, START.half_life_days)["just_home"].days_raw
    assert days >= LEARNED
    assert a.message == (f"Ann came home by the front door at 11:30 (out since 10:01) and there has been no sign of "
                         f"her indoors since (20 min, the door last moved at 11:31). Before any sign of life indoors "
                         f"after coming home, her quiet lasted 20 min or more on 0 of the {days} days learned. "
                         f"Possible fall.")
    assert a.evidence["just_home"] is True and a.evidence["learned"] is True and a.evidence["limit_min"] == 20.0


def test_an_ordinary_return_raises_nothing_and_teaches_a_short_quiet() -> None:
    eng, _, d = learned()
    p = eng._persons["p1"]
    day = [*out_and_back(d), ev(at(d, 11.5 + 2 / 60), "living_pir", True), ev(at(d, 11.55), "chair", True),
           *[ev(at(d, 11.6 + k / 4), "living_pir", True) for k in range(12)]]
    assert care(feed(eng, day, at(d, 14.5))) == []
    assert "just_home" not in p.waiting.now  # life showed indoors: the spell is over


def test_while_learning_the_starting_limit_is_used_and_said() -> None:
    eng, before, d = learned(days=5)
    assert care(before) == []
    p = eng._persons["p1"]
    assert not p.thr.wait_own["just_home"] and p.thr.wait_s["just_home"] == START.just_home_start_min * 60
    [a] = care(feed(eng, out_and_back(d, back=11.0), at(d, 14.5)))
    assert a.kind == "silence" and a.time == at(d, 11 + 1 / 60) + timedelta(hours=3)
    n = models(p, START.half_life_days)["just_home"].days_raw
    assert a.message == (f"Ann came home by the front door at 11:00 (out since 10:01) and there has been no sign of "
                         f"her indoors since (3 h 00 min, the door last moved at 11:01). Before any sign of life "
                         f"indoors after coming home: the starting limit of 3 h 00 min is used until her own days "
                         f"are learned ({n} of 28 days). Possible fall.")
    assert a.evidence["learned"] is False


def test_her_own_slow_returns_move_the_limit_later() -> None:
    eng, before, d = learned(slow_returns)
    assert care(before) == []  # 38 min of quiet after coming home, on her outing days: never flagged
    p = eng._persons["p1"]
    limit = p.thr.wait_s["just_home"]
    assert p.thr.wait_own["just_home"] and limit > 38 * 60  # past her own returns, not the floor
    m = models(p, START.half_life_days)["just_home"]
    outings = m.days_over(35 * 60)
    assert outings >= 5  # each outing day taught a quiet of over 35 min
    [a] = care(feed(eng, out_and_back(d), at(d, 14.0)))
    assert a.time == at(d, 11.5 + 1 / 60) + timedelta(seconds=limit)
    assert f"her quiet lasted {duration(limit)} or more on 0 of the {m.days_raw} days learned" in a.message


def test_a_false_alarm_moves_the_just_home_limit_by_one_step_and_nothing_else() -> None:
    eng, _, d = learned()
    p = eng._persons["p1"]
    # home at 11:30, then two hours in the hall with a neighbour (no sensor there), then about again
    day = [*out_and_back(d), *[ev(at(d, 13.6 + k / 3), "living_pir", True) for k in range(12)],
           ev(at(d, 22.5), "bed", True)]
    [a] = care(feed(eng, day, at(d, 29.0)))  # past the day's end: the spell is kept back, not learned
    assert [k[1] for k in p.waiting.kept] == ["just_home"]
    before = dict(p.thr.wait_s)
    eng.record_outcome(a.key, "false_alarm")
    after = p.thr.wait_s
    assert before["just_home"] < after["just_home"] <= before["just_home"] + 15 * 60 * START.situation_margin
    assert {k: v for k, v in after.items() if k != "just_home"} == {k: v for k, v in before.items() if k != "just_home"}


def test_a_real_alert_teaches_nothing() -> None:
    eng, _, d = learned()
    p = eng._persons["p1"]
    day = [*out_and_back(d), *[ev(at(d, 13.6 + k / 3), "living_pir", True) for k in range(12)]]
    [a] = care(feed(eng, day, at(d, 16.0)))
    eng.record_outcome(a.key, "real")
    later = [ev(at(d + timedelta(days=k), 8.0), "living_pir", True) for k in range(1, 5)]
    feed(eng, later, at(d + timedelta(days=4), 9.0))
    assert [k for k in p.waiting.kept if k[1] == "just_home"] == []
    assert p.thr.wait_s["just_home"] == START.stillness_context_floor_min * 60


def test_a_checkpoint_from_before_the_situation_starts_learning_it_and_keeps_the_others() -> None:
    eng, _, d = learned()
    p = eng._persons["p1"]
    kept = {name: m.days_raw for name, m in p.waiting.models.items() if name != "just_home"}
    # as written before the situation existed: no model, no limit
    del p.waiting.models["just_home"]
    for field in (p.thr.wait_s, p.thr.wait_own, p.thr.wait_floor_s):
        del field["just_home"]
    back = RoutineEngine.restore(make_home(), eng.checkpoint(), START)
    q = back._persons["p1"]
    assert set(q.waiting.models) == set(SITUATIONS)
    assert {name: m.days_raw for name, m in q.waiting.models.items() if name != "just_home"} == kept
    assert isinstance(q.waiting.models["just_home"], WaitModel) and q.waiting.models["just_home"].days_raw == 0
    assert q.thr.wait_s["just_home"] == START.just_home_start_min * 60 and not q.thr.wait_own["just_home"]
    [a] = care(feed(back, out_and_back(d), at(d, 15.0)))
    assert a.time == at(d, 11.5 + 1 / 60) + timedelta(hours=3) and "the starting limit of 3 h 00 min" in a.message


def test_a_home_without_a_front_door_gives_the_situation_no_share() -> None:
    from test_routines_days import SENSORS

    from routines.detectors.situations import rate_per_day
    from routines.home import Home, Person

    doorless = RoutineEngine(Home("Europe/London", (Person("p1", "Ann", "she"),),
                                  tuple(s for s in SENSORS if s.id != "maindoor")), START)
    with_door = RoutineEngine(make_home(), START)
    # the test home sees every situation but the bedroom one (and has a plug: 'left on' takes a share too);
    # without the door also not just_home
    assert abs(30 * rate_per_day(with_door, with_door._persons["p1"]) - 1 / 11) < 1e-9
    assert abs(30 * rate_per_day(doorless, doorless._persons["p1"]) - 1 / 10) < 1e-9


def test_a_door_after_something_moved_indoors_while_out_may_be_leaving_and_is_not_judged() -> None:
    """Read as out at 10:01, but the chair alone moved at 10:40 (the core needs a second sensor to read a
    return without the door): she may never have left, and the door at 11:30 may be her going out."""
    eng, _, d = learned()
    day = [*out_and_back(d)[:-2], ev(at(d, 10 + 40 / 60), "chair", True), ev(at(d, 10 + 41 / 60), "chair", False),
           *out_and_back(d)[-2:]]
    assert eng._persons["p1"].thr.wait_s["just_home"] == 20 * 60
    assert care(feed(eng, sorted(day, key=lambda e: e.time), at(d, 14.0))) == []


def test_without_a_bed_sensor_a_return_after_the_evening_began_is_going_to_bed() -> None:
    from test_routines_days import SENSORS

    from routines.home import Home, Person

    def no_bed() -> RoutineEngine:
        eng = RoutineEngine(Home("Europe/London", (Person("p1", "Ann", "she"),),
                                 tuple(s for s in SENSORS if s.id != "bed")), START)
        feed(eng, [e for e in month(DAY0, 5, seed=7) if e.sensor_id != "bed"], at(d, 6.0))
        return eng

    d = DAY0 + timedelta(days=5)
    about = [ev(at(d, 8.0 + k / 4), "living_pir", True) for k in range(8)]  # about the home 08:00-09:45

    def door(hour: float) -> list:
        return [ev(at(d, hour), "maindoor", True), ev(at(d, hour + 1 / 60), "maindoor", False)]

    eng = no_bed()
    assert eng._persons["p1"].thr.bed_window_dsm < (23.5 - 4) * 60  # her evening has begun by 23:30
    # out at 10:00 until 23:30, then nothing until the small hours: gone to bed, as any quiet evening is read
    assert care(feed(eng, [*about, *door(10.0), *door(23.5)], at(d, 27.0))) == []
    # home at 11:00 instead, and nothing: the starting limit, 3 h
    [a] = care(feed(no_bed(), [*about, *door(10.0), *door(11.0)], at(d, 15.0)))
    assert a.time == at(d, 11 + 1 / 60) + timedelta(hours=3) and a.evidence["just_home"] is True
