"""Detection quality, ninth round: without a bed sensor, a quiet after going to the bedroom may be lying
down again (back to bed after an early trip, a nap), so it is judged like a home blind to it (hand-built days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_routines_days import SENSORS
from test_routines_detectors import evening, moving, t

from routines import detectors
from routines.engine import RoutineEngine
from routines.home import Home, Person, SensorInfo
from routines.settings import RoutineSettings
from sensors.events import SensorEvent, SensorKind

HOUR = 3600.0
BEDROOM_DOOR = SensorInfo("bedroom_door", SensorKind.CONTACT, "hall", "bedroom_door", "p1")

# the technician's fixed starting settings, no population prior: these tests pin the detectors' logic
# against known limits (the prior has its own tests: test_prior.py, test_first_month.py)
START = RoutineSettings(population_prior=False)


def _home(bed: bool, door: bool = True) -> Home:
    return Home("Europe/London", (Person("p1", "Ann", "she"),),
                (*(s for s in SENSORS if (bed or s.id != "bed") and (door or s.id != "maindoor")), BEDROOM_DOOR))


def _taught(bed: bool = False, settings: RoutineSettings = START, door: bool = True,
            longest: tuple[int, float] = (14, 3 * HOUR)) -> RoutineEngine:
    """20 learned days: quiet spells of 20-30 min at every hour, and one of ``longest`` (hour, seconds:
    3 h in the afternoon); ``door``: a front door that works (going out can be seen), else none."""
    eng = RoutineEngine(_home(bed, door), settings)
    p = eng._persons["p1"]
    if door:
        eng._sensors["maindoor"].n = 40
    for _ in range(20):
        gaps = [(h, 1200.0) for h in range(24)] + [(h, 1800.0) for h in range(24)] + [longest]
        detectors.learn_day(eng, p, {"weekend": False, "events": 100.0, "hourly": [4] * 24, "night_exits": 0,
                                     "minutes_out": 0.0, "wake": 200.0, "first_kitchen": 220.0, "bed": 1100.0,
                                     "kitchen_events": 5, "gaps": gaps})
    detectors.refresh_thresholds(eng, p)
    return eng


def _morning(last: str, bed: bool = False) -> list:
    """To bed at 22:35 (through the bedroom door or onto the mat); up at 07:00, about the kitchen until
    08:00, then ``last`` at 08:05 and nothing after."""
    to_bed = [*moving(t("20:00", -1), t("22:30", -1)), (t("22:35", -1), "bedroom_door", True),
              (t("22:35", -1) + timedelta(seconds=5), "bedroom_door", False)]
    evs = [*(evening() if bed else to_bed),
           *([(t("07:00"), "bed", False)] if bed else []), *moving(t("07:00"), t("08:00"), "kitchen_pir", 10)]
    return [*evs, (t("08:05"), last, True), (t("08:05") + timedelta(seconds=5), last, False)]


def run(events: list, until, engine: RoutineEngine):
    """Feed events and tick every minute up to ``until``; return (engine, all alerts)."""
    kinds = {s.id: s.kind for s in (*SENSORS, BEDROOM_DOOR)}
    evs, alerts, i = sorted(events, key=lambda e: e[0]), [], 0
    now = evs[0][0]
    while now <= until:
        while i < len(evs) and evs[i][0] <= now:
            alerts += engine.process(SensorEvent(evs[i][0], evs[i][1], kinds[evs[i][1]], evs[i][2], "test"))
            i += 1
        alerts += engine.tick(now)
        now += timedelta(minutes=1)
    return engine, alerts


def _silences(alerts: list) -> list:
    return [a for a in alerts if a.kind == "silence"]


def test_without_a_bed_sensor_last_seen_in_the_living_room_keeps_the_hourly_limit() -> None:
    eng = _taught()
    hourly = eng._persons["p1"].thr.silence_thr[8]
    assert hourly < 1.5 * HOUR  # the hourly limit: the usual half-hour quiet, with its margin
    _, alerts = run(_morning("living_pir"), t("11:00"), engine=eng)
    [a] = _silences(alerts)
    assert t("08:05") + timedelta(seconds=hourly) <= a.time <= t("08:05") + timedelta(seconds=hourly + 120)
    assert "At this time of day her quiet spells" in a.message


def test_without_a_bed_sensor_back_to_the_bedroom_waits_for_her_longest_quiet_at_any_hour() -> None:
    eng = _taught()
    thr = eng._persons["p1"].thr
    # her longest quiet (3 h, binned up to 3 h 24) times the margin, and never under the everyday 6 h cap
    lying = max(6 * HOUR, thr.silence_lying_base * eng.settings.silence_margin)
    assert thr.silence_lying_base == pytest.approx(3 * HOUR + 24 * 60, abs=60)
    assert thr.silence_lying_s == pytest.approx(lying)
    _, alerts = run(_morning("bedroom_door"), t("13:00"), engine=eng)
    assert _silences(alerts) == []  # three hours back in bed (or a nap) is not a collapse here
    _, alerts = run(_morning("bedroom_door"), t("16:00"), engine=_taught())
    [a] = _silences(alerts)
    due = t("08:05") + timedelta(seconds=lying)  # that long after the bedroom door, on the minute tick
    assert due <= a.time <= due + timedelta(minutes=2)
    assert a.evidence["last_sensor"] == "bedroom_door" and a.evidence["by_last_sensor"] is False
    assert ("She was last seen at the" in a.message and "lying down cannot be seen here (no bed sensor), so only "
            "a quiet spell far longer than her usual longest (3 h 24 min, from 21 days learned) is flagged" in a.message)


def test_with_a_bed_sensor_the_bedroom_door_keeps_the_hourly_limit() -> None:
    """A bed mat shows lying down, so the bedroom door alone is no reason to wait."""
    eng = _taught(bed=True)
    _, alerts = run(_morning("bedroom_door", bed=True), t("11:00"), engine=eng)
    [a] = _silences(alerts)
    assert a.time < t("10:00")


def _evening_then(last: str, at: str) -> list:
    """Up and about all day, the living room until ``at``, then ``last`` (the bathroom) and nothing after."""
    return [*moving(t("08:00"), t(at), "living_pir", 20), (t(at) + timedelta(minutes=1), last, True),
            (t(at) + timedelta(minutes=1, seconds=30), last, False)]


def test_without_a_bed_sensor_a_quiet_from_her_early_bed_time_on_may_be_sleep() -> None:
    """Learned bed time 22:20: the bathroom at 22:41, then asleep, is no 'silence' (house C without its
    mats was told 'no movement for 35 min' at 00:53 again and again) and the night is read as begun; the
    same quiet from 18:01 is still judged by the hour's limit."""
    eng = _taught()
    thr = eng._persons["p1"].thr
    assert round(thr.bed_lo_dsm) == 1100  # 22:20, her early usual bed time
    eng, alerts = run(_evening_then("bath_pir", "22:40"), t("05:00", 1), engine=eng)
    assert _silences(alerts) == []
    assert eng.day_summary("p1", t("00:00").date()).bed_time is not None  # the night was read from the quiet
    hourly = thr.silence_thr[18]
    _, alerts = run(_evening_then("bath_pir", "18:00"), t("23:00"), engine=_taught())
    [a] = _silences(alerts)
    assert a.time <= t("18:01") + timedelta(seconds=hourly + 120)


def test_without_a_bed_sensor_told_at_night_says_why_it_waited() -> None:
    """A quiet from 22:41 that outlasts even the lying limit (here a technician's 30 min, so it is reached
    before the night is read, after an hour's quiet) names the early bed time it waited from."""
    eng = _taught(settings=START.model_copy(update={"silence_cap_min": 30.0, "blind_silence_cap_min": 30.0}))
    _, alerts = run(_evening_then("bath_pir", "22:40"), t("23:40"), engine=eng)
    [a] = _silences(alerts)
    assert ("The quiet began after her early usual bed time (22:20), and going to bed cannot be seen here "
            "(no bed sensor), so only a quiet spell far longer than her usual longest") in a.message
