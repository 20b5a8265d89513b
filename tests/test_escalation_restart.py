"""An urgent alert's escalation survives a gateway restart: the next step still goes out on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config import parse_config_text
from gateway.service import Gateway
from routines.alert import Alert, Audience, Severity
from tests.held_clock import HeldClock
from tests.test_digest_schedule import Receiver, wait_until
from tests.test_gateway_alerting import SECRET, start

SPEED = 600.0  # the gateway's own idle waits, in real time: short, so it looks again soon after each move


def config(port: int, url: str, secret_file: Path) -> str:
    hook = f'{{url: "{url}", secret_file: "{secret_file}"}}'
    return f"""\
timezone: Europe/London
people: [{{id: p1, name: Ann, pronoun: she}}]
sensors: []
broker: {{host: 127.0.0.1, port: {port}, client_id: gw-escalation-restart}}
console: {{port: 0}}
clock: {{require_sync: false}}
recipients:
  - {{id: sam, name: Sam, group: team, webhook: {hook}}}
  - {{id: jo, name: Jo, group: circle, webhook: {hook}}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent]}}
  - {{person: p1, recipient: jo, receives: [urgent]}}
escalation: {{after_minutes: 10, urgent: [sam, jo]}}
"""


async def test_escalation_goes_on_after_a_restart(mosquitto, tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    db = tmp_path / "hearth.sqlite3"
    async with Receiver(SECRET.encode()) as rx:
        cfg = parse_config_text(config(mosquitto.port, rx.url, secret_file), "home.yaml")
        t0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
        clock = HeldClock(t0, SPEED)
        gw = Gateway(cfg, db, clock, commit_s=0.1)
        stop, task = await start(gw)
        try:
            gw.raise_alerts([Alert(gw.clock.now(), "p1", "night_exit", Severity.URGENT, Audience.CARE,
                                   "Ann has been out of bed for 50 min.", key="p1:night_exit:1")])
            await wait_until(lambda: [g["recipient"] for g in rx.got] == ["sam"])
            clock.move(120)
        finally:  # the gateway stops two minutes (demo time) after Sam was told: nobody acknowledged
            stop.set()
            await task
        assert [g["recipient"] for g in rx.got] == ["sam"]
        clock2 = HeldClock(clock.now(), SPEED)  # back at once (the gateway was down no time at all, in demo time)
        gw2 = Gateway(cfg, db, clock2, commit_s=0.1)
        stop, task = await start(gw2)
        try:
            # on time: ten minutes after the first message (Jo is due at 03:10), not ten minutes after the
            # restart (03:12). Time is held at 03:10:30 until Jo is told: a wait counted from the restart
            # would never end, and this wait would fail after PATIENCE_S.
            clock2.move((t0 + timedelta(minutes=10, seconds=30) - clock2.now()).total_seconds())
            await wait_until(lambda: "jo" in [g["recipient"] for g in rx.got])
        finally:
            stop.set()
            await task
    assert [g["recipient"] for g in rx.got] == ["sam", "jo"]  # Jo once, Sam not again
    assert "Nobody has acknowledged this for 10 minutes." in rx.got[1]["body"]
