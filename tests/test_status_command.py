from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.storage import Store
from sensors.events import DeviceHealth, Rejection, SensorEvent, SensorKind


def test_status_lists_devices_and_counted_rejections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite3"
    t = datetime(2026, 11, 20, 7, 40, tzinfo=UTC)
    s = Store(db)
    s.add_events([SensorEvent(t, "maindoor", SensorKind.CONTACT, True, "zigbee2mqtt")])
    s.add_events([SensorEvent(t, "maindoor", SensorKind.CONTACT, False, "zigbee2mqtt")], clock_trusted=False)
    s.mark_seen("maindoor", t)
    s.update_health(DeviceHealth(t, "maindoor", "zigbee2mqtt", available=False, battery=14.0, linkquality=88.0))
    for _ in range(3):
        s.add_rejection(Rejection(t, "zigbee2mqtt", "not_json", "payload is not JSON", "maindoor"))
    s.commit()
    s.close()
    assert main(["status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "maindoor         2026-11-20 07:40  OFFLINE  14%      88" in out
    assert "Events kept while the clock was not synchronised (stored, never judged): 1" in out
    assert "Rejected input (3 in all):" in out and "3  zigbee2mqtt/not_json  maindoor" in out


def test_status_without_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--db", str(tmp_path / "none.sqlite3")]) == 1
    assert "no database at" in capsys.readouterr().err
