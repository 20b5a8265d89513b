"""When a person got up: night-time spells up, sitting on the bed to dress, going to bed after the day
boundary, naps (hand-built days; cold-start settings: latest usual wake 08:30, 'not up' at 09:00)."""

from __future__ import annotations

from datetime import time, timedelta

from test_routines_days import SENSORS
from test_routines_detectors import D, evening, moving, run, t

from routines.engine import RoutineEngine
from routines.home import Home, Person
from routines.settings import RoutineSettings


def _wake(eng) -> time | None:
    return eng.day_summary("p1", D).wake_time


def test_up_at_five_for_an_hour_then_back_to_bed_is_a_night_trip_not_getting_up() -> None:
    evs = [*evening(), (t("05:00"), "bed", False), *moving(t("05:01"), t("05:45"), "kitchen_pir", 10),
           (t("05:50"), "bed", True), (t("08:10"), "bed", False), *moving(t("08:11"), t("12:00"), "kitchen_pir", 15)]
    eng, alerts = run(evs, t("12:00"))
    assert alerts == []
    assert _wake(eng) == time(8, 10)
    assert eng.day_summary("p1", D).night_bed_exits == 1  # the 50-min spell up, counted as a night trip


def test_back_to_bed_at_five_and_still_there_past_the_deadline_is_not_up() -> None:
    """Before: the 05:00 spell was 'getting up', so nobody was told Ann stayed in bed all morning."""
    evs = [*evening(), (t("05:00"), "bed", False), *moving(t("05:01"), t("05:45"), "kitchen_pir", 10),
           (t("05:50"), "bed", True)]
    _, alerts = run(evs, t("12:00"))
    [a] = alerts
    assert a.kind == "not_up" and a.time == t("09:00")


def test_sitting_on_the_bed_to_dress_after_the_bathroom_does_not_move_the_wake() -> None:
    evs = [*evening(), (t("07:28"), "bed", False), *moving(t("07:29"), t("07:40"), "bath_pir", 5),
           (t("07:43"), "bed", True), (t("07:45"), "bed", False),
           *moving(t("07:46"), t("12:00"), "kitchen_pir", 15)]
    eng, alerts = run(evs, t("12:00"))
    assert alerts == []
    assert _wake(eng) == time(7, 28)  # was 07:45: the brief return to the bed undid the wake at once


def test_a_nap_hours_after_getting_up_keeps_the_morning_wake() -> None:
    evs = [*evening(), (t("06:30"), "bed", False), *moving(t("06:31"), t("08:00"), "kitchen_pir", 10),
           (t("08:40"), "bed", True), (t("09:40"), "bed", False), *moving(t("09:41"), t("12:00"), "kitchen_pir", 15)]
    eng, alerts = run(evs, t("12:00"))
    assert alerts == []
    assert _wake(eng) == time(6, 30)  # up for 2 h 10 min, then back to bed: a nap, not the night going on


def test_still_up_at_the_day_boundary_then_asleep_is_that_nights_sleep() -> None:
    """To bed at 04:40, after the 04:00 day boundary: the day's wake is when Ann gets up, not 'never'."""
    evs = [*moving(t("20:00", -1), t("04:30")), (t("04:40"), "bed", True), (t("08:20"), "bed", False),
           *moving(t("08:21"), t("12:00"), "kitchen_pir", 15)]
    eng, alerts = run(evs, t("12:00"))
    assert alerts == []
    assert _wake(eng) == time(8, 20)
    assert eng.day_summary("p1", D).bed_time is None  # 04:40 was last night's sleep, not today's bed time


def test_still_up_at_the_day_boundary_and_not_up_by_the_deadline() -> None:
    # up all night, to bed at 04:40, 5 h 40 min after the starting bed time (23:00): 'not up' waits as much
    # longer than 09:00, at most until the latest plausible getting up (14:00) plus the margin (was 09:00)
    evs = [*moving(t("20:00", -1), t("04:30")), (t("04:40"), "bed", True)]
    _, alerts = run(evs, t("15:00"))
    assert [(a.kind, a.time) for a in alerts] == [("not_up", t("14:30"))]
    assert alerts[0].time - t("04:40") > timedelta(hours=4)


def _no_bed_home() -> Home:
    return Home("Europe/London", (Person("p1", "Ann", "she"),), tuple(s for s in SENSORS if s.id != "bed"))


def _no_bed_trip(later: str) -> tuple:
    """No bed sensor; usually up by 10:00 at the latest, so not before 06:00 (cold start: 4 h earlier)."""
    evs = [*moving(t("20:00", -1), t("22:30", -1)),
           (t("05:10"), "flush", True), (t("05:11"), "flush", False), *moving(t("05:10"), t("05:20"), "bath_pir", 4),
           *moving(t(later), t("12:00"), "kitchen_pir", 10)]
    eng = RoutineEngine(_no_bed_home(), RoutineSettings(population_prior=False, default_wake_time="10:00"))
    return run(evs, t("12:00"), engine=eng)


def test_without_a_bed_sensor_a_toilet_trip_before_the_earliest_usual_wake_is_not_getting_up() -> None:
    eng, alerts = _no_bed_trip("07:50")
    assert alerts == []
    assert _wake(eng) == time(7, 50)  # was 05:10: a burst up then an hour of the night's quiet again


def test_without_a_bed_sensor_up_at_06_30_and_quiet_for_an_hour_is_still_up() -> None:
    """Past the earliest usual wake a quiet hour is a person sitting where no sensor sees, not the night."""
    evs = [*moving(t("20:00", -1), t("22:30", -1)), *moving(t("06:30"), t("06:45"), "kitchen_pir", 5),
           *moving(t("08:30"), t("12:00"), "kitchen_pir", 10)]
    eng, alerts = run(evs, t("12:00"), engine=RoutineEngine(_no_bed_home(), RoutineSettings(population_prior=False, default_wake_time="10:00")))
    assert alerts == []
    assert _wake(eng) == time(6, 30)
