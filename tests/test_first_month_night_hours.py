"""The night hours a technician sets (issue 14): the front door at night and out of bed with no sign of
life watch from the first night, whatever the core has learned or read about the person's phase."""

from __future__ import annotations

import dataclasses

import pytest
from test_routines_days import make_home
from test_routines_detectors import moving, run, t

from gateway.config import ConfigError, parse_config_text
from routines.home import DEFAULT_NIGHT_HOURS

CONFIG = """timezone: Europe/London
people:
  - id: p1
    name: Ann
    night_hours: "{hours}"
sensors:
  - id: bed
    kind: bed
    room: bedroom
    role: bed
    person: p1
"""


def _hours(hours: str):
    home = make_home()
    return dataclasses.replace(home, people=tuple(dataclasses.replace(p, night_hours=hours) for p in home.people))


def _door(when):
    return [(when, "maindoor", True), (when.replace(second=20), "maindoor", False)]


def test_installed_at_night_a_door_alerts_from_the_first_night() -> None:
    """Installed at 00:50 with Ann up in the bathroom (nothing learned, never seen going to bed): the door at
    01:10 and no sign of her is told at 01:25, naming the hours set for her."""
    evs = [*moving(t("00:50"), t("01:05"), "bath_pir", 5), *_door(t("01:10"))]
    _, alerts = run(evs, t("02:30"))
    doors = [a for a in alerts if a.kind == "night_door"]
    assert [a.time for a in doors] == [t("01:25")]
    assert f"during the night hours set for Ann ({DEFAULT_NIGHT_HOURS.replace('-', '–')})" in doors[0].message
    assert doors[0].evidence["limit"] == "night_hours"


def test_out_of_bed_before_being_read_as_settled_is_still_watched() -> None:
    """In bed at 00:40 for five minutes (not yet 'gone to bed' by the core's reading), out at 00:45, one
    step in the hall and then nothing: a night bed exit within the hour, not a daytime silence hours later."""
    evs = [*moving(t("20:00", -1), t("00:35"), "living_pir"), (t("00:40"), "bed", True), (t("00:45"), "bed", False),
           (t("00:46"), "bath_pir", True), (t("00:47"), "bath_pir", False)]
    _, alerts = run(evs, t("02:00"))
    care = [(a.kind, a.time) for a in alerts if a.audience == "care"]
    assert care == [("night_bed_exit", t("01:36"))]  # 50 min still after the last movement (00:46): within the hour


def test_the_same_before_the_night_hours_is_left_to_the_learned_phase() -> None:
    """The same at 21:40-21:45: before the night hours, and not read as gone to bed: no night bed exit."""
    evs = [*moving(t("18:00"), t("21:35"), "living_pir"), (t("21:40"), "bed", True), (t("21:45"), "bed", False),
           (t("21:46"), "bath_pir", True), (t("21:47"), "bath_pir", False)]
    _, alerts = run(evs, t("23:00"))
    assert [a.kind for a in alerts if a.kind == "night_bed_exit"] == []


def test_the_technician_sets_the_hours() -> None:
    """A door at 23:10 with Ann up: not night by the default hours, night by hers (22:00-06:00)."""
    evs = [*moving(t("20:00"), t("23:05"), "bath_pir", 5), *_door(t("23:10"))]
    _, default = run(evs, t("23:59"))
    _, hers = run(evs, t("23:59"), home=_hours("22:00-06:00"))
    assert [a.kind for a in default if a.kind == "night_door"] == []
    assert [(a.kind, a.time) for a in hers if a.kind == "night_door"] == [("night_door", t("23:25"))]


def test_going_out_in_the_morning_is_not_a_night_exit() -> None:
    """Up at 06:20 (read as up for the day) and out of the front door at 06:35, within the night hours."""
    evs = [(t("22:40", -1), "bed", True), (t("06:20"), "bed", False),
           *moving(t("06:21"), t("06:34"), "kitchen_pir", 3), *_door(t("06:35"))]
    _, alerts = run(evs, t("07:30"))
    assert [a.kind for a in alerts if a.kind == "night_door"] == []


def test_night_hours_in_the_config() -> None:
    cfg = parse_config_text(CONFIG.format(hours="22:30-06:15"), "home.yaml")
    assert cfg.to_home().people[0].night_hours == "22:30-06:15"
    plain = CONFIG.replace('    night_hours: "{hours}"\n', "")
    assert parse_config_text(plain, "home.yaml").to_home().people[0].night_hours == DEFAULT_NIGHT_HOURS
    with pytest.raises(ConfigError) as bad:
        parse_config_text(CONFIG.format(hours="10pm-6am"), "home.yaml")
    assert bad.value.problems == ["home.yaml:5: people[0].night_hours: hours are HH:MM-HH:MM in 24-hour "
                                  "local time, e.g. 23:30-06:30 (may wrap midnight); got '10pm-6am'"]
    with pytest.raises(ConfigError) as same:
        parse_config_text(CONFIG.format(hours="06:00-06:00"), "home.yaml")
    assert same.value.problems == ["home.yaml:5: people[0].night_hours: night hours start and end at the same "
                                   "time: give the hours the person sleeps"]


def test_a_door_in_the_night_hours_while_read_as_out_is_still_a_night_door() -> None:
    """Out by the front door at 22:05 (read as out: nothing indoors since), then the door at 02:41 within
    the night hours and no sign of her: she may have left after all (read as out after a quiet evening
    with no bed sensor, house A) as much as come home; either way it is told at 02:56. A return that
    shows life indoors is not."""
    evening = [*moving(t("19:00", -1), t("22:00", -1), "living_pir"), *_door(t("22:05", -1))]
    _, alerts = run([*evening, *_door(t("02:41"))], t("04:00"))
    doors = [a for a in alerts if a.kind == "night_door"]
    assert [a.time for a in doors] == [t("02:56")]
    assert doors[0].message.startswith("The front door opened at 02:41, during the night hours set for Ann")
    assert doors[0].message.endswith("and there has been no sign of her since (15 min).")
    home = [*evening, *_door(t("02:41")), *moving(t("02:43"), t("02:50"), "kitchen_pir", 3)]
    _, alerts = run(home, t("04:00"))
    assert [a for a in alerts if a.kind == "night_door"] == []
