from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, load_config, parse_config_text

MINIMAL = """\
timezone: Europe/London
people:
  - id: p1
    name: Resident
sensors:
  - id: bed
    kind: bed
    room: bedroom
    role: bed
    person: p1
  - id: maindoor
    kind: contact
    room: entrance
    role: front_door
    person: p1
"""


def test_minimal_form_loads_with_defaults(tmp_path: Path) -> None:
    f = tmp_path / "home.yaml"
    f.write_text(MINIMAL)
    cfg = load_config(f)
    assert [s.id for s in cfg.sensors] == ["bed", "maindoor"]
    assert cfg.sensors[1].zigbee.friendly_name == "maindoor"
    assert cfg.broker.port == 1883 and cfg.zigbee2mqtt.base_topic == "zigbee2mqtt"
    home = cfg.to_home()
    assert home.sensor("maindoor").role == "front_door"
    assert home.people[0].name == "Resident"


def test_errors_name_file_line_field_and_expectation() -> None:
    bad = MINIMAL.replace("kind: contact", "kind: door").replace("role: bed\n", "role: bed\n    colour: red\n", 1)
    with pytest.raises(ConfigError) as exc:
        parse_config_text(bad, "home.yaml")
    problems = exc.value.problems
    assert "home.yaml:13: sensors[1].kind: Input should be 'contact', 'bed', 'chair', 'motion' or 'plug'; got 'door'" in problems
    assert any(p.startswith("home.yaml:10: sensors[0].colour: unknown field") for p in problems)


def test_unknown_person_and_duplicate_ids_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"person 'p9' is not one of people"):
        parse_config_text(MINIMAL.replace("person: p1\n  - id: maindoor", "person: p9\n  - id: maindoor"), "h.yaml")
    with pytest.raises(ConfigError, match="sensor id 'bed' appears twice"):
        parse_config_text(MINIMAL.replace("id: maindoor", "id: bed"), "h.yaml")


def test_bad_yaml_and_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"^h.yaml:3: not valid YAML"):
        parse_config_text("timezone: x\npeople: [\n", "h.yaml")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config("/nonexistent/home.yaml")


def test_secrets_from_file_are_not_printed(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("231d39c1d7cc1ab1aee224cd096db932\n")
    cfg = parse_config_text(MINIMAL + f"""\
  - id: door2
    kind: contact
    room: hall
    person: p1
    ble: {{mac: "A4:C1:38:00:00:01", bindkey_file: {key}}}
broker: {{password: hunter2}}
""", "h.yaml")
    assert cfg.sensors[2].ble.key_bytes() == bytes.fromhex("231d39c1d7cc1ab1aee224cd096db932")
    assert "hunter2" not in repr(cfg) and "hunter2" not in str(cfg.model_dump())
    assert cfg.broker.password_value() == "hunter2"


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "home.yaml"
    f.write_text(MINIMAL)
    assert main(["check-config", str(f)]) == 0
    assert "OK: 1 person(s), 2 sensor(s) (1 bed, 1 contact)" in capsys.readouterr().out
    f.write_text(MINIMAL.replace("Europe/London", "Mars/Base"))
    assert main(["check-config", str(f)]) == 1
    assert f"{f}:1: timezone: an IANA timezone such as Europe/London, not 'Mars/Base'" in capsys.readouterr().err


def test_clock_sync_requirement_can_be_lifted_for_a_pi_with_a_real_time_clock() -> None:
    from gateway.clocktrust import ClockTrust
    from gateway.timebase import Clock
    from routines.engine import RoutineEngine

    cfg = parse_config_text(MINIMAL + "clock: {require_sync: false}\n", "h.yaml")
    assert cfg.clock.require_sync is False and parse_config_text(MINIMAL, "h.yaml").clock.require_sync is True
    engine = RoutineEngine(cfg.to_home(), cfg.routines)
    clock = Clock()
    trusting = ClockTrust.for_clock(clock, cfg.clock.require_sync)
    assert trusting.admit(engine, clock.monotonic(), clock.now()) is True
    strict = ClockTrust.for_clock(clock, True)
    strict.watch.synchronised = lambda: False  # a Pi that never reached NTP
    assert strict.admit(engine, clock.monotonic(), clock.now()) is False


def test_run_with_a_broken_config_says_what_is_wrong_and_exits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "home.yaml"
    f.write_text(MINIMAL.replace("kind: bed", "kind: mattress"))
    assert main(["run", "--config", str(f), "--db", str(tmp_path / "h.sqlite3")]) == 1
    assert f"{f}:7: sensors[0].kind: Input should be" in capsys.readouterr().err
    assert not (tmp_path / "h.sqlite3").exists()  # nothing started


def test_reference_errors_point_at_the_offending_item() -> None:
    text = MINIMAL.replace("person: p1\n  - id: maindoor", "person: p9\n  - id: maindoor") + """\
  - id: bed
    kind: plug
    room: kitchen
    person: p1
"""
    with pytest.raises(ConfigError) as exc:
        parse_config_text(text, "h.yaml")
    assert exc.value.problems == [
        "h.yaml:16: sensors[2].id: sensor id 'bed' appears twice",
        "h.yaml:10: sensors[0].person: sensor 'bed': person 'p9' is not one of people (p1)",
    ]
    two_people = MINIMAL.replace("    name: Resident\n", "    name: Resident\n  - id: p1\n    name: Again\n")
    with pytest.raises(ConfigError) as exc:
        parse_config_text(two_people, "h.yaml")
    assert exc.value.problems == ["h.yaml:5: people[1].id: person id 'p1' appears twice"]


@pytest.mark.parametrize(("source", "words"), [
    ('ble: {mac: "A4-C1-38-12-34-56"}',
     "h.yaml:20: sensors[2].ble.mac: a BLE MAC address is six pairs of hex digits joined by colons, "
     "e.g. A4:C1:38:12:34:56; got 'A4-C1-38-12-34-56'"),
    ('zigbee: {ieee_address: "00158d0001a2b3c4"}',
     "h.yaml:20: sensors[2].zigbee.ieee_address: an IEEE address is 0x and 16 hex digits, as zigbee2mqtt "
     "shows it, e.g. 0x00158d0001a2b3c4; got '00158d0001a2b3c4'"),
])
def test_address_errors_say_what_an_address_looks_like(source: str, words: str) -> None:
    text = MINIMAL + f"  - id: door2\n    kind: contact\n    room: hall\n    person: p1\n    {source}\n"
    with pytest.raises(ConfigError) as exc:
        parse_config_text(text, "h.yaml")
    assert exc.value.problems == [words]
    assert "[0-9A-Fa-f]" not in str(exc.value)


KEY = "231d39c1d7cc1ab1aee224cd096db932"


def test_a_bind_key_others_can_read_is_a_warning_never_showing_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "door.key"
    key.write_text(KEY + "\n")
    f = tmp_path / "home.yaml"
    f.write_text(MINIMAL + f"  - id: door2\n    kind: contact\n    room: hall\n    person: p1\n"
                           f"    ble: {{mac: 'A4:C1:38:00:00:01', bindkey_file: {key}}}\n")
    key.chmod(0o644)
    assert main(["check-config", str(f)]) == 0  # a warning, not an error: the home still runs
    err = capsys.readouterr().err
    assert (f"{f}:20: sensors[2].ble.bindkey_file: warning: {key} can be read by group root and every user "
            f"(mode 0644): anyone who reads it can forge this sensor's messages; run: chmod 600 {key}") in err
    assert KEY not in err
    key.chmod(0o600)
    assert main(["check-config", str(f)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_yaml_nested_past_the_parsers_depth_is_a_config_error_not_a_crash() -> None:
    with pytest.raises(ConfigError, match=r"^h.yaml: not a home config: nested too deeply to read"):
        parse_config_text("timezone: " + "[" * 5000 + "]" * 5000 + "\n", "h.yaml")
