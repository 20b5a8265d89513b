"""Bed mats that pulse on movement, mats stuck 'occupied', and the front door outside the night (hand-built days)."""

from __future__ import annotations

from datetime import timedelta

from test_routines_detectors import KINDS, evening, moving, run, t

from routines.engine import RoutineEngine
from routines.home import Home, Person, SensorInfo
from sensors.events import SensorKind

K = SensorKind


def pulses(start, end, every_s: int = 40) -> list:
    """A mat that reports 'occupied' for a second whenever the sleeper moves (as house B/C mats do)."""
    out, x = [], start
    while x < end:
        out += [(x, "bed", True), (x + timedelta(seconds=1), "bed", False)]
        x += timedelta(seconds=every_s)
    return out


def pulsing_engine() -> RoutineEngine:
    """An engine that has seen enough brief on-spells (a nap) to know its mat pulses."""
    eng, _ = run(pulses(t("14:00", -1), t("14:30", -1)), t("14:30", -1))  # an afternoon nap
    assert eng._persons["p1"].bed_spells >= 20
    return eng


def test_a_pulsing_mat_going_quiet_is_still_sleep_not_a_bed_exit() -> None:
    eng = pulsing_engine()
    evs = [*moving(t("14:31", -1), t("22:30", -1)), *pulses(t("22:40", -1), t("23:30", -1)),
           *pulses(t("02:30"), t("02:40"))]  # still for three hours, then moving again
    _, alerts = run(evs, t("03:30"), engine=eng)
    assert alerts == []
    assert eng._persons["p1"].in_bed


def test_a_pulsing_mat_then_the_bathroom_and_nothing_is_a_bed_exit() -> None:
    eng = pulsing_engine()
    evs = [*moving(t("14:31", -1), t("22:30", -1)), *pulses(t("22:40", -1), t("02:00")),
           (t("02:01"), "bath_pir", True), (t("02:02"), "bath_pir", False)]
    _, alerts = run(evs, t("04:00"), engine=eng)
    [a] = alerts
    assert a.kind == "night_bed_exit"
    assert a.message.startswith("Ann got out of bed at 01:59 and has not returned")  # the mat's last pulse
    assert a.time <= t("02:00") + timedelta(minutes=60)


def test_a_mat_stuck_occupied_does_not_keep_a_busy_person_in_bed() -> None:
    evs = [*evening(), *moving(t("07:40"), t("11:30"), "kitchen_pir", 20)]  # the mat never reports 'vacant'
    eng, alerts = run(evs, t("11:30"))
    assert alerts == []
    p = eng._persons["p1"]
    assert not p.in_bed and p.wake_t is not None
    assert eng.alert_time(p.wake_t) == t("07:40")


def test_front_door_in_the_evening_before_bed_is_not_a_night_door() -> None:
    """23:30 is inside the cold-start sleep hours, but Ann has not gone to bed: she went out."""
    evs = [*moving(t("20:00", -1), t("23:20", -1)), (t("23:30", -1), "maindoor", True),
           (t("23:31", -1), "maindoor", False)]
    _, alerts = run(evs, t("00:30"))
    assert [a.kind for a in alerts] == []


def test_pulsing_is_learned_per_home_holding_mats_stay_holding() -> None:
    eng, _ = run([*evening(), (t("07:30"), "bed", False), *moving(t("07:31"), t("09:00"))], t("09:00"))
    p = eng._persons["p1"]
    assert p.bed_spells == 1 and not eng._persons["p1"].in_bed


def test_bedroom_motion_does_not_get_a_person_out_of_bed() -> None:
    home = Home("Europe/London", (Person("p1", "Ann", "she"),),
                (SensorInfo("bed", K.BED, "bedroom", "bed", "p1"),
                 SensorInfo("bedroom_pir", K.MOTION, "bedroom", "activity", "p1"),
                 SensorInfo("living_pir", K.MOTION, "living room", "activity", "p1")))
    evs = [*evening(), (t("01:00"), "bedroom_pir", True), (t("01:01"), "bedroom_pir", False)]
    KINDS["bedroom_pir"] = K.MOTION  # the shared runner looks kinds up by id
    eng, alerts = run(evs, t("03:00"), home=home)
    assert alerts == [] and eng._persons["p1"].in_bed


def test_day_one_silence_waits_for_the_cap_in_a_home_not_yet_learned() -> None:
    """Nothing learned yet (the engine starts this morning): a 3 h quiet morning is not an alarm."""
    evs = [(t("07:30"), "bed", False), *moving(t("07:31"), t("09:00"), "kitchen_pir", 15)]
    _, alerts = run(evs, t("18:00"))
    [a] = [a for a in alerts if a.kind == "silence"]
    assert a.time == t("08:46") + timedelta(hours=6)  # last movement 08:46; the 6 h cap, not the 3 h default
    assert "The starting limit is 6 h 00 min" in a.message


def test_cold_silence_limit_grows_with_the_quiet_spells_this_home_shows() -> None:
    """After a day whose quiet spells ran to 2 h 40 min, the starting limit is half as long again."""
    day1 = [(t("07:30", -1), "bed", False), *moving(t("07:31", -1), t("21:00", -1), "kitchen_pir", 160),
            (t("22:00", -1), "bed", True)]
    eng, _ = run(day1, t("05:00"))
    assert eng._persons["p1"].thr.silence_thr[12] >= 1.5 * 160 * 60


def test_without_a_bed_sensor_the_front_door_in_usual_sleep_hours_still_counts() -> None:
    home = Home("Europe/London", (Person("p1", "Ann", "she"),),
                (SensorInfo("living_pir", K.MOTION, "living room", "activity", "p1"),
                 SensorInfo("maindoor", K.CONTACT, "hall", "front_door", "p1")))
    evs = [*moving(t("20:00", -1), t("22:30", -1)), (t("01:00"), "living_pir", True),
           (t("01:01"), "living_pir", False), (t("01:02"), "maindoor", True), (t("01:03"), "maindoor", False)]
    _, alerts = run(evs, t("02:00"), home=home)
    assert [(a.kind, a.time) for a in alerts] == [("night_door", t("01:17"))]


NO_BED = Home("Europe/London", (Person("p1", "Ann", "she"),),
              (SensorInfo("living_pir", K.MOTION, "living room", "activity", "p1"),
               SensorInfo("maindoor", K.CONTACT, "hall", "front_door", "p1")))


def _door(at) -> list:
    return [(at, "maindoor", True), (at + timedelta(seconds=5), "maindoor", False)]


def test_without_a_bed_sensor_an_evening_outing_is_not_a_night_door() -> None:
    """Busy until she leaves at 23:39 (inside the clock's sleep hours): she has not gone to bed."""
    evs = [*moving(t("18:00", -1), t("23:30", -1)), (t("23:35", -1), "living_pir", True),
           (t("23:36", -1), "living_pir", False), *_door(t("23:39", -1))]
    _, alerts = run(evs, t("01:00"), home=NO_BED)
    assert [a.kind for a in alerts if a.kind == "night_door"] == []


def test_without_a_bed_sensor_coming_home_late_is_not_a_night_door() -> None:
    """Out at 18:25 (door, then nothing), home at 23:39 (door) and straight to bed: a return, not an exit."""
    evs = [*moving(t("12:00", -1), t("18:20", -1)), *_door(t("18:25", -1)), *_door(t("23:39", -1))]
    _, alerts = run(evs, t("00:40"), home=NO_BED)
    assert [a.kind for a in alerts if a.kind == "night_door"] == []


def test_a_door_long_after_a_missed_wake_is_not_a_night_door() -> None:
    """Never up today ('not up' told in the morning): a door at 19:37 is not a night exit."""
    evs = [*moving(t("18:00", -1), t("22:30", -1)), *_door(t("19:37"))]
    _, alerts = run(evs, t("20:30"), home=NO_BED)
    assert [(a.kind, a.time) for a in alerts if a.audience == "care"] == [("not_up", t("09:00"))]


def test_without_a_bed_sensor_the_door_after_settling_for_the_night_still_counts() -> None:
    """Quiet from 22:21 (settled for the night by the person's own evening quiet), door at 01:02: alert."""
    evs = [*moving(t("20:00", -1), t("22:30", -1)), *_door(t("01:02"))]
    _, alerts = run(evs, t("02:00"), home=NO_BED)
    assert [(a.kind, a.time) for a in alerts] == [("night_door", t("01:17"))]


def test_a_seat_mat_twitching_while_she_is_out_is_not_coming_home() -> None:
    """Out at 09:00 by the front door; the couch mat pulses twice at 10:25 with nobody seen elsewhere:
    still out (no 'silence' at home), until a second sensor shows her in (the return dates from the first)."""
    evs = [(t("07:30"), "bed", False), *moving(t("07:31"), t("08:55")), *_door(t("09:00")),
           (t("10:25"), "chair", True), (t("10:25") + timedelta(seconds=1), "chair", False),
           (t("10:27"), "chair", True), (t("10:27") + timedelta(seconds=1), "chair", False)]
    eng, alerts = run([*evening(), *evs], t("16:00"))
    p = eng._persons["p1"]
    assert p.away and [a.kind for a in alerts if a.audience == "care"] == []
    _, alerts = run([(t("16:30"), "kitchen_pir", True)], t("16:31"), engine=eng)
    assert not p.away and p.outings[-1] == [t("09:00").timestamp() + 5, t("10:25").timestamp()]


def _learned_no_bed_days(n: int = 9) -> list:
    """n ordinary days without a bed sensor: busy 08:00-23:20, then quiet (bed about 23:20)."""
    evs = []
    for d in range(-n, 0):
        evs += moving(t("08:00", d), t("23:20", d))
    return evs


def test_without_a_bed_sensor_an_early_evening_quiet_then_the_door_is_an_outing() -> None:
    """Usually to bed about 23:20; quiet from 21:10 (long enough to look settled), out at 22:03: an
    outing before the usual sleep hours, not a night exit (and an alert would say untrue things)."""
    evs = [*_learned_no_bed_days(), *moving(t("08:00"), t("21:10")), *_door(t("22:03"))]
    eng, alerts = run(evs, t("23:00"), home=NO_BED)
    assert eng._persons["p1"].thr.bed_learned
    assert [a.kind for a in alerts if a.kind == "night_door"] == []


def test_without_a_bed_sensor_a_door_in_the_learned_sleep_hours_still_counts() -> None:
    """The same person, settled at 23:20 as usual, out of the front door at 01:30: a night exit."""
    evs = [*_learned_no_bed_days(), *moving(t("08:00"), t("23:20")), *_door(t("01:30", 1))]
    _, alerts = run(evs, t("02:30", 1), home=NO_BED)
    doors = [a for a in alerts if a.kind == "night_door"]
    assert [a.time for a in doors] == [t("01:45", 1)]
    assert "during Ann's usual sleep hours (23:" in doors[0].message
