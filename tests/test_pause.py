"""Privacy pauses: `hearth pause` writes to the gateway's SQLite file; the delivery service honours it."""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.delivery import AlertDelivery
from alerts.notifiers.base import DeliveryResult, OutgoingMessage
from alerts.pause import PauseStore, parse_duration
from gateway.cli import build_parser, main
from gateway.config import load_config
from routines.alert import Alert, Audience, Severity

T0 = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)

CONFIG = """\
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
storage: {{path: {db}}}
recipients:
  - {{id: sam, name: Sam, group: team, email: sam@example.org}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent, concern]}}
"""


def home(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "hearth.sqlite3"
    cfg = tmp_path / "home.yaml"
    cfg.write_text(CONFIG.format(db=db))
    return cfg, db


def pause_cmd(argv: list[str], now: datetime) -> int:
    args = build_parser().parse_args(["pause", *argv])
    return args.func(args, now=now)


def test_parse_duration() -> None:
    assert parse_duration("4h") == timedelta(hours=4)
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration(" 90m ") == timedelta(minutes=90)
    for bad in ("", "4", "h", "4 hours", "-1h"):
        with pytest.raises(ValueError, match="a duration like 4h"):
            parse_duration(bad)


def test_pause_for_until_end_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      caplog: pytest.LogCaptureFixture) -> None:
    cfg, db = home(tmp_path)
    with caplog.at_level(logging.INFO, logger="hearth.pause"):
        assert pause_cmd(["--config", str(cfg), "--person", "p1", "--for", "4h"], T0) == 0
    assert "p1: all sharing paused until 2026-01-05 17:00 GMT" in capsys.readouterr().out
    assert "privacy pause for p1 started by hearth pause (command line), until 2026-01-05T17:00:00+00:00" in caplog.text
    (p,) = PauseStore(db).active(T0 + timedelta(hours=3, minutes=59))
    assert (p.person, p.start, p.end) == ("p1", T0, T0 + timedelta(hours=4))
    assert PauseStore(db).active(T0 + timedelta(hours=4)) == []

    assert pause_cmd(["--config", str(cfg), "--list"], T0 + timedelta(hours=1)) == 0
    assert "p1: paused since 2026-01-05 13:00 until 2026-01-05 17:00" in capsys.readouterr().out
    with caplog.at_level(logging.INFO, logger="hearth.pause"):
        assert pause_cmd(["--config", str(cfg), "--person", "p1", "--end", "--by", "Ann"], T0 + timedelta(hours=1)) == 0
    assert "p1: 1 pause(s) ended" in capsys.readouterr().out
    assert "privacy pause for p1 ended early by Ann" in caplog.text
    assert PauseStore(db).active(T0 + timedelta(hours=1)) == []

    # --until is local time in the home's timezone: 18:00 BST on 1 July is 17:00 UTC.
    july = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert pause_cmd(["--config", str(cfg), "--person", "p1", "--until", "2026-07-01T18:00"], july) == 0
    (p,) = PauseStore(db).active(july)
    assert p.end == datetime(2026, 7, 1, 17, 0, tzinfo=UTC)


def test_pause_refuses_unknown_person_past_end_and_overlong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, db = home(tmp_path)
    assert pause_cmd(["--config", str(cfg), "--person", "p9", "--for", "4h"], T0) == 1
    assert "person 'p9' is not one of people (p1)" in capsys.readouterr().err
    assert pause_cmd(["--config", str(cfg), "--person", "p1", "--until", "2026-01-05T12:00"], T0) == 1
    assert "a pause must end in the future" in capsys.readouterr().err
    assert pause_cmd(["--config", str(cfg), "--person", "p1", "--for", "45d"], T0) == 1
    assert "at most 30 days" in capsys.readouterr().err
    assert pause_cmd(["--config", str(cfg), "--person", "p1", "--for", "soon"], T0) == 1
    assert pause_cmd(["--db", str(db), "--person", "p1"], T0) == 2
    assert PauseStore(db).active(T0) == []


def test_pause_command_is_discovered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, db = home(tmp_path)
    assert main(["pause", "--config", str(cfg), "--person", "p1", "--for", "30m"]) == 0
    assert len(PauseStore(db).active(datetime.now(UTC))) == 1
    logging.getLogger().handlers.clear()  # main() installed a handler on the captured stderr


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t

    def monotonic(self) -> float:
        return (self.t - T0).total_seconds()


class Inbox:
    channel = "email"

    def __init__(self) -> None:
        self.got: list[OutgoingMessage] = []

    async def send(self, msg: OutgoingMessage, recipient) -> DeliveryResult:
        self.got.append(msg)
        return DeliveryResult.delivered()


async def test_running_gateway_honours_a_pause_set_from_the_cli_and_tells_the_team_after(tmp_path: Path) -> None:
    cfg_path, db = home(tmp_path)
    clock, inbox = Clock(), Inbox()
    delivery = AlertDelivery(load_config(cfg_path), db, {"email": inbox}, clock)
    concern = Alert(T0, "p1", "fridge_idle", Severity.WARNING, Audience.CARE, "Fridge not opened.", key="p1:fridge")
    delivery.submit(concern)  # queued before the pause...
    assert pause_cmd(["--config", str(cfg_path), "--person", "p1", "--for", "2h"], T0) == 0
    urgent = Alert(T0, "p1", "not_up", Severity.URGENT, Audience.CARE, "Not up.", key="p1:not_up")
    delivery.submit(urgent)  # ...and an urgent one during it
    await delivery.tick()
    assert inbox.got == []  # ...neither goes out
    held = delivery.outbox.withheld(person="p1", reason="paused")
    assert [(w["category"], w["alert_key"]) for w in held] == [("urgent", "p1:not_up"), ("concern", "p1:fridge")]
    clock.t = T0 + timedelta(hours=1, minutes=59)
    await delivery.tick()
    assert inbox.got == []
    clock.t = T0 + timedelta(hours=2)
    await delivery.tick()
    (note,) = inbox.got
    assert note.category == "urgent" and note.recipient == "sam"
    assert note.body == "While Ann had paused sharing (13:00-15:00), 1 urgent alert(s) were held. Please check in."
    await delivery.tick()
    assert len(inbox.got) == 1  # the end is reported once
    delivery.close()
