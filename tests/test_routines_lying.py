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


def _home(bed: bool) -> Home:
    return Home("Europe/London", (Person("p1", "Ann", "she"),),
                (*(s for s in SENSORS if bed or s.id != "bed"), BEDROOM_DOOR))


def _taught(bed: bool = False) -> RoutineEngine:
    """20 learned days: quiet spells of 20-30 min at every hour, and one of 3 h in the afternoon."""
    eng = RoutineEngine(_home(bed), START)
    p = eng._persons["p1"]
    eng._sensors["maindoor"].n = 40  # a front door that works: going out can be seen
    for _ in range(20):
        gaps = [(h, 1200.0) for h in range(24)] + [(h, 1800.0) for h in range(24)] + [(14, 3 * HOUR)]
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
