"""Out of bed at night and back in the bedroom, not in bed, then still (issue 11, item 1: a fall in the
bedroom after getting out of bed): the ``night_bedroom`` situation on hand-built days.

Ann's home of test_routines_days with a bedroom motion sensor added. On her ordinary nights it fires as
she gets out of bed and again just before she lies down (0-2 bathroom trips a night), so the quiet after
it is a minute or so: her own limit is the floor. A bedroom sign after leaving the bed used to leave only
the trip-length limit, and a fall there was caught hours later or in the morning.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from test_routines_days import SENSORS, at, month
from test_routines_situations import care, feed

from routines.engine import RoutineEngine
from routines.home import Home, Person, SensorInfo
from routines.settings import RoutineSettings
from sensors.events import SensorEvent, SensorKind

START = RoutineSettings(population_prior=False)
DAY0 = date(2026, 3, 2)
LEARNED = 30  # days learned before the test day (situation_min_days: 28)
PIR = SensorInfo("bedroom_pir", SensorKind.MOTION, "bedroom", "activity", "p1")
KINDS = {s.id: s.kind for s in (*SENSORS, PIR)}


def home() -> Home:
    return Home("Europe/London", (Person("p1", "Ann", "she"),), (*SENSORS, PIR))


def ev(t: datetime, sid: str, v: bool | float) -> SensorEvent:
    return SensorEvent(t, sid, KINDS[sid], v, "test")


def with_bedroom(evs: list[SensorEvent]) -> list[SensorEvent]:
    """The bedroom sensor fires 20 s after each time she gets out of bed and 30 s before she lies down."""
    out = list(evs)
    for e in evs:
        if e.sensor_id == "bed":
            t = e.time + timedelta(seconds=20 if e.value is False else -30)
            out += [ev(t, "bedroom_pir", True), ev(t + timedelta(seconds=10), "bedroom_pir", False)]
    return sorted(out, key=lambda e: e.time)


def restless(evs: list[SensorEvent], days: int) -> list[SensorEvent]:
    """Every other night she cannot sleep: out of bed at 02:00 to the living room, moving about until
    03:15, back in bed at 03:20 (the night's own trips then are dropped). Her night-time trips reach
    80 min, so the trip-length limit is far past the hour; only the bedroom wait can catch a fall there."""
    out = list(evs)
    for i in range(0, days, 2):
        d = DAY0 + timedelta(days=i)
        out = [e for e in out if not at(d, 25.8) <= e.time <= at(d, 27.6)]
        out += [ev(at(d, 26.0), "bed", False), *[ev(at(d, 26.0 + k / 12), "living_pir", True) for k in range(1, 16)],
                ev(at(d, 27 + 20 / 60), "bed", True)]
    return sorted(out, key=lambda e: e.time)


def learned(days: int = LEARNED) -> tuple[RoutineEngine, list, date]:
    eng = RoutineEngine(home(), START)
    last = DAY0 + timedelta(days=days)
    return eng, feed(eng, with_bedroom(restless(month(DAY0, days, seed=7), days)), at(last, 6.0)), last


def evening(d: date) -> list[SensorEvent]:
    """A day about the home, then to bed at 22:36 (the bedroom sensor just before)."""
    return [ev(at(d, 7.5), "bed", False), ev(at(d, 7.6), "bath_pir", True), ev(at(d, 8.0), "kitchen_pir", True),
            *[ev(at(d, 8.5 + k / 2), "living_pir", True) for k in range(28)],
            ev(at(d, 22.59), "bedroom_pir", True), ev(at(d, 22.6), "bed", True)]


def test_a_fall_in_the_bedroom_after_getting_out_of_bed_is_caught_within_the_hour() -> None:
    eng, before, d = learned()
    assert care(before) == []
    p = eng._persons["p1"]
    # her own nights: a bedroom sign is followed within minutes by the bathroom or the bed
    assert p.thr.wait_own["night_bedroom"]
    limit = p.thr.wait_s["night_bedroom"]
    assert limit == START.night_exit_floor_min * 60
    # out of bed at 03:10, the bedroom sensor at 03:14 (back in the bedroom, not in bed), then nothing
    # (a first sign sooner than her first-sign limit of 10 min: that situation is over)
    day = [*evening(d), ev(at(d, 27 + 10 / 60), "bed", False), ev(at(d, 27 + 14 / 60), "bedroom_pir", True),
           ev(at(d, 27 + 14 / 60) + timedelta(seconds=10), "bedroom_pir", False)]
    alerts = care(feed(eng, day, at(d, 27 + 34 / 60)))
    assert [a.kind for a in alerts] == ["night_bed_exit"], [a.message for a in alerts]
    [a] = alerts
    assert a.time == at(d, 27 + 14 / 60) + timedelta(seconds=limit)  # 03:34: the learned limit after 03:14
    days = p.waiting.models["night_bedroom"].days_raw  # as at the alert (the day's end at 04:00 adds one)
    assert days >= LEARNED
    assert a.message == (f"Ann got out of bed at 03:10 and has not returned (24 min); last seen by the motion sensor "
                         f"(bedroom) at 03:14, no movement since. Out of bed at night and last seen in the bedroom, "
                         f"her quiet lasted 20 min or more on 0 of the {days} days learned. Possible fall.")
    assert a.evidence["limit"] == "still_bedroom" and a.evidence["learned"] is True
    assert a.evidence["limit_min"] == 20.0


def test_an_ordinary_night_with_bedroom_movement_then_back_to_bed_raises_nothing() -> None:
    eng, before, d = learned()
    assert care(before) == []
    # out of bed at 02:00, about the bedroom (a drink, a window) for 15 min, still there for 15 min more, the
    # bathroom, back to bed at 02:40
    night = [ev(at(d, 26.0), "bed", False), ev(at(d, 26.0) + timedelta(seconds=20), "bedroom_pir", True),
             ev(at(d, 26.0) + timedelta(seconds=30), "bedroom_pir", False),
             ev(at(d, 26.25), "bedroom_pir", True), ev(at(d, 26.26), "bedroom_pir", False),
             ev(at(d, 26.4), "bath_pir", True), ev(at(d, 26.42), "bath_pir", False),
             ev(at(d, 26.65), "bedroom_pir", True), ev(at(d, 26.66), "bedroom_pir", False),
             ev(at(d, 26.67), "bed", True)]
    assert care(feed(eng, [*evening(d), *night], at(d, 29.0))) == []


def test_while_learning_the_bedroom_wait_is_the_starting_limit_and_says_so() -> None:
    eng, before, d = learned(days=5)
    assert care(before) == []
    p = eng._persons["p1"]
    assert not p.thr.wait_own["night_bedroom"]
    # the starting limit is the cap (night_bedroom_start_min None): the longest the deadline allows (issue 14)
    assert START.night_bedroom_start_min is None
    assert p.thr.wait_s["night_bedroom"] == START.night_quiet_cap_min * 60
    day = [*evening(d), ev(at(d, 26 + 10 / 60), "bed", False), ev(at(d, 26 + 20 / 60), "bedroom_pir", True),
           ev(at(d, 26 + 20 / 60) + timedelta(seconds=10), "bedroom_pir", False)]
    [a] = care(feed(eng, day, at(d, 27 + 10 / 60)))  # (not past the day's end: its days learned stay as said)
    assert a.kind == "night_bed_exit" and a.time == at(d, 27 + 10 / 60)  # 50 min after the bedroom sign
    n = p.waiting.models["night_bedroom"].days_raw
    assert a.message == (f"Ann got out of bed at 02:10 and has not returned (1 h 00 min); last seen by the motion "
                         f"sensor (bedroom) at 02:20, no movement since. Out of bed at night and last seen in the "
                         f"bedroom: the starting limit of 50 min is used until her own days are learned ({n} of 28 "
                         f"days). Possible fall.")
    assert a.evidence["learned"] is False and a.evidence["limit"] == "still_bedroom"


def test_the_bedroom_situation_takes_a_budget_share_only_where_a_bedroom_sensor_can_see_it() -> None:
    from routines.detectors.situations import OTHER_SHARES, SITUATIONS, rate_per_day

    # both homes have a kitchen: every situation they can see, daytime quiet and 'no meal' share the budget
    st = RoutineSettings(population_prior=False, false_alarm_budget_per_30d=2.0)
    with_pir = RoutineEngine(home(), st)
    shares = len(SITUATIONS) + len(OTHER_SHARES)
    assert abs(rate_per_day(with_pir, with_pir._persons["p1"]) * 30 * shares - 2.0) < 1e-9
    bare = RoutineEngine(Home("Europe/London", (Person("p1", "Ann", "she"),), SENSORS), st)
    assert abs(rate_per_day(bare, bare._persons["p1"]) * 30 * (shares - 1) - 2.0) < 1e-9


def test_a_checkpoint_from_before_the_bedroom_situation_starts_learning_it_and_keeps_the_others() -> None:
    from routines.detectors.situations import SITUATIONS, models
    from routines.waiting import WaitModel

    eng, _, _ = learned(days=3)
    p = eng._persons["p1"]
    old = {name: m for name, m in p.waiting.models.items() if name != "night_bedroom"}
    p.waiting.models.clear()
    p.waiting.models.update(old)  # as restored from a checkpoint written before the situation existed
    ms = models(p, START.half_life_days)
    assert set(ms) == set(SITUATIONS)
    assert all(ms[name] is m for name, m in old.items())  # what was learned stays
    assert isinstance(ms["night_bedroom"], WaitModel) and ms["night_bedroom"].days_raw == 0
