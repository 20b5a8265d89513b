"""Issue 11 item 1, issue 14: the appliance 'left on' limit is also spent from the person's false-alarm budget
(routines.detectors.appliances). A kettle sometimes on for 40 minutes stops being told 'left on' once
those spells are learned, the alert names the person's own figures and which limit decided, a hob left on
for hours still warns carers, and settled or false-alarm alerts move the limit within decision 4's bounds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from test_routines_days import make_home
from test_routines_detectors import START, moving, run, t

from routines.detectors import appliances, situations
from routines.detectors.days import limits_now
from routines.engine import STUCK_ON_S, RoutineEngine

# the real checkpoint of the first 30 days of _weeks(51) below, written by the code of commit a55d1d2 (the last
# before the appliance budget: its limits, Thresholds, have no 'appliance' field)
OLD = Path(__file__).parent / "fixtures" / "routines_checkpoint_a55d1d2_kettle.bin"
LONG_DAYS = (3, 10, 17, 24, 31, 38, 45)  # a 40-minute use at 15:00 once a week


def _weeks(days: int) -> list:
    """``days`` days up and about, the kettle on three times a day for 3 min, and on for 40 min once a week."""
    evs = [e for d in range(days) for e in moving(t("07:00", d), t("22:00", d))]
    for d in range(days):
        for use in ("08:00", "12:00", "18:00"):
            evs += [(t(use, d), "kettle", True), (t(use, d) + timedelta(minutes=3), "kettle", False)]
    return evs + [e for d in LONG_DAYS if d < days
                  for e in ((t("15:00", d), "kettle", True), (t("15:40", d), "kettle", False))]


def _left_on(alerts: list) -> list:
    return [a for a in alerts if a.kind == "appliance_on"]


def test_the_stuck_length_is_the_engines() -> None:
    assert appliances.STUCK_S == STUCK_ON_S


def test_a_kettle_sometimes_on_for_40_min_stops_alerting_once_learned_and_a_hob_left_on_still_warns() -> None:
    evs = [*_weeks(51), (t("13:00", 50), "kettle", True), (t("17:00", 50), "kettle", False)]  # left on 4 h
    eng, alerts = run(sorted(evs), t("17:30", 50), tick_min=5)
    told = [a.time for a in _left_on(alerts)]
    # told at the 30-min floor while learning (the budget waits for situation_min_days of her own days:
    # days with a care alert are not whole days learned, so it starts in the sixth week), once at the
    # budget's first limit (37.5 min: the settled 40-min spells were learned clipped to 30 min), then no
    # more: the 40-min use of day 45 is not told; the hob left on 4 h on day 50 is
    assert told == [t("15:30", d) for d in LONG_DAYS[:5]] + [t("15:40", 38), t("13:50", 50)]
    assert _left_on(alerts)[-1].message == (
        "Ann's kettle has been on for 50 min, since 13:00; it went off within 40 min on all 157 times "
        "learned; the limit is 1.25 times that, 50 min, so its learned times would have raised no more alerts "
        "than its share of Ann's false-alarm budget.")
    s, p = eng._sensors["kettle"], eng._persons["p1"]
    n = s.on_model.n
    assert n == 157 and int((s.on_model.values[:n] <= 40 * 60).sum()) == 157  # true counts of spells learned
    assert p.thr.appliance["kettle"].limit_s == 50 * 60


def test_the_appliances_take_one_share_of_the_budget() -> None:
    eng, _ = run(_weeks(2), t("23:00", 1), tick_min=10)
    p = eng._persons["p1"]
    with_plug = situations.rate_per_day(eng, p)
    saved = situations.OTHER_SHARES.pop("appliance_on")
    try:
        without = situations.rate_per_day(eng, p)
    finally:
        situations.OTHER_SHARES["appliance_on"] = saved
    shares = eng.settings.false_alarm_budget_per_30d / 30.0 / with_plug
    assert round(shares) == shares and eng.settings.false_alarm_budget_per_30d / 30.0 / without == shares - 1


def test_settled_and_false_alarm_spells_move_the_budgeted_limit_within_decision_4() -> None:
    base = _weeks(51)
    eng, alerts = run(sorted(base), t("23:00", 50), tick_min=5)
    p = eng._persons["p1"]
    before = limits_now(eng, p)["appliance:kettle"]
    assert before == 50 * 60
    # on for 95 min on day 51 (told at 50 min, ends by itself under twice the limit): nobody marks it, so
    # two days later it is learned, clipped: the limit moves half an hour later, no more
    evs = [e for e in _weeks(56) if e[0] > t("23:00", 50)]
    evs += [(t("15:00", 51), "kettle", True), (t("16:35", 51), "kettle", False)]
    eng, alerts = run(sorted(evs), t("23:00", 55), engine=eng, tick_min=5)
    assert [a.time for a in _left_on(alerts)] == [t("15:50", 51)]
    settled = limits_now(eng, p)["appliance:kettle"]
    assert settled == before + 1800.0
    # on for 2 h 30 min on day 56, told, and a carer says it was a false alarm: one hour later at most
    evs = [e for e in _weeks(58) if e[0] > t("23:00", 55)]
    evs += [(t("09:00", 56), "kettle", True), (t("11:30", 56), "kettle", False)]
    eng, alerts = run(sorted(evs), t("12:00", 56), engine=eng, tick_min=5)
    (a,) = _left_on(alerts)
    assert a.time == t("10:20", 56)  # the settled limit, 80 min
    eng, _ = run([e for e in evs if e[0] > t("12:00", 56)], t("12:00", 57), engine=eng, tick_min=5)  # day over
    assert limits_now(eng, p)["appliance:kettle"] == settled  # kept back: not learned
    eng.record_outcome(a.key, "false_alarm")
    # 2 h 30 min learned clipped to (80 + 60) / 1.25 = 112 min; times the margin 140 min, past the cap: the
    # technician's starting limit, 2 h (a hob on for hours always reaches carers within it)
    assert limits_now(eng, p)["appliance:kettle"] == appliances.cap_s(eng.settings) == 7200.0 < settled + 3600.0
    assert p.thr.appliance["kettle"].capped and p.thr.appliance["kettle"].base_s == (settled + 3600.0) / 1.25
    # and a hob left on for hours after that is told at the cap, saying so (1 h 52 min: the false alarm's
    # spell as learned, clipped)
    evs = [e for e in _weeks(58) if e[0] > t("12:00", 57)] + [(t("09:00", 57), "kettle", True)]
    eng, alerts = run(sorted(evs), t("12:00", 57), engine=eng, tick_min=5)
    (a,) = _left_on(alerts)
    assert a.time == t("11:00", 57) and a.message == (
        "Ann's kettle has been on for 2 h 00 min, since 09:00; it went off within 1 h 52 min on all 180 times "
        "learned; the limit is at most 2 h 00 min, the starting limit, so its learned "
        "times would have raised no more alerts than its share of Ann's false-alarm budget.")


def test_a_checkpoint_from_before_the_budget_restores_and_goes_on_as_an_uninterrupted_run() -> None:
    evs = sorted([*_weeks(51), (t("13:00", 50), "kettle", True), (t("17:00", 50), "kettle", False)])
    cut = t("12:00", 30)
    eng, _ = run([e for e in evs if e[0] <= cut], cut, tick_min=5)
    again = RoutineEngine.restore(make_home(), OLD.read_bytes(), START)
    assert again._sensors["kettle"].on_model.n == eng._sensors["kettle"].on_model.n > 90  # learned, carried over
    rest = [e for e in evs if e[0] > cut]
    _, whole = run(rest, t("17:30", 50), engine=eng, tick_min=5)
    _, after = run(rest, t("17:30", 50), engine=again, tick_min=5)
    assert [(a.time, a.message) for a in after] == [(a.time, a.message) for a in whole]
    # (the ticks every 5 min from the first event after the cut, 12:01)
    assert [a.time for a in _left_on(after)] == [t("15:31", 31), t("15:40", 38), t("13:51", 50)]
    assert again._persons["p1"].thr.appliance["kettle"].limit_s == 50 * 60


def test_a_switch_left_on_for_days_is_told_to_carers_once() -> None:
    """House B's microwave switch left tipped from 10:00 for five days: carers hear of it once, at the limit,
    not again every third day at 04:00 as the alert keys are forgotten (issue 14: 6 of B's 19 first-month
    'left on' alerts over 5 seeds were such repeats)."""
    evs = [*_weeks(9), (t("10:00", 3), "kettle", True), (t("10:00", 8), "kettle", False)]
    _, alerts = run(sorted(e for e in evs if not (t("10:00", 3) < e[0] < t("10:00", 8) and e[1] == "kettle")),
                    t("12:00", 8), tick_min=5)
    assert [a.time for a in _left_on(alerts)] == [t("10:30", 3)]
