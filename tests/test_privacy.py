"""Privacy mode reaches the running gateway: `hearth pause` from a shell, and a switch in the home."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from alerts.outbox import Outbox
from gateway.cli import main
from gateway.config import parse_config_text
from gateway.service import Gateway
from routines.alert import Alert, Audience, Severity
from tests.test_digest_schedule import Receiver, wait_until
from tests.test_gateway_alerting import SECRET, home, start
from tests.test_service import Publisher

SWITCH = "  - {id: privacy, kind: plug, room: lounge, role: privacy_switch, person: p1, zigbee: {friendly_name: lounge/lamp}}\n"


def urgent(gw: Gateway, n: int) -> Alert:
    return Alert(gw.clock.now(), "p1", "silence", Severity.URGENT, Audience.CARE, f"Urgent number {n}.",
                 key=f"p1:silence:{n}")


def gate_said_paused(gw: Gateway, n: int) -> bool:
    """The consent gate has decided on urgent number ``n`` for Sam, and the decision was the pause:
    waiting for this, not for a fixed time, before checking that nothing left the home."""
    return any((w["recipient"], w["alert_key"]) == ("sam", f"p1:silence:{n}")
               for w in gw.alerting.delivery.outbox.withheld(reason="paused"))


def lamp(watts: float) -> bytes:
    return json.dumps({"power": watts, "state": "ON", "linkquality": 120}).encode()


async def test_hearth_pause_from_a_shell_holds_messages_of_the_running_gateway(mosquitto, tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    db = tmp_path / "hearth.sqlite3"
    async with Receiver(SECRET.encode()) as rx:
        cfg = parse_config_text(home(mosquitto.port, "gw-pause-cli", rx.url, secret_file), "home.yaml")
        gw = Gateway(cfg, db, commit_s=0.1)
        stop, task = await start(gw)
        try:
            assert await asyncio.to_thread(main, ["pause", "--db", str(db), "--person", "p1", "--for", "4h"]) == 0
            gw.raise_alerts([urgent(gw, 1)])
            await wait_until(lambda: gate_said_paused(gw, 1))
            assert rx.got == []  # paused: not even urgent leaves the home
            assert await asyncio.to_thread(main, ["pause", "--db", str(db), "--person", "p1", "--end"]) == 0
            gw.raise_alerts([urgent(gw, 2)])
            await wait_until(lambda: any(g["body"].startswith("Urgent number 2.") for g in rx.got))
        finally:
            stop.set()
            await task
    box = Outbox(db)
    withheld = {(w["recipient"], w["alert_key"], w["reason"]) for w in box.withheld()}
    box.close()
    assert ("sam", "p1:silence:1", "paused") in withheld
    assert not any("Urgent number 1." in g["body"] for g in rx.got if g["category"] == "urgent")


async def test_a_privacy_switch_in_the_home_pauses_and_resumes_sharing(mosquitto, tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    db = tmp_path / "hearth.sqlite3"
    async with Receiver(SECRET.encode()) as rx:
        text = home(mosquitto.port, "gw-pause-switch", rx.url, secret_file).replace("sensors:\n", "sensors:\n" + SWITCH)
        gw = Gateway(parse_config_text(text, "home.yaml"), db, commit_s=0.1)
        stop, task = await start(gw)
        p = Publisher(mosquitto.port, "z2m-privacy")
        try:
            p.pub("zigbee2mqtt/lounge/lamp", lamp(40.0))  # Ann switches her privacy lamp on
            await wait_until(lambda: bool(gw.alerting.delivery.pauses.active(gw.clock.now())))
            gw.raise_alerts([urgent(gw, 1)])
            await wait_until(lambda: gate_said_paused(gw, 1))
            assert rx.got == []
            p.pub("zigbee2mqtt/lounge/lamp", lamp(0.0))  # and off again
            await wait_until(lambda: not gw.alerting.delivery.pauses.active(gw.clock.now()))
            gw.raise_alerts([urgent(gw, 2)])
            await wait_until(lambda: any(g["body"].startswith("Urgent number 2.") for g in rx.got))
        finally:
            p.close()
            stop.set()
            await task
    # withheld while paused is never queued: number 1 must not turn up after the pause either
    assert not any("Urgent number 1." in g["body"] for g in rx.got)
