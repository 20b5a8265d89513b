"""Daytime stillness where going out cannot be seen (no front door sensor): the limit covers the person's
own outings, wherever in the day they fall, and a silence far longer still alerts (hand-built days)."""

from __future__ import annotations

from datetime import timedelta

from test_routines_days import SENSORS
from test_routines_detectors import moving, run, t

from routines.engine import RoutineEngine
from routines.home import Home, Person
from routines.settings import RoutineSettings

USED = ("bed", "kitchen_pir")  # only sensors these days use: none of them goes silent
NO_DOOR = Home("Europe/London", (Person("p1", "Ann", "she"),), tuple(s for s in SENSORS if s.id in USED))
WITH_DOOR = Home("Europe/London", (Person("p1", "Ann", "she"),),
                 tuple(s for s in SENSORS if s.id in (*USED, "maindoor")))

# the technician's fixed starting settings, no population prior: these tests pin the detectors' logic
# against known limits (the prior has its own tests: test_prior.py, test_first_month.py)
START = RoutineSettings(population_prior=False)


def _day(d: int, out_from: str | None, out_to: str | None, door: bool = False) -> list:
    """Up at 07:00, busy every 20 min (kitchen), out (nothing at all) from ``out_from`` to ``out_to``, bed 22:40;
    ``door``: the front door opens and closes as the person leaves and comes back."""
    evs = [(t("07:00", d), "bed", False)]
    if door and out_from is not None:
        for hm in (out_from, out_to):
            evs += [(t(hm, d), "maindoor", True), (t(hm, d) + timedelta(seconds=20), "maindoor", False)]
    evs += [e for e in moving(t("07:01", d), t("22:30", d), "kitchen_pir", 20)
            if out_from is None or not t(out_from, d) <= e[0] < t(out_to, d)]
    return [*evs, (t("22:40", d), "bed", True)]


def _learned(home: Home = NO_DOOR, days: int = 12) -> RoutineEngine:
    """Twelve days out for five hours every morning (10:00-15:00), seen through the door if there is one."""
    eng = RoutineEngine(home, START)
    evs = [(t("22:40", -days - 1), "bed", True)]
    for d in range(-days, 0):
        evs += _day(d, "10:00", "15:00", door=home is WITH_DOOR)
    run(evs, t("03:00"), engine=eng)
    return eng


def test_an_afternoon_outing_as_long_as_the_usual_morning_ones_is_not_an_alarm() -> None:
    eng = _learned()
    _, alerts = run(_day(0, "14:00", "19:00"), t("23:00"), engine=eng)
    assert [a.kind for a in alerts if a.audience == "care"] == []
    assert eng._persons["p1"].thr.silence_blind >= 5 * 3600  # the usual outing, learned from quiet alone


def test_with_a_front_door_the_hourly_limit_is_kept() -> None:
    """Where going out is seen, an afternoon quiet spell far past that hour's usual is still flagged."""
    eng = _learned(WITH_DOOR)
    _, alerts = run(_day(0, "14:00", "19:00"), t("23:00"), engine=eng)
    assert "silence" in [a.kind for a in alerts]
    assert eng._persons["p1"].thr.silence_blind is None


def test_a_silence_far_longer_than_any_outing_still_alerts_and_says_why_it_waited() -> None:
    eng = _learned()
    evs = [(t("07:00"), "bed", False), *moving(t("07:01"), t("08:00"), "kitchen_pir", 20)]  # then nothing
    _, alerts = run(evs, t("03:00", 1), engine=eng)
    [a] = [a for a in alerts if a.kind == "silence"]
    limit = eng._persons["p1"].thr.silence_cap_s
    assert a.time - t("07:41") <= timedelta(seconds=limit + 60)
    assert "Going out cannot be seen here (no working front door sensor)" in a.message
    assert "usual longest (" in a.message
