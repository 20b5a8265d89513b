"""Detection quality, third round: stillness judged from where the person was last seen (hand-built days)."""

from __future__ import annotations

from datetime import timedelta

from test_routines_days import SENSORS, make_home
from test_routines_detectors import D, evening, moving, run, t

from routines import detectors
from routines.alert import Audience
from routines.engine import RoutineEngine
from routines.home import Home, Person
from routines.settings import RoutineSettings

HOUR = 3600.0

# the technician's fixed starting settings, no population prior: these tests pin the detectors' logic
# against known limits (the prior has its own tests: test_prior.py, test_first_month.py)
START = RoutineSettings(population_prior=False)


def taught(home: Home | None = None) -> RoutineEngine:
    """An engine that has learned, over 20 days, that quiet after the toilet flush ends within 10 minutes
    and quiet after the living-room sensor can last three hours (sitting with a book)."""
    eng = RoutineEngine(home or make_home(), START)
    for sid, longs in (("flush", [400.0, 500.0, 600.0] * 20), ("living_pir", [1800.0, 3 * HOUR] * 20)):
        s = eng._sensors[sid]
        for _ in range(20):
            detectors.learn_context_gaps(s, 40, longs[:3])
    detectors.refresh_thresholds(eng, eng._persons["p1"])
    return eng


def day_ending_at(last: str) -> list:
    """Up at 07:30, about the kitchen until 10:00, then one last event at 10:05 and nothing after."""
    evs = [*evening(), (t("06:00"), "maindoor", True), (t("06:00") + timedelta(seconds=5), "maindoor", False),
           (t("06:01"), "kitchen_pir", True), (t("07:30"), "bed", False),
           *moving(t("07:31"), t("10:00"), "kitchen_pir", 15)]
    return [*evs, (t("10:05"), last, True), (t("10:05") + timedelta(seconds=5), last, False)]


def test_stillness_after_the_toilet_flush_alerts_within_the_hour() -> None:
    eng = taught()
    s = eng._sensors["flush"]
    assert s.ctx_base is not None and s.ctx_base <= 700  # the longest usual quiet after a flush (bin edge)
    limit = s.ctx_limit
    assert limit == 2 * s.ctx_base and 20 * 60 < limit < 23 * 60  # twice that, over the 20 min floor
    _, alerts = run(day_ending_at("flush"), t("12:00"), engine=eng)
    [a] = [a for a in alerts if a.kind == "silence"]
    assert a.time == t("10:28")  # 22 min 8 s after the flush closed, on the next minute tick
    assert a.audience == Audience.CARE
    assert a.evidence["by_last_sensor"] is True and a.evidence["last_sensor"] == "flush"
    assert "After the toilet flush sensor (bathroom), her quiet spells at home have hardly ever lasted longer than 11 min" in a.message


def test_stillness_after_sitting_down_waits_for_the_usual_limit() -> None:
    _, alerts = run(day_ending_at("living_pir"), t("12:00"), engine=taught())
    assert [a for a in alerts if a.kind == "silence"] == []  # three hours is usual after the living room


def test_a_sensor_with_too_few_days_behind_it_keeps_the_hourly_limit() -> None:
    eng = RoutineEngine(make_home(), START)
    s = eng._sensors["flush"]
    for _ in range(5):  # plenty of gaps but only five days: not enough to know its longest quiet
        detectors.learn_context_gaps(s, 400, [400.0])
    detectors.refresh_thresholds(eng, eng._persons["p1"])
    assert s.ctx_limit is None
    _, alerts = run(day_ending_at("flush"), t("12:00"), engine=eng)
    assert [a for a in alerts if a.kind == "silence"] == []


def test_without_a_front_door_sensor_stillness_within_the_hour_is_a_blind_check() -> None:
    home = Home("Europe/London", (Person("p1", "Ann", "she"),), tuple(s for s in SENSORS if s.id != "maindoor"))
    eng = taught(home)
    p = eng._persons["p1"]
    for _ in range(eng.settings.learning_days):
        detectors.learn_day(eng, p, {"weekend": False, "events": 100.0, "hourly": [4] * 24, "night_exits": 0,
                                     "minutes_out": 0.0, "wake": 200.0, "first_kitchen": 220.0, "bed": 1100.0,
                                     "kitchen_events": 5})
    detectors.refresh_thresholds(eng, p)
    evs = [e for e in day_ending_at("flush") if e[1] != "maindoor"]
    _, alerts = run(evs, t("12:00"), engine=eng)
    assert [a for a in alerts if a.kind == "silence"] == []  # going out cannot be told from lying still
    [b] = [a for a in alerts if a.kind == "blind_check"]
    assert b.audience == Audience.TECHNICAL and b.evidence["check"] == "stillness_hour"
    assert b.message.startswith("Cannot check Ann's stillness within an hour here: no front door sensor")
    assert "cannot check stillness within an hour: no front door sensor" in eng.status()["p1"]["blind"][-1]
    _, again = run(evs, t("12:00", 1), engine=eng)
    assert [a for a in again if a.kind == "blind_check"] == []  # told once


def test_quiet_past_a_sensor_limit_is_kept_back_and_learned_only_if_it_ended_under_the_cap() -> None:
    eng = taught()
    p = eng._persons["p1"]
    eng._day_date = D
    p.day_alerts = ["silence"]
    lim = eng._sensors["flush"].ctx_limit
    pl = detectors.day_payload(eng, p)
    pl["ctx_gaps"] = {"flush": (30, [400.0, lim + 60, 8 * HOUR])}
    now, back = detectors.split_flagged(eng, p, pl)
    assert now["ctx_gaps"]["flush"] == (30, [400.0])
    assert back["ctx_gaps"]["flush"] == (0, [lim + 60, 8 * HOUR])
    assert back["auto"]["ctx_gaps"]["flush"] == (0, [lim + 60])  # 8 h is past the everyday cap: never learned


def test_context_gaps_survive_a_checkpoint() -> None:
    eng = taught()
    p = eng._persons["p1"]
    run(day_ending_at("flush")[:-2], t("10:01"), engine=eng)
    back = RoutineEngine.restore(make_home(), eng.checkpoint())
    assert back._sensors["flush"].ctx_limit == eng._sensors["flush"].ctx_limit
    assert back._persons["p1"].last_s is back._sensors[p.last_s.id]
