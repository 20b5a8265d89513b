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
    assert a.message == ("No kitchen activity from Ann by 23:30 (the starting setting of 23:30 set at install, until "
                         "her own routine is learned: 0 of 7 days); no kitchen activity today since she got up at 07:00, and she went to bed at 21:45.")


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


def _meal(at: str, events: int = 6) -> list:
    """Kitchen motion and the fridge opened and shut: ``events`` motion 'on's, two fridge changes each."""
    from datetime import timedelta

    out = []
    for i in range(events // 3):
        x = t(at) + timedelta(minutes=4 * i)
        out += [(x, "kitchen_pir", True), (x + timedelta(seconds=30), "kitchen_pir", False),
                (x + timedelta(seconds=60), "fridge", True), (x + timedelta(seconds=90), "fridge", False)]
    return out


def test_the_day_summary_counts_kitchen_episodes_long_enough_to_be_meals() -> None:
    from routines.detectors.episodes import MEAL_MIN_EVENTS

    assert MEAL_MIN_EVENTS == 12  # each _meal below is 4 x (motion + fridge open + shut) = 12 kitchen events
    evs = [*evening(), (t("07:00"), "bed", False), *moving(t("07:01"), t("21:30"), "living_pir", 20),
           *_meal("08:00", 12), *_meal("12:30", 12), (t("15:00"), "kettle", 2200.0), (t("15:03"), "kettle", 0.0),
           *_meal("18:30", 12), (t("21:45"), "bed", True)]
    eng, _ = run(evs, t("23:59"))
    s = eng.day_summary("p1", t("12:00").date())
    assert (s.meals, s.kitchen_events) == (3, 37)  # the afternoon cup of tea is a kitchen use, not a meal


def test_a_person_without_a_kitchen_sensor_has_no_meal_count_not_zero_meals() -> None:
    from routines.engine import RoutineEngine
    from routines.home import Home

    home = make_home()
    eng = RoutineEngine(Home(home.timezone, home.people, tuple(s for s in home.sensors if not s.is_kitchen)))
    eng, _ = run([*evening(), (t("07:00"), "bed", False), *moving(t("07:01"), t("12:00"), "living_pir", 20)],
                 t("12:00"), engine=eng)
    assert eng.day_summary("p1", t("12:00").date()).meals is None


def test_summaries_and_state_from_a_checkpoint_written_before_meals_were_counted_still_load() -> None:
    import copyreg
    import pickle

    from routines.engine import RoutineEngine
    from routines.summary import DaySummary

    eng, _ = run([*evening(), (t("07:00"), "bed", False), *_meal("08:00", 12)], t("23:59"))
    eng, _ = run([*moving(t("07:00", 1), t("09:00", 1), "kitchen_pir", 10)], t("10:00", 1), engine=eng)
    p = eng._persons["p1"]
    [old] = [s for s in p.summaries if s.date == t("12:00").date()]
    assert old.meals == 1

    class Before:  # the same summary as an older version pickled it: every field but meals (and unusual, later)
        def __reduce__(self):
            return copyreg._reconstructor, (DaySummary, object, None), old.__getstate__()[:-2]

    p.summaries[-1] = pickle.loads(pickle.dumps(Before()))
    for name in ("meals", "meal_last", "meal_run"):
        delattr(p, name)
    back = RoutineEngine.restore(eng.home, eng.checkpoint(), eng.settings)
    q = back._persons["p1"]
    assert back.day_summary("p1", old.date) == DaySummary(**{**{f: getattr(old, f) for f in old.__dataclass_fields__},
                                                             "meals": None})
    assert (q.meals, q.meal_run, q.meal_last) == (0, 0, 0.0)


def _out_all_morning(kitchen_at: str | None) -> list:
    """Up at 07:00, out by the front door 09:00-12:00 (past the 11:00 starting deadline), then about the house."""
    evs = [*evening(), (t("07:00"), "bed", False), *moving(t("07:01"), t("08:55"), "living_pir", 20),
           (t("09:00"), "maindoor", True), (t("09:00") + (t("00:01") - t("00:00")) / 3, "maindoor", False),
           (t("12:00"), "maindoor", True), (t("12:00") + (t("00:01") - t("00:00")) / 3, "maindoor", False),
           *moving(t("12:01"), t("18:00"), "living_pir", 20)]
    if kitchen_at is not None:
        evs += [(t(kitchen_at), "kitchen_pir", True), (t(kitchen_at) + (t("00:01") - t("00:00")), "kitchen_pir", False)]
    return evs


def test_back_from_an_outing_past_the_deadline_she_has_two_hours_at_home_for_a_meal() -> None:
    # issue 14: house C's first month told 'no meal' on coming home from a day out (a meal out, perhaps)
    _, alerts = run(_out_all_morning(kitchen_at="13:30"), t("18:00"))
    assert [a for a in alerts if a.kind == "no_meal"] == []
    _, alerts = run(_out_all_morning(kitchen_at=None), t("18:00"))
    [a] = [a for a in alerts if a.kind == "no_meal"]
    assert a.time == t("14:00")  # two hours after coming home, as after getting up
    assert a.message == ("No kitchen activity from Ann by 14:00 (the starting setting of 11:00 set at install, until "
                         "her own routine is learned: 0 of 7 days); no kitchen activity today since she got up at "
                         "07:00 (out until 12:00: Hearth waited 2 h 00 min after she came home).")
