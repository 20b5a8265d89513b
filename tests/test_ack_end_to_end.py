"""From an alert to two phones, one press of Acknowledge on Sam's lock screen, and both phones updated.

Real parts throughout: the delivery service with its SQLite outbox, the ntfy notifier, the loopback ntfy
server, the Acknowledge action performed over HTTP as the phone app does, the subscription stream.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from alerts.ack import AckSigner, AckVerifier, SeenNonces
from alerts.delivery import AlertDelivery
from alerts.notifiers.ntfy import NtfyAckListener, NtfyNotifier
from gateway.config import parse_config_text
from gateway.timebase import Clock
from routines.alert import Alert, Audience, Severity
from tests.conftest import PATIENCE_S
from tests.ntfy_server import NtfyServer, press_action

SECRET = b"end-to-end-home-secret-012345678"


def config(ntfy_url: str):
    return parse_config_text(f"""
name: ann-home
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - {{id: sam, name: Sam Okafor, group: team, ntfy: {{server: "{ntfy_url}", topic: hearth-sam-4f9c, allow_http: true}}}}
  - {{id: jo, name: Jo, group: circle, ntfy: {{server: "{ntfy_url}", topic: hearth-jo-77aa, allow_http: true}}}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent, concern]}}
  - {{person: p1, recipient: jo, receives: [urgent]}}
""", "home.yaml")


async def until(cond, seconds: float = PATIENCE_S) -> None:
    for _ in range(int(seconds / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_one_press_on_the_lock_screen_updates_every_phone(tmp_path: Path) -> None:
    signer = AckSigner(SECRET)
    verifier = AckVerifier(signer, SeenNonces(tmp_path / "acks.sqlite"))
    async with NtfyServer(keepalive_s=0.5) as ntfy:
        cfg = config(ntfy.url)
        notifier = NtfyNotifier(signer=signer)
        delivery = AlertDelivery(cfg, tmp_path / "hearth.sqlite", {"ntfy": notifier}, Clock())
        now = datetime.now(UTC)
        delivery.submit(Alert(now, "p1", "not_up", Severity.URGENT, Audience.CARE,
                              "Ann is usually up by 08:10; no movement since 22:40.", key="p1:not_up:today"))
        await delivery.tick()
        [sam_alert] = ntfy.displayed("hearth-sam-4f9c")
        assert len(ntfy.displayed("hearth-jo-77aa")) == 1  # Jo consented to urgent alerts too
        assert "Acknowledge" in [a["label"] for a in sam_alert["actions"]]

        listener = NtfyAckListener(ntfy.url, [r.ntfy.ack_topic for r in cfg.recipients], verifier,
                                   reconnect_s=0.05)
        acked: list = []

        async def gateway_side() -> None:
            async for ack in listener.acks():
                acked.append(ack)
                delivery.acknowledge(ack.alert_key, ack.recipient, datetime.fromtimestamp(ack.received_at, UTC))
                await delivery.tick()

        task = asyncio.create_task(gateway_side())
        await asyncio.wait_for(listener.connected.wait(), 60)
        assert await press_action(sam_alert, "Acknowledge") == 200  # Sam, phone locked, no sign-in
        await until(lambda: all("Handled by" in m["message"] for t in ("hearth-sam-4f9c", "hearth-jo-77aa")
                                for m in ntfy.displayed(t)))
        assert await press_action(sam_alert, "Acknowledge") == 200  # pressed again: a replay, refused
        await until(lambda: verifier.refused)
        task.cancel()
        await notifier.close()
        delivery.close()

        for topic in ("hearth-sam-4f9c", "hearth-jo-77aa"):
            [shown] = ntfy.displayed(topic)  # still one notification per phone, now updated
            assert shown["message"].startswith("Handled by Sam Okafor ")
            assert "actions" not in shown
        assert [(a.alert_key, a.recipient) for a in acked] == [("p1:not_up:today", "sam")]
        assert verifier.refused == {"replayed": 1}
        assert delivery.policy.alerts["p1:not_up:today"].acknowledged_by == "sam"
