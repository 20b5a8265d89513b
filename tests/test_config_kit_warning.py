"""check-config warns when nothing shows the person about the home: only a bed sensor and the front door.

Probes of the recorded homes with such a kit (house C with only its bed mats and front door, house A with
only its front door: ``benchmarks`` probe kits, session 7) raised 20-36 false alarms a month: quiet at home
cannot be told from a fall, nor, with the door alone, from going out. It still runs: a warning, not an error.
"""

from __future__ import annotations

from gateway.config import config_warnings, parse_config_text

MINIMAL = """timezone: Europe/London
people:
  - {id: p1, name: Ann}
  - {id: p2, name: Bob}
sensors:
  - {id: bed, kind: bed, room: bedroom, role: bed, person: p1}
  - {id: maindoor, kind: contact, room: entrance, role: front_door, person: p1}
  - {id: bobsdoor, kind: contact, room: entrance, role: front_door, person: p2}
  - {id: kettle, kind: plug, room: kitchen, role: kettle, person: p2}
"""


def test_a_person_shown_only_by_bed_and_door_is_warned_of_and_one_with_a_plug_is_not() -> None:
    cfg = parse_config_text(MINIMAL, "home.yaml")  # loads: a warning, not an error
    [warning] = [w for w in config_warnings(cfg, "home.yaml") if "people[" in w]
    assert warning.startswith("home.yaml: people[0]: warning: nothing shows Ann about the home (only a bed "
                              "sensor and a front door)")
    assert "add a motion sensor in the living room or hall, or a kitchen plug or contact" in warning


def test_the_warning_names_the_line_when_the_yaml_is_known(caplog) -> None:
    parse_config_text(MINIMAL, "home.yaml")  # the gateway's log and check-config both show it
    assert any(r.getMessage().startswith("home.yaml:3: people[0]: warning: nothing shows Ann") for r in caplog.records)
