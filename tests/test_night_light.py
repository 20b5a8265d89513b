"""The night path light's rules, apart from MQTT: bed events and a monotonic time in, commands out."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gateway.config import ConfigError, parse_config_text
from gateway.night_light import GRACE_S, LightCommand, NightLight, NightLightPlan
from gateway.night_light_mqtt import plans_from_config
from sensors.events import SensorEvent, SensorKind

LONDON = ZoneInfo("Europe/London")
PLAN = NightLightPlan("p1", frozenset({"bed"}), ("0x0017880104a1b2c3", "hall"), 40, (time(21, 30), time(7)),
                      1800.0, True)


def bed(hh: int, mm: int, occupied: bool, sensor: str = "bed") -> SensorEvent:
    return SensorEvent(datetime(2026, 1, 6, hh, mm, tzinfo=LONDON), sensor, SensorKind.BED, occupied, "zigbee2mqtt")


def on(light: str, why: str) -> LightCommand:
    return LightCommand(light, True, 40, why)


def off(light: str, why: str) -> LightCommand:
    return LightCommand(light, False, None, why)


def lit(plan: NightLightPlan = PLAN, at: float = 100.0) -> NightLight:
    nl = NightLight([plan], LONDON)
    nl.seed({"bed": True})
    assert nl.on_event(bed(3, 12, False), at) == [on(k, "p1 out of bed at 03:12") for k in plan.lights]
    return nl


def test_out_of_bed_at_night_lights_the_path_and_back_in_bed_switches_off_after_the_grace() -> None:
    nl = lit()
    assert nl.on_event(bed(3, 20, True), 580.0) == []
    assert nl.tick(580.0 + GRACE_S - 1) == []  # sitting back down: not yet
    assert nl.tick(580.0 + GRACE_S) == [off("0x0017880104a1b2c3", "p1 back in bed"), off("hall", "p1 back in bed")]
    assert nl.owned() == [] and nl.tick(99999.0) == []


def test_up_again_within_the_grace_is_the_same_trip_and_the_light_stays_on() -> None:
    nl = lit()
    nl.on_event(bed(3, 20, True), 580.0)
    assert nl.on_event(bed(3, 20, False), 600.0) == []  # no second ON
    assert nl.tick(600.0 + GRACE_S + 1) == []
    assert nl.tick(600.0 + 1800.0) == [off("0x0017880104a1b2c3", "p1 out of bed 30 min"),
                                       off("hall", "p1 out of bed 30 min")]
    assert nl.report()["exits"] == {"p1": {"lit": 1, "same_trip": 1}}


def test_no_return_switches_off_after_off_after_and_the_next_exit_lights_again() -> None:
    nl = lit()
    assert nl.tick(100.0 + 1799.0) == []
    assert len(nl.tick(100.0 + 1800.0)) == 2
    nl.on_event(bed(4, 0, True), 2000.0)
    assert nl.on_event(bed(4, 30, False), 3800.0) == [on(k, "p1 out of bed at 04:30") for k in PLAN.lights]


@pytest.mark.parametrize("when, plan, trusted, outcome", [
    ((7, 0), PLAN, True, "daylight"),  # dark_hours end at 07:00
    ((14, 5), PLAN, True, "daylight"),
    ((3, 12), NightLightPlan(**{**{f: getattr(PLAN, f) for f in PLAN.__slots__}, "consented": False}), True,
     "no_consent"),
    ((3, 12), PLAN, False, "clock_not_trusted"),
])
def test_no_light_in_daylight_without_consent_or_with_an_untrusted_clock(when, plan, trusted, outcome) -> None:
    nl = NightLight([plan], LONDON)
    nl.seed({"bed": True})
    assert nl.on_event(bed(*when, False), 100.0, trusted=trusted) == []
    assert (nl.owned(), nl.report()["exits"]) == ([], {"p1": {outcome: 1}})


def test_a_first_report_is_not_an_exit_and_another_mat_keeps_the_person_in_bed() -> None:
    plan = NightLightPlan("p1", frozenset({"left", "right"}), ("hall",), 40, (time(22), time(7)), 600.0, True)
    nl = NightLight([plan], LONDON)
    assert nl.on_event(bed(3, 0, False, "left"), 1.0) == []  # nothing known before: not an exit
    nl.on_event(bed(3, 1, True, "left"), 2.0)
    nl.on_event(bed(3, 1, True, "right"), 3.0)
    assert nl.on_event(bed(3, 2, False, "left"), 4.0) == []  # still on the right mat
    assert nl.on_event(bed(3, 3, False, "right"), 5.0) == [on("hall", "p1 out of bed at 03:03")]


def test_a_light_someone_switched_on_is_left_alone() -> None:
    nl = NightLight([PLAN], LONDON)
    nl.seed({"bed": True})
    nl.reported("hall", 50.0, on=True)
    assert nl.on_event(bed(3, 12, False), 100.0) == [on("0x0017880104a1b2c3", "p1 out of bed at 03:12")]
    assert nl.tick(100.0 + 1800.0) == [off("0x0017880104a1b2c3", "p1 out of bed 30 min")]  # hall stays on


def test_a_shared_light_goes_off_when_the_last_person_is_back() -> None:
    p2 = NightLightPlan("p2", frozenset({"bed2"}), ("hall",), 40, (time(22), time(7)), 1800.0, True)
    nl = NightLight([PLAN, p2], LONDON)
    nl.seed({"bed": True, "bed2": True})
    nl.on_event(bed(3, 0, False), 10.0)
    assert nl.on_event(bed(3, 1, False, "bed2"), 20.0) == []  # hall already on for p1
    nl.on_event(bed(3, 5, True), 30.0)
    assert nl.tick(30.0 + GRACE_S) == [off("0x0017880104a1b2c3", "p1 back in bed")]
    nl.on_event(bed(3, 8, True, "bed2"), 200.0)
    assert nl.tick(200.0 + GRACE_S) == [off("hall", "p2 back in bed")]


def test_what_hearth_switched_on_is_owned_and_switched_off_at_start() -> None:
    assert lit().owned() == ["0x0017880104a1b2c3", "hall"]
    fresh = NightLight([PLAN], LONDON)
    assert fresh.at_start(["hall", "gone"], 5.0) == [off("gone", "left on by Hearth before a restart"),
                                                     off("hall", "left on by Hearth before a restart")]


def test_unconfirmed_offline_and_unsent_commands_are_counted_for_technicians() -> None:
    nl = NightLight([PLAN], LONDON)
    nl.seed({"bed": True})
    nl.reported("hall", 1.0, available=False)
    nl.on_event(bed(3, 12, False), 100.0)
    nl.reported("0x0017880104a1b2c3", 101.0, on=True)  # zigbee2mqtt confirms this one
    assert nl.tick(109.0) == [] and nl.problems() == ["hall: 2 failed (offline 2); last: switched while "
                                                      "zigbee2mqtt says it is offline"]
    nl.tick(110.0)
    nl.failed("0x0017880104a1b2c3", "publish_failed", "could not send: the broker link is down")
    assert nl.report()["lights"] == {
        "0x0017880104a1b2c3": {"held_on_for": ["p1"], "reported_on": True, "available": None,
                               "counts": {"publish_failed": 1, "switched_on": 1},
                               "last_problem": "could not send: the broker link is down"},
        "hall": {"held_on_for": ["p1"], "reported_on": None, "available": False,
                 "counts": {"no_answer": 1, "offline": 2, "switched_on": 1},
                 "last_problem": "no answer to ON within 10 s (out of range, unpowered, or not paired?)"}}


def test_payloads_are_zigbee2mqtts_set_messages() -> None:
    assert (on("hall", "x").payload(), off("hall", "x").payload()) == (b'{"state": "ON", "brightness": 40}',
                                                                       b'{"state": "OFF"}')


CONFIG = """\
timezone: Europe/London
people:
  - id: p1
    name: Ann
    actions:
      night_light:
        consented: true
        lights:
          - {ieee_address: "0x0017880104A1B2C3"}
          - {friendly_name: hall/night_light}
        brightness: 25
        dark_hours: "21:30-07:00"
        off_after_minutes: 20
  - {id: p2, name: Bob}
sensors:
  - {id: bed, kind: bed, room: bedroom, role: bed, person: p1}
  - {id: door, kind: contact, room: hall, role: front_door, person: p1, zigbee: {friendly_name: hall/door}}
"""


def test_config_becomes_one_plan_per_person_with_a_night_light() -> None:
    assert plans_from_config(parse_config_text(CONFIG, "home.yaml")) == [
        NightLightPlan("p1", frozenset({"bed"}), ("0x0017880104a1b2c3", "hall/night_light"), 25,
                       (time(21, 30), time(7)), 1200.0, True)]


@pytest.mark.parametrize("change, problem", [
    ("        brightness: 25\n", "        brightness: 0\n"),
    ("hall/night_light}", "hall/door}"),
    ("off_after_minutes: 20\n", "off_after_minutes: 20\n        beds: [door]\n"),
    ("        consented: true\n", ""),
    ('"21:30-07:00"', '"21:30"'),
])
def test_config_errors_name_the_line_and_the_field(change: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config_text(CONFIG.replace(change, problem), "home.yaml")
    expected = {"        brightness: 25\n": "home.yaml:11: people[0].actions.night_light.brightness: ",
                "hall/night_light}": "home.yaml:10: people[0].actions.night_light.lights[1]: 'hall/door' is "
                                     "sensor 'door', not a light",
                "off_after_minutes: 20\n": "home.yaml:14: people[0].actions.night_light.beds[0]: 'door' is not "
                                           "a bed sensor of p1 (theirs: bed)",
                "        consented: true\n": "home.yaml:7: people[0].actions.night_light.consented: required",
                '"21:30-07:00"': "home.yaml:12: people[0].actions.night_light.dark_hours: "}[change]
    assert err.value.problems[0].startswith(expected), err.value.problems


def test_a_person_with_no_bed_sensor_cannot_have_a_night_light() -> None:
    text = CONFIG.replace("person: p1}\n  - {id: door", "person: p2}\n  - {id: door")
    with pytest.raises(ConfigError) as err:
        parse_config_text(text, "home.yaml")
    assert err.value.problems == ["home.yaml:7: people[0].actions.night_light.beds: the night light needs a bed "
                                  "sensor of p1 (kind: bed, person: p1) to know when they get up"]


def test_dark_hours_follow_the_homes_timezone() -> None:
    nl = NightLight([PLAN], LONDON)
    nl.seed({"bed": True})
    summer_2130_utc = SensorEvent(datetime(2026, 7, 1, 20, 45, tzinfo=UTC), "bed", SensorKind.BED, False, "z")
    assert nl.on_event(summer_2130_utc, 1.0) == [on(k, "p1 out of bed at 21:45") for k in PLAN.lights]
