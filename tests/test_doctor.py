"""hearth doctor against a real mosquitto, a closed port, real SQLite files and device folders."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from gateway.broker import free_port
from gateway.cli import main
from gateway.commands.doctor import Context, Places, check_sensors, run_checks
from tests.conftest import Mosquitto


def write_config(tmp_path: Path, port: int, extra: str = "", sensors: str = "[]") -> Path:
    conf = tmp_path / "home.yaml"
    conf.write_text(
        "timezone: Europe/London\n"
        "people: [{id: p1, name: Resident}]\n"
        f"sensors: {sensors}\n"
        f"broker: {{host: 127.0.0.1, port: {port}{extra}}}\n"
        f"storage: {{path: {tmp_path / 'hearth.sqlite3'}}}\n"
    )
    return conf


def places(tmp_path: Path, bluetooth: bool = False, stick: bool = False, synced: bool = False) -> Places:
    bt, serial = tmp_path / "sys-bluetooth", tmp_path / "by-id"
    bt.mkdir(exist_ok=True)
    serial.mkdir(exist_ok=True)
    if bluetooth:
        (bt / "hci0").mkdir(exist_ok=True)
    if stick:
        (serial / "usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus-if00-port0").symlink_to("/dev/null")
    flag = tmp_path / "synchronized"
    if synced:
        flag.touch()
    return Places(bluetooth=bt, serial_by_id=serial, timesync_flag=flag)


def findings(ctx: Context) -> dict[str, tuple[str, str, str]]:
    return {name: (f.status, f.detail, f.fix) for name, f in run_checks(ctx)}


def test_cli_ok_against_the_real_broker(mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = write_config(tmp_path, mosquitto.port)
    code = main(["doctor", "--config", str(conf)])
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out] == ["config", "broker", "bluetooth", "zigbee", "clock", "disk",
                                                 "database", "gateway", "sensors", "outbox"]
    assert out[0].startswith("OK   config")
    assert out[1] == f"OK   broker     MQTT 127.0.0.1:{mosquitto.port} connected"
    assert all(line.split()[0] in ("OK", "WARN") for line in out), out
    assert code == 0


def test_cli_fails_on_a_closed_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # nothing listens here
    conf = write_config(tmp_path, port)
    assert main(["doctor", "--config", str(conf)]) == 1
    broker = next(line for line in capsys.readouterr().out.splitlines() if " broker " in line)
    assert broker.startswith(f"FAIL broker     cannot connect to 127.0.0.1:{port} (Connection refused)")
    assert "-> sudo systemctl status mosquitto" in broker


def test_broken_config_fails_and_names_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "home.yaml"
    conf.write_text("timezone: Mars/Olympus\npeople: [{id: p1, name: R}]\n")
    assert main(["doctor", "--config", str(conf)]) == 1
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(f"FAIL config     {conf}:1: timezone: an IANA timezone")
    assert line.endswith(f"-> hearth check-config {conf}")


@pytest.mark.parametrize(("password", "status"), [("right-password", "OK"), ("wrong", "FAIL")])
def test_broker_login_with_the_configured_password(password_broker: Mosquitto, tmp_path: Path, password: str,
                                                   status: str) -> None:
    secret = tmp_path / "mqtt_password"
    secret.write_text(password + "\n")
    conf = write_config(tmp_path, password_broker.port, f", username: hearth, password_file: {secret}")
    got = findings(Context(conf, places(tmp_path)))["broker"]
    assert got[0] == status
    if status == "FAIL":
        assert "refused the MQTT login" in got[1] and "hearth.passwd" in got[2]
    else:
        assert got[1] == f"MQTT 127.0.0.1:{password_broker.port} connected as hearth"


BLE_SENSOR = "[{id: bed, kind: bed, room: bedroom, role: bed, person: p1, ble: {mac: 'A4:C1:38:12:34:56'}}]"
ZIGBEE_SENSOR = "[{id: door, kind: contact, room: hall, role: front_door, person: p1}]"


def test_adapters_present(tmp_path: Path) -> None:
    conf = write_config(tmp_path, free_port(), sensors=BLE_SENSOR)
    got = findings(Context(conf, places(tmp_path, bluetooth=True, stick=True, synced=True)))
    assert got["bluetooth"][:2] == ("OK", "adapter hci0")
    assert got["zigbee"][:2] == ("OK", "coordinator usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus-if00-port0")
    assert got["clock"][:2] == ("OK", "synchronised (systemd-timesyncd)")


def test_adapters_missing_for_configured_sensors_fail(tmp_path: Path) -> None:
    ble = findings(Context(write_config(tmp_path, free_port(), sensors=BLE_SENSOR), places(tmp_path)))
    assert ble["bluetooth"][0] == "FAIL"
    zig = findings(Context(write_config(tmp_path, free_port(), sensors=ZIGBEE_SENSOR), places(tmp_path)))
    assert zig["zigbee"][0] == "FAIL" and "plug the Zigbee USB coordinator in" in zig["zigbee"][2]
    assert zig["bluetooth"][0] == "WARN"  # no BLE sensors: only a warning


def test_database_checks(tmp_path: Path) -> None:
    conf = write_config(tmp_path, free_port())
    assert findings(Context(conf, places(tmp_path)))["database"][0] == "WARN"  # not created yet
    db = tmp_path / "hearth.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE events (t TEXT)")
    con.commit()
    con.close()
    assert findings(Context(conf, places(tmp_path)))["database"][:2] == ("OK", f"{db}: readable, 1 table(s)")
    (tmp_path / "hearth.sqlite3.corrupt-20261207T120000").write_bytes(b"kept by the gateway")
    assert findings(Context(conf, places(tmp_path)))["database"][:2] == (
        "WARN", f"{db}: readable, 1 table(s); set aside beside it: hearth.sqlite3.corrupt-20261207T120000")
    db.write_bytes(b"this is not a database" * 100)
    assert findings(Context(conf, places(tmp_path)))["database"][0] == "FAIL"


def test_sensors_last_seen_from_the_health_table(tmp_path: Path) -> None:
    sensors = ("[{id: door, kind: contact, room: hall, person: p1}, {id: bed, kind: bed, room: bedroom, person: p1},"
               " {id: kettle, kind: plug, room: kitchen, person: p1}]")
    conf = write_config(tmp_path, free_port(), sensors=sensors)
    db = tmp_path / "hearth.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE device_health (time TEXT, sensor_id TEXT, battery REAL)")
    con.executemany("INSERT INTO device_health VALUES (?, ?, ?)", [
        ("2026-03-10T07:00:00+00:00", "door", 90), ("2026-03-10T08:55:00+00:00", "door", 90),
        ("2026-03-09T20:00:00+00:00", "bed", 80),
    ])
    con.commit()
    con.close()
    ctx = Context(conf, places(tmp_path))
    run_checks(ctx)
    now = 1773133200.0  # 2026-03-10T09:00:00Z
    got = check_sensors(ctx, now=now)
    assert got.status == "WARN"
    assert got.detail == "never heard: kettle; silent: bed (13 h)"
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO device_health VALUES (?, ?, ?)",
                    [("2026-03-10T08:30:00Z", "bed", 80), ("2026-03-10T08:40:00", "kettle", None)])
    con.commit()
    con.close()
    assert check_sensors(ctx, now=now).status == "OK"


def test_sensors_last_seen_from_the_storage_schema(tmp_path: Path) -> None:
    """The shape gateway/storage.py uses: one row per sensor, last_seen_us in microseconds."""
    conf = write_config(tmp_path, free_port(), sensors=ZIGBEE_SENSOR.replace("]", ", {id: bed, kind: bed, room: b, person: p1}]"))
    con = sqlite3.connect(tmp_path / "hearth.sqlite3")
    con.execute("CREATE TABLE device_health (sensor_id TEXT PRIMARY KEY, source TEXT, last_seen_us INTEGER,"
                " available INTEGER, battery REAL, linkquality REAL, updated_us INTEGER)")
    now = 1773133200.0
    con.execute("INSERT INTO device_health VALUES ('door', 'zigbee2mqtt', ?, 1, 90, 120, ?)",
                (int((now - 600) * 1e6), int(now * 1e6)))
    con.execute("INSERT INTO device_health VALUES ('bed', 'zigbee2mqtt', ?, 1, 90, 120, ?)",
                (int((now - 8 * 3600) * 1e6), int(now * 1e6)))
    con.commit()
    con.close()
    ctx = Context(conf, places(tmp_path))
    run_checks(ctx)
    got = check_sensors(ctx, now=now)
    assert (got.status, got.detail) == ("WARN", "silent: bed (8 h)")


RECIPIENTS = """\
recipients:
  - {id: sam, name: Sam, group: team, webhook: {url: "https://care.example.org/hook"}}
  - {id: jo, name: Jo, group: circle, email: jo@example.org}
"""


def test_outbox_refusals_and_late_messages_per_address(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from alerts.notifiers.base import DeliveryResult, OutgoingMessage
    from alerts.outbox import Outbox
    from gateway.commands.doctor import check_outbox
    from gateway.config import load_config

    conf = write_config(tmp_path, free_port())
    conf.write_text(conf.read_text() + RECIPIENTS)
    ctx = Context(conf, places(tmp_path))
    ctx.config = load_config(conf)
    assert check_outbox(ctx).status == "OK"  # no database yet
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    box = Outbox(ctx.db_path())
    box.enqueue(OutgoingMessage("m1", "sam", "webhook", "urgent", "t", "b", "urgent"), person="p1", now=t0)
    box.mark_sending("m1", t0)
    box.mark_result("m1", DeliveryResult.failed("webhook https://care.example.org/hook: HTTP 404: no such hook",
                                                retryable=False), t0)
    box.enqueue(OutgoingMessage("m2", "jo", "email", "concern", "t", "b", "high"), person="p1", now=t0)
    soon = (t0 + timedelta(minutes=5)).timestamp()
    f = check_outbox(ctx, now=soon)
    assert (f.status, f.detail) == ("FAIL", "sam/webhook: 1 refused (webhook https://care.example.org/hook: "
                                            "HTTP 404: no such hook)")
    assert f"hearth send-test --config {conf} --recipient sam" in f.fix
    # fixed: a later message to Sam's webhook went through; Jo's email is now 40 minutes late
    box.enqueue(OutgoingMessage("m3", "sam", "webhook", "urgent", "t", "b", "urgent"), person="p1",
                now=t0 + timedelta(minutes=10))
    box.mark_sending("m3", t0 + timedelta(minutes=10))
    box.mark_result("m3", DeliveryResult.delivered(), t0 + timedelta(minutes=10))
    box.close()
    f = check_outbox(ctx, now=(t0 + timedelta(minutes=40)).timestamp())
    assert (f.status, f.detail) == ("WARN", "jo/email: 1 waiting, oldest 40 min (not tried)")
    assert findings(ctx)["outbox"][0] == "WARN"  # in the table, on the real clock: still late


def test_gateway_check_reads_what_the_gateway_said_of_itself() -> None:
    from gateway.health import judge

    saved = "2026-03-02T07:00:00+00:00"
    now = datetime.fromisoformat(saved).timestamp()
    running = {"tasks": {"consume": {"state": "running", "restarts": 0}}, "problems": [], "saved_at": saved}
    assert judge(running, now + 60)[0] == "OK"
    assert judge(running, now + 3600)[:2] == (
        "FAIL", f"no health report from the gateway since {saved} (not running, or stuck)")
    full = {**running, "problems": ["storage full: 20000 handled items held in memory, ..."]}
    assert judge(full, now + 60)[:2] == ("FAIL", "storage full: 20000 handled items held in memory, ...")
    assert judge(None, now)[0] == "WARN"
