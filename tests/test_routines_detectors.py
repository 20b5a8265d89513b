"""Each detector on a small hand-built day, with the explanation it must give (cold-start settings)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from test_routines_days import SENSORS, TZ, make_home, month

from routines.alert import Audience, Severity
from routines.engine import RoutineEngine
from routines.home import Home
from routines.settings import RoutineSettings
from sensors.events import DeviceHealth, SensorEvent

D = date(2026, 3, 10)

# the technician's fixed starting settings, no population prior: these tests pin the detectors' logic
# against known limits (the prior has its own tests: test_prior.py, test_first_month.py)
START = RoutineSettings(population_prior=False)


def t(hhmm: str, day: int = 0) -> datetime:
    h, m = hhmm.split(":")
    return datetime(D.year, D.month, D.day, int(h), int(m), tzinfo=TZ) + timedelta(days=day)


KINDS = {s.id: s.kind for s in SENSORS}


def run(events: list[tuple[datetime, str, bool | float]], until: datetime, home: Home | None = None,
        engine: RoutineEngine | None = None, tick_min: int = 1):
    """Feed events and tick every ``tick_min`` minutes up to ``until``; return the engine and all alerts."""
    eng = engine or RoutineEngine(home or make_home(), START)
    alerts = []
    evs = sorted(events, key=lambda e: e[0])
    now = evs[0][0] if evs else until
    i = 0
    while now <= until:
        while i < len(evs) and evs[i][0] <= now:
            when, sid, v = evs[i]
            alerts += eng.process(SensorEvent(when, sid, KINDS[sid], v, "test"))
            i += 1
        alerts += eng.tick(now)
        now += timedelta(minutes=tick_min)
    return eng, alerts


def moving(start: datetime, end: datetime, sid: str = "living_pir", every_min: int = 20):
    out, x = [], start
    while x < end:
        out += [(x, sid, True), (x + timedelta(seconds=60), sid, False)]
        x += timedelta(minutes=every_min)
    return out


def evening(day: int = -1) -> list:
    """Active evening, then to bed at 22:40."""
    return [*moving(t("20:00", day), t("22:35", day)), (t("22:40", day), "bed", True)]


def test_not_up_by_the_usual_time() -> None:
    _, alerts = run(evening(), t("12:00"))
    [a] = alerts
    assert (a.kind, a.severity, a.audience) == ("not_up", Severity.URGENT, Audience.CARE)
    assert a.time == t("09:00")
    assert a.message == ("Ann is not up by 09:00 (the starting setting of 08:30 plus 30 min set at install, until "
                         "her own routine is learned: 0 of 7 days); no movement since she went to bed at 22:40.")
    assert a.key == "p1:not_up:2026-03-10"


def test_up_in_time_means_no_alert() -> None:
    evs = [*evening(), (t("07:50"), "bed", False), *moving(t("07:52"), t("12:00"), "kitchen_pir", 15)]
    _, alerts = run(evs, t("12:00"))
    assert alerts == []


def test_out_of_bed_at_night_and_still() -> None:
    evs = [*evening(), (t("02:14"), "bed", False), (t("02:15"), "bath_pir", True), (t("02:16"), "bath_pir", False)]
    _, alerts = run(evs, t("04:00"))
    [a] = alerts
    assert a.kind == "night_bed_exit" and a.severity == Severity.URGENT
    assert a.time == t("03:05")  # 50 min after the last movement (the starting limit is the cap), as its words say
    # last seen outside the bedroom (the bathroom) and nothing since: watched from the first night
    assert a.message == ("Ann got out of bed at 02:14 and has not returned (51 min); no movement since 02:15. "
                         "Last seen outside the bedroom, and nothing has moved for 50 min (watched from the first "
                         "night, whatever her usual trips). Possible fall.")
    assert a.evidence["limit"] == "still_away"


def test_a_night_trip_that_ends_in_bed_is_fine() -> None:
    evs = [*evening(), (t("02:14"), "bed", False), (t("02:15"), "bath_pir", True), (t("02:24"), "bed", True)]
    eng, alerts = run(evs, t("04:10"))
    assert alerts == []
    assert eng.day_summary("p1", D - timedelta(days=1)).night_bed_exits == 1


def test_front_door_at_night_and_no_return() -> None:
    evs = [*evening(), (t("01:50"), "bed", False), (t("01:55"), "maindoor", True), (t("01:56"), "maindoor", False)]
    _, alerts = run(evs, t("03:30"))
    [a] = alerts
    assert a.kind == "night_door" and a.time == t("02:10")
    # the starting settings are nobody's usual sleep hours: the alert names the night hours set for Ann
    assert a.message == ("The front door opened at 01:55, during the night hours set for Ann (00:30–06:45), "
                         "and there has been no sign of her since (15 min).")


def test_front_door_at_night_then_back_to_bed_is_fine() -> None:
    evs = [*evening(), (t("01:50"), "bed", False), (t("01:55"), "maindoor", True), (t("01:56"), "maindoor", False), (t("01:58"), "bed", True)]
    _, alerts = run(evs, t("03:30"))
    assert alerts == []


def test_daytime_silence_at_home() -> None:
    evs = [*evening(), (t("07:30"), "bed", False), *moving(t("07:31"), t("13:06"), "kitchen_pir", 15)]
    _, alerts = run(evs, t("17:00"))
    [a] = [a for a in alerts if a.kind == "silence"]
    last = t("07:31") + timedelta(minutes=15 * 22)  # the last movement, 13:01
    assert a.time == last + timedelta(minutes=180)
    assert a.message == ("No movement from Ann for 3 h 00 min, since 13:01, while at home and not in bed. "
                         "The starting limit is 3 h 00 min until her own days are learned.")


def test_going_out_is_not_silence() -> None:
    evs = ([*evening(), (t("07:30"), "bed", False), *moving(t("07:31"), t("13:06"), "kitchen_pir", 15), (t("13:10"), "maindoor", True), (t("13:11"), "maindoor", False)])
    eng, alerts = run(evs, t("19:00"))
    assert [a.kind for a in alerts] == []
    assert eng.status()["p1"]["away"] is True


def test_no_kitchen_by_the_usual_time() -> None:
    evs = [*evening(), (t("07:00"), "bed", False), *moving(t("07:01"), t("13:00"), "living_pir", 20)]
    _, alerts = run(evs, t("13:00"))
    [a] = alerts
    assert (a.kind, a.severity, a.time) == ("no_meal", Severity.WARNING, t("11:00"))
    assert a.message == ("No kitchen activity from Ann by 11:00 (the starting setting of 11:00 set at install, until "
                         "her own routine is learned: 0 of 7 days); no kitchen activity today since she got up at 07:00.")


def test_appliance_left_on() -> None:
    evs = ([*evening(), (t("07:00"), "bed", False), *moving(t("07:01"), t("13:00"), "kitchen_pir", 20), (t("10:00"), "kettle", 2150.0), (t("10:30"), "kettle", 2140.0)])
    # first seen used as a kettle is (short spells): a long 'on' before that is a technician's question
    evs += [e for i in range(7) for e in ((t("07:05") + timedelta(minutes=10 * i), "kettle", 2100.0),
                                          (t("07:08") + timedelta(minutes=10 * i), "kettle", 0.0))]
    _, alerts = run(evs, t("13:00"))
    [a] = alerts
    assert (a.kind, a.severity, a.time) == ("appliance_on", Severity.WARNING, t("12:00"))
    assert a.message == ("Ann's kettle has been on for 2 h 00 min, since 10:00; the starting limit is 2 h 00 min, set "
                         "at install, until its own times are learned.")
    assert a.key == f"p1:appliance_on:kettle:{t('10:00').timestamp():.0f}"


def test_offline_sensor_is_technical_and_blinds_its_check() -> None:
    """The bed strap says 'occupied' at 22:40, then drops off the network: its stale state must not
    read as Ann still in bed at 09:15 while she moves about the kitchen."""
    eng, alerts = run(evening(), t("23:00", -1))
    assert eng.observe_health(DeviceHealth(t("23:00", -1), "bed", "zigbee2mqtt", available=False)) == []
    _, alerts = run(moving(t("07:30"), t("12:00"), "kitchen_pir", 15), t("12:00"), engine=eng)
    kinds = [(a.kind, a.audience) for a in alerts]
    assert ("sensor_offline", Audience.TECHNICAL) in kinds
    assert ("blind_check", Audience.TECHNICAL) in kinds
    assert not [a for a in alerts if a.audience == Audience.CARE]  # a dead bed strap is not a person in bed
    blind = [a.message for a in alerts if a.kind == "blind_check"]
    assert "Cannot check getting up for Ann: bed sensor (bedroom) offline." in blind
    assert eng.status()["p1"]["degraded"] is True


def test_low_battery_needs_two_readings() -> None:
    eng = RoutineEngine(make_home(), START)
    eng.process(SensorEvent(t("08:00"), "fridge", KINDS["fridge"], True, "test"))
    assert eng.observe_health(DeviceHealth(t("08:10"), "fridge", "zigbee2mqtt", battery=12)) == []
    [a] = eng.observe_health(DeviceHealth(t("09:10"), "fridge", "zigbee2mqtt", battery=11))
    assert (a.kind, a.severity, a.audience) == ("battery_low", Severity.INFO, Audience.TECHNICAL)
    assert a.message == "The fridge sensor (kitchen) battery is at 11%; please replace it soon."
    assert eng.observe_health(DeviceHealth(t("10:10"), "fridge", "zigbee2mqtt", battery=10)) == []  # one situation


def test_silent_kitchen_sensors_give_technical_alerts_and_no_care_alert() -> None:
    """Two kitchen sensors die after 12 normal days; Ann carries on. Technicians hear, carers do not."""
    dead = {"kitchen_pir", "fridge"}

    def kill(i, d, day):
        return [e for e in day if not (i >= 12 and e[1] in dead)]

    eng = RoutineEngine(make_home(), START)
    alerts = []
    for e in month(date(2026, 3, 2), 15, seed=11, edit=kill):
        alerts += eng.process(e)
    alerts += eng.tick(datetime(2026, 3, 17, 3, 0, tzinfo=TZ))
    care = [a for a in alerts if a.audience == Audience.CARE and a.severity != Severity.INFO]
    assert care == []
    silent = {a.evidence["sensor"] for a in alerts if a.kind == "sensor_silent"}
    assert silent == dead
    msg = next(a.message for a in alerts if a.kind == "sensor_silent" and a.evidence["sensor"] == "fridge")
    assert msg.startswith("The fridge sensor (kitchen) has said nothing for ")
    assert "in which Ann was active at home" in msg
    status = eng.status()["p1"]
    assert status["degraded"] is True and set(status["unhealthy_sensors"]) == dead
    assert any("cannot fully check daytime stillness" in b for b in status["blind"])


def test_holiday_context_pauses_care_alerts() -> None:
    eng = RoutineEngine(make_home(), START)
    eng.set_context("p1", "holiday", t("12:00", -1), t("12:00", 3))
    _, alerts = run(evening(), t("12:00"), engine=eng)
    assert alerts == []
    assert eng.status()["p1"]["contexts"] == ["holiday"]


def test_up_from_a_nap_then_nothing_is_a_daytime_quiet_not_a_night() -> None:
    """Up at 07:50 and about all morning, a nap in bed 14:00-15:00, one step at 15:01 and then nothing.
    The quiet is the day's, never 'not up by 09:00' nor 'out of bed at night' (undoing the day at a nap's
    exit told both at 15:45): up from bed by day with nothing since the first step, told by the daytime
    limit (3 h; the bed exit's own starts at the 6 h cap) with true words. Getting up itself followed by
    nothing is still 'not up after all' (test_not_up_after_one_moment_up_with_nothing_since below)."""
    evs = [*evening(), (t("07:50"), "bed", False), *moving(t("07:52"), t("13:55"), "kitchen_pir", 15),
           (t("14:00"), "bed", True), (t("15:00"), "bed", False), (t("15:01"), "living_pir", True),
           (t("15:02"), "living_pir", False)]
    _, alerts = run(evs, t("23:30"))
    assert [(a.kind, a.time) for a in alerts] == [("silence", t("18:01"))]
    assert alerts[0].message.startswith("Ann got out of bed at 15:00, up for the day since 07:50, and there has been "
                                        "no movement since 15:01 (3 h 00 min). The starting limit is 3 h 00 min")
    assert alerts[0].evidence["day_bed_exit"] is False  # the daytime limit decided


def test_not_up_after_one_moment_up_with_nothing_since() -> None:
    """Out of bed at 07:50 and nothing at all since: that was not getting up, so the night goes on (out of
    bed with no sign of life at 08:40) and she is 'not up' at the deadline."""
    _, alerts = run([*evening(), (t("07:50"), "bed", False)], t("12:00"))
    assert [(a.kind, a.time) for a in alerts] == [("night_bed_exit", t("08:40")), ("not_up", t("09:00"))]
