"""'No meal' on small hand-built days: told by bed time at the latest, never for a day that had a meal."""

from __future__ import annotations

from test_routines_days import make_home
from test_routines_detectors import evening, moving, run, t

from routines.alert import Severity
from routines.engine import RoutineEngine
from routines.settings import RoutineSettings


def _late_deadline_engine() -> RoutineEngine:
    # a usual first kitchen use that falls after the person's bed time (as a late quantile can)
    return RoutineEngine(make_home(), RoutineSettings(population_prior=False, default_first_kitchen_time="23:30"))


def _day_up_then_bed(kitchen_at: str | None = None) -> list:
    evs = [*evening(), (t("07:00"), "bed", False), *moving(t("07:01"), t("21:30"), "living_pir", 20),
           (t("21:45"), "bed", True)]
    if kitchen_at is not None:
        evs += [(t(kitchen_at), "kitchen_pir", True), (t(kitchen_at) + (t("00:01") - t("00:00")), "kitchen_pir", False)]
    return evs


def test_a_whole_day_without_kitchen_activity_is_told_on_going_to_bed() -> None:
    _, alerts = run(_day_up_then_bed(), t("23:59"), engine=_late_deadline_engine())
    [a] = [a for a in alerts if a.kind == "no_meal"]
    assert a.severity == Severity.WARNING
    assert t("21:45") < a.time < t("23:30")  # once settled in bed, before the (late) usual deadline
    assert a.message == ("No kitchen activity from Ann by 23:30 (the starting setting, until her own routine is "
                         "learned); no kitchen activity today since she got up at 07:00, and she went to bed at 21:45.")


def test_a_day_with_an_evening_meal_is_not_told_on_going_to_bed() -> None:
    _, alerts = run(_day_up_then_bed(kitchen_at="19:00"), t("23:59"), engine=_late_deadline_engine())
    assert [a.kind for a in alerts if a.kind == "no_meal"] == []


def test_a_short_morning_back_in_bed_is_not_a_day_without_a_meal() -> None:
    evs = [*evening(), (t("07:00"), "bed", False), *moving(t("07:01"), t("08:30"), "living_pir", 20),
           (t("08:45"), "bed", True)]
    _, alerts = run(evs, t("10:30"), engine=_late_deadline_engine())
    assert [a.kind for a in alerts if a.kind == "no_meal"] == []


def test_quiet_after_the_kitchen_is_not_judged_by_the_kitchen_sensors_own_short_gaps() -> None:
    # the kitchen sensor taught, like the flush, that quiet after it ends within 10 minutes: in the kitchen
    # food is made, not eaten, so a meal at the table elsewhere keeps the time-of-day limit
    from test_routines_stillness import day_ending_at, taught

    from routines import detectors

    eng = taught()
    s = eng._sensors["kitchen_pir"]
    for _ in range(20):
        detectors.learn_context_gaps(s, 40, [400.0, 500.0, 600.0])
    detectors.refresh_thresholds(eng, eng._persons["p1"])
    assert s.ctx_limit is None and eng._sensors["flush"].ctx_limit is not None
    _, alerts = run(day_ending_at("kitchen_pir"), t("12:00"), engine=eng)
    assert [a for a in alerts if a.kind == "silence"] == []
    _, later = run([], t("16:00"), engine=eng)  # the hourly limit still applies (starting limit: 3 h)
    [a] = [a for a in later if a.kind == "silence"]
    assert a.evidence["by_last_sensor"] is False and a.evidence["last_sensor"] == "kitchen_pir"
