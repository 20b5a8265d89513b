"""Issue 14, a quieter first month: 'not up' starts conservative (the prior's latest getting up plus 2 h)
and tightens as her own wakes are learned; a night begun later than the usual bed time is given as much
longer; a person who comes home by the front door after the not-up deadline is up, not 'not up'."""

from __future__ import annotations

from test_explanations_wording import learn
from test_routines_days import SENSORS, make_home
from test_routines_detectors import evening, moving, run, t

from routines.engine import RoutineEngine
from routines.home import Home, Person
from routines.prior import parse
from routines.settings import RoutineSettings

# a prior whose latest getting up is 09:00 (minutes since 04:00): the conservative start is 11:00
PRIOR = parse({"format": 1, "version": "test", "homes": 2, "days": 20,
               "markers": {"wake": {"per_day": 1.0, "values": [120.0, 150.0, 180.0, 240.0, 300.0]}},
               "silence": None}, "test prior")


def _not_up(eng: RoutineEngine, until: str) -> list:
    _, alerts = run(evening(-1), t(until), engine=eng)
    return [a for a in alerts if a.kind == "not_up"]


def test_on_day_one_not_up_waits_for_the_priors_latest_wake_plus_two_hours() -> None:
    eng = RoutineEngine(make_home(), RoutineSettings(), prior=PRIOR)
    assert _not_up(eng, "11:29") == []  # (before: told at 09:30, the prior's latest plus the margin)
    eng = RoutineEngine(make_home(), RoutineSettings(), prior=PRIOR)
    [a] = _not_up(eng, "11:45")
    assert t("11:30") <= a.time <= t("11:31")  # 09:00 + 2 h, plus the 30 min margin
    assert a.message == ("Ann is not up by 11:30 (the starting limit set at install, from other people's "
                         "routines, until her own routine is learned: 0 of 14 days); no movement since she went "
                         "to bed at 22:40.")
    assert a.evidence["limit"] == "starting"


def test_the_start_tightens_with_her_own_wakes_and_is_gone_at_fourteen() -> None:
    # 7 of 14 days up by 07:00: half the way from her blended latest to 11:00 is left
    eng = RoutineEngine(make_home(), RoutineSettings(), prior=PRIOR)
    learn(eng, [180.0] * 7)
    [a] = _not_up(eng, "11:45")
    half = a.time
    assert t("09:30") < half < t("11:30")
    assert "with 7 days of her own, until her own routine is learned: 7 of 14 days" in a.message
    # 14 days: her own latest (07:00) plus the margin, nothing added
    eng = RoutineEngine(make_home(), RoutineSettings(), prior=PRIOR)
    learn(eng, [180.0] * 14)
    [a] = _not_up(eng, "11:45")
    assert t("07:30") <= a.time <= t("07:31")
    assert a.message.startswith("Ann is usually up by 07:00 (up by then on all 14 weekdays learned)")


def test_without_a_prior_the_starting_setting_is_not_lifted() -> None:
    eng = RoutineEngine(make_home(), RoutineSettings(population_prior=False))
    [a] = _not_up(eng, "11:45")
    assert t("09:00") <= a.time <= t("09:01")  # the starting 08:30 plus 30 min


def test_home_through_the_front_door_after_the_deadline_is_not_not_up() -> None:
    # no bed sensor (house A): out by the front door at 22:49 and away all night and day, home at 19:37 and
    # about from 20:32. Before, the first movement at 20:32 raised 'not up by 09:00; no movement since 20:32'
    home = Home("Europe/London", (Person("p1", "Ann", "she"),),
                tuple(s for s in SENSORS if s.id not in ("bed", "chair")))
    eng = RoutineEngine(home, RoutineSettings(population_prior=False))
    evs = [*moving(t("19:00", -1), t("22:45", -1)), (t("22:49", -1), "maindoor", True),
           (t("22:49", -1), "maindoor", False), (t("19:37"), "maindoor", True), (t("19:37"), "maindoor", False),
           *moving(t("20:32"), t("21:00"))]
    _, alerts = run(evs, t("21:00"), engine=eng)
    assert [a for a in alerts if a.audience == "care"] == []
    assert eng._persons["p1"].outings[-1][1] is not None  # the outing was read, and ended


def test_a_night_begun_late_is_given_as_much_longer_and_says_so() -> None:
    # to bed at 03:00, 4 h after the starting bed time (23:00), and never up: told at 13:00, not 09:00
    eng = RoutineEngine(make_home(), RoutineSettings(population_prior=False))
    evs = [*moving(t("20:00", -1), t("02:55")), (t("03:00"), "bed", True)]
    _, alerts = run(evs, t("13:05"), engine=eng)
    [a] = [a for a in alerts if a.kind == "not_up"]
    assert t("13:00") <= a.time <= t("13:01")  # (before: at 09:00)
    assert a.message == ("Ann is not up by 09:00 (the starting setting of 08:30 plus 30 min set at install, until "
                         "her own routine is learned: 0 of 7 days); she went to bed at 03:00, 4 h 00 min after the "
                         "starting bed time (23:00), so Hearth waited until 13:00; no movement since she went to bed "
                         "at 03:00.")
    assert a.evidence["late_night_min"] == 240.0


def test_a_night_begun_very_late_waits_no_longer_than_the_plausible_latest_getting_up() -> None:
    # to bed at 08:00 (9 h late): waited until 14:00, the latest plausible getting up, plus the 30 min margin
    eng = RoutineEngine(make_home(), RoutineSettings(population_prior=False))
    evs = [*moving(t("20:00", -1), t("07:55")), (t("08:00"), "bed", True)]
    _, alerts = run(evs, t("14:35"), engine=eng)
    [a] = [a for a in alerts if a.kind == "not_up"]
    assert t("14:30") <= a.time <= t("14:31")
    assert "she went to bed at 08:00, 9 h 00 min after the starting bed time (23:00), so Hearth waited until 14:30" \
        in a.message
