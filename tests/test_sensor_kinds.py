"""The one table of sensor kinds (routines/sensor_kinds.py): every kind has a row, the engine reads what a
kind counts as from it, and a kind with no row is refused at config and link time, naming the kind."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, parse_config_text
from routines.engine import RoutineEngine
from routines.home import Home, Person, SensorInfo
from routines.sensor_kinds import COUNTS_AS, SENSOR_KINDS, SensorKindRow
from sensors.ble import KIND_READINGS
from sensors.events import SensorKind as K

CONFIG = """\
timezone: Europe/London
people:
  - id: p1
    name: Resident
sensors:
  - id: couch
    kind: chair
    room: living room
    person: p1
"""


def test_every_sensor_kind_has_exactly_one_row_with_its_own_reading() -> None:
    assert set(SENSOR_KINDS) == set(K)
    assert len({row.code for row in SENSOR_KINDS.values()}) == len(K)  # the engine tells every kind apart
    assert all(row.noun.endswith("sensor") for row in SENSOR_KINDS.values())


def test_every_sensor_kind_can_be_read_over_ble_too() -> None:
    # the radio side's own table (sensors/ble.py): a kind added without it would be silently unreadable there
    assert set(KIND_READINGS) == set(K) and all(KIND_READINGS.values())


def test_a_row_may_only_count_as_what_the_engine_knows() -> None:
    with pytest.raises(ValueError, match=r"unknown 'counts as' \['kitchen'\]"):
        SensorKindRow(0, frozenset({"bed", "kitchen"}), "bed sensor")  # kitchen comes from the room or role
    assert set().union(*(row.counts_as for row in SENSOR_KINDS.values())) == COUNTS_AS  # each one is used


def test_the_engine_takes_what_a_sensor_counts_as_from_its_kinds_row() -> None:
    home = Home("UTC", (Person("p1", "Ann", "she"),), (
        SensorInfo("pir", K.MOTION, "hall", "activity", "p1"), SensorInfo("seat", K.CHAIR, "lounge", "couch", "p1"),
        SensorInfo("mat", K.BED, "bedroom", "bed", "p1"), SensorInfo("tv", K.PLUG, "lounge", "activity", "p1"),
        SensorInfo("door", K.CONTACT, "hall", "front_door", "p1")))
    eng = RoutineEngine(home)
    s = eng._sensors
    assert {sid for sid, x in s.items() if x.presence} == {"pir", "seat"}  # down: stillness cannot be judged
    assert ({sid for sid, x in s.items() if x.bed}, {sid for sid, x in s.items() if x.chair}) == ({"mat"}, {"seat"})
    assert {sid for sid, x in s.items() if x.appliance} == {"tv"}  # a plug is an appliance whatever its role
    assert (s["pir"].label, s["tv"].label, s["door"].label) == (
        "motion sensor (hall)", "plug sensor (lounge)", "front door sensor (hall)")
    assert all(eng.has("p1", f) for f in ("bed", "chair", "door", "plug"))


def test_a_kind_without_a_row_is_refused_at_link_and_config_time_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(SENSOR_KINDS, K.CHAIR)  # as if 'chair' had just been added to SensorKind, without its row
    home = Home("UTC", (Person("p1", "Ann", "she"),), (SensorInfo("couch", K.CHAIR, "lounge", "couch", "p1"),))
    with pytest.raises(ValueError, match=r"sensor kind 'chair' has no row in routines\.sensor_kinds\.SENSOR_KINDS"):
        RoutineEngine(home)
    with pytest.raises(ConfigError) as exc:
        parse_config_text(CONFIG, "home.yaml")
    assert any("sensors[0].kind" in p and "sensor kind 'chair' has no row" in p for p in exc.value.problems), \
        exc.value.problems
