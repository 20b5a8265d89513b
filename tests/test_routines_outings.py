"""Unseen outings without a bed sensor (hand-built days): days when the person is first seen coming in at
the front door, long after the usual wake, are kept apart from the wake models and hold back 'not up'."""

from __future__ import annotations

from test_routines_days import SENSORS
from test_routines_detectors import moving, run, t

from routines.engine import RoutineEngine
from routines.home import Home, Person
from routines.settings import RoutineSettings

NO_BED = Home("Europe/London", (Person("p1", "Ann", "she"),), tuple(s for s in SENSORS if s.id != "bed"))

# the technician's fixed starting settings, no population prior: these tests pin the detectors' logic
# against known limits (the prior has its own tests: test_prior.py, test_first_month.py)
START = RoutineSettings(population_prior=False)


def _day(d: int, outing: bool) -> list:
    """Up at 08:00 (kitchen, living room) until 22:30; or, on an outing day, nothing at all until she comes
    in at the front door at 19:00 (then busy until 22:30)."""
    start = "19:10" if outing else "08:00"
    evs = [*moving(t(start, d), t("22:30", d), "kitchen_pir", 15), *moving(t(start, d), t("22:30", d), "living_pir", 25)]
    if outing:
        evs += [(t("19:00", d), "maindoor", True), (t("19:01", d), "maindoor", False)]
    return evs


def _fortnight(outing_days: set[int], today_outing: bool) -> tuple[RoutineEngine, list]:
    evs = [e for d in range(-14, 0) for e in _day(d, d in outing_days)] + _day(0, today_outing)
    return run(evs, t("23:00"), engine=RoutineEngine(NO_BED, START))


def _care(alerts: list, kind: str) -> list:
    return [a for a in alerts if a.kind == kind and a.time >= t("04:00")]


def test_a_person_who_sometimes_goes_out_unseen_is_not_called_not_up_when_she_comes_in_later() -> None:
    eng, alerts = _fortnight({-13, -6}, today_outing=True)  # two earlier weekdays out unseen; today too
    assert _care(alerts, "not_up") == []
    told = [a for a in alerts if a.kind == "blind_check" and a.evidence.get("check") == "not_up"]
    assert len(told) == 1 and "'Not up' is a weak check for Ann" in told[0].message
    assert told[0].evidence["sensors"] == ["maindoor"]
    assert _care(alerts, "night_door") == []  # coming in is not a night exit
    p = eng._persons["p1"]
    # the returns were learned apart; the wake models never saw 19:00 (night start hangs on them)
    assert p.returns_by_type[0].n >= 2
    assert p.wake_model.quantile(1.0) < 9 * 60  # minutes since the 04:00 day start: before 13:00


def test_without_learned_unseen_outings_the_same_day_is_still_not_up() -> None:
    _eng, alerts = _fortnight(set(), today_outing=True)
    late = _care(alerts, "not_up")
    assert len(late) == 1 and late[0].time < t("19:00")
    assert not [a for a in alerts if a.kind == "blind_check" and a.evidence.get("check") == "not_up"]


def test_a_still_person_is_still_called_not_up_once_past_her_latest_usual_return() -> None:
    # the same fortnight, then nothing at all today after last night
    evs = [e for d in range(-14, 0) for e in _day(d, d in {-13, -6})]
    _eng, alerts = run(evs, t("23:00"), engine=RoutineEngine(NO_BED, START))
    late = _care(alerts, "not_up")
    assert len(late) == 1 and t("19:10") <= late[0].time <= t("20:00")
