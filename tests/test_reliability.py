"""The fast parts of ``python -m benchmarks.reliability``: short runs of its scenarios, asserting the
figures it reports (nothing lost, nothing doubled, nobody let in). Each scenario starts its own real
mosquitto, `hearth run` subprocess and webhook receiver; nothing here asserts on timing.

Every scenario here passes since the fixes of issue 12 (they began as strict xfails, one per bug
the suite found, removed as each fix landed).
"""

from __future__ import annotations

from benchmarks import reliability_faults as faults
from benchmarks import reliability_hostile as hostile
from benchmarks.reliability_load import load
from benchmarks.reliability_rig import Row


def failing(rows: list[Row]) -> list[Row]:
    return [r for r in rows if not r.ok]


def figure(rows: list[Row], name: str) -> str:
    [row] = [r for r in rows if r.figure == name]
    return row.value


def test_load_loses_and_doubles_nothing_and_every_alert_arrives() -> None:
    rows = load(seconds=8, homes=20, rate=100, alert_every=1.0)
    assert figure(rows, "events lost (QoS 1)").startswith("0 of ")
    assert figure(rows, "events stored twice") == "0"
    assert figure(rows, "alerts lost").startswith("0 of ")
    assert figure(rows, "alerts lost") != "0 of 0"  # alerts were raised: the latency figure measured something


def test_receiver_500_and_a_hung_request_lose_no_alert_and_repeat_none() -> None:
    rows = faults.receiver_faults(modes=(500, "hang"))
    assert [r.scenario for r in rows if r.figure == "alerts lost"] == ["receiver answers 500 once",
                                                                       "receiver answers hang once"]
    assert failing(rows) == []


def test_receiver_404_loses_no_alert() -> None:
    assert failing(faults.receiver_faults(modes=(404,))) == []


def test_gateway_kills_lose_nothing_and_double_no_alert() -> None:
    rows = faults.gateway_kills(kills=2)
    assert figure(rows, "events lost (QoS 1)").startswith("0 of ")
    assert figure(rows, "alerts lost").startswith("0 of ")
    assert figure(rows, "alerts delivered twice with different ids") == "0"


def test_zigbee2mqtt_and_bthome_parsers_survive_hostile_input() -> None:
    rows = [*hostile.zigbee2mqtt(200), *hostile.bthome(2000)]
    assert failing(rows) == [] and len(rows) == 2


def test_ble_relay_parser_survives_hostile_input() -> None:
    assert failing(hostile.ble_relay(200)) == []


def test_replay_csv_parser_survives_hostile_input() -> None:
    assert failing(hostile.events_csv(300)) == []


def test_config_parser_survives_hostile_input() -> None:
    assert failing(hostile.config(50)) == []


def test_console_from_another_origin_changes_nothing() -> None:
    assert failing(hostile.console_other_origin()) == []


def test_clock_jumps_lose_nothing_and_raise_no_care_alert() -> None:
    from benchmarks.reliability_clock import clock_jumps

    assert failing(clock_jumps(per_phase=10, settle_s=2.0)) == []
