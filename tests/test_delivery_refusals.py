"""Receivers that refuse, throttle or hang, over real HTTP on loopback: a permanent refusal (404) becomes a
technical alert and an urgent alert escalates at once; a 429 is retried after its Retry-After; a receiver
that hangs holds up nobody else's messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from alerts.delivery import AlertDelivery
from alerts.notifiers.webhook import WebhookNotifier
from gateway.config import parse_config_text
from tests.conftest import PATIENCE_S
from tests.test_delivery import SimClock, urgent

SECRET = "refusal-test-secret"

# Sam's webhook gives up after 10 s: the hanging-receiver test needs all of Jo's messages delivered before
# that, which a busy machine does easily in 10 s (not always in 1 s); a shared slot held by a hang would not.
CONFIG = """\
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - {{id: sam, name: Sam, group: team, webhook: {{url: "{url}/sam", secret_env: HEARTH_REFUSAL_TEST, timeout_s: 10}}}}
  - {{id: jo, name: Jo, group: team, webhook: {{url: "{url}/jo", secret_env: HEARTH_REFUSAL_TEST}}}}
  - {{id: tec, name: Tech desk, group: technical, webhook: {{url: "{url}/tec", secret_env: HEARTH_REFUSAL_TEST}}}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent, concern]}}
  - {{person: p1, recipient: jo, receives: [urgent, concern]}}
  - {{person: p1, recipient: tec, receives: [technical]}}
escalation: {{after_minutes: 10, urgent: [sam, jo]}}
"""


class Receivers:
    """Webhook receivers per path; ``answers[path]`` is a list of (status, headers) to give first."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict]] = []
        self.answers: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.hang: set[str] = set()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if request.path in self.hang:
            await self.release.wait()
        queued = self.answers.get(request.path)
        status, headers = queued.pop(0) if queued else (200, {})
        if status == 200:
            self.got.append((request.path, body))
        return web.Response(status=status, headers=headers, text="nope" if status != 200 else "ok")

    def paths(self) -> list[str]:
        return [p for p, _ in self.got]


@asynccontextmanager
async def running(tmp_path: Path, monkeypatch) -> AsyncIterator[tuple[AlertDelivery, SimClock, Receivers]]:
    rx = Receivers()
    app = web.Application()
    app.router.add_post("/{who}", rx.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HEARTH_REFUSAL_TEST", SECRET)
    cfg = parse_config_text(CONFIG.format(url=f"http://127.0.0.1:{port}"), "home.yaml")
    clock = SimClock()
    notifier = WebhookNotifier(home="test")
    delivery = AlertDelivery(cfg, tmp_path / "h.sqlite3", {"webhook": notifier}, clock)
    try:
        yield delivery, clock, rx
    finally:
        rx.release.set()
        await notifier.close()
        await runner.cleanup()
        delivery.close()


async def test_a_404_is_a_technical_alert_and_the_urgent_alert_escalates_at_once(tmp_path: Path, monkeypatch) -> None:
    async with running(tmp_path, monkeypatch) as (delivery, _clock, rx):
        rx.answers["/sam"] = [(404, {})]
        delivery.submit(urgent())
        await delivery.tick()  # Sam's webhook refuses: failed after one try, not retried
        (row,) = [r for r in delivery.outbox.for_alert("p1:not_up") if r.message.recipient == "sam"]
        assert (row.state, row.attempts) == ("failed", 1)
        await delivery.tick()  # no ten-minute wait on the simulated clock: Jo is next, now
        await delivery.tick()
        assert sorted(rx.paths()) == ["/jo", "/tec"]
        tech = next(b for p, b in rx.got if p == "/tec")
        assert tech["category"] == "technical"
        assert "Sam's webhook refused a urgent message" in tech["body"] and "HTTP 404" in tech["body"]
        assert next(b for p, b in rx.got if p == "/jo")["alert_key"] == "p1:not_up"


async def test_a_429_waits_for_its_retry_after_then_goes(tmp_path: Path, monkeypatch) -> None:
    async with running(tmp_path, monkeypatch) as (delivery, clock, rx):
        rx.answers["/sam"] = [(429, {"Retry-After": "120"})]
        delivery.submit(urgent())
        await delivery.tick()
        (row,) = [r for r in delivery.outbox.all() if r.message.recipient == "sam"]
        assert row.state == "pending"
        assert row.next_attempt_at - clock.now() == timedelta(seconds=120)  # not our own 5 s backoff
        clock.t += timedelta(seconds=119)
        await delivery.tick()
        assert rx.got == []
        clock.t += timedelta(seconds=1)
        await delivery.tick()
        assert rx.paths() == ["/sam"]
        assert not [r for r in delivery.outbox.all() if r.message.category == "technical"]  # not a refusal


async def test_a_hanging_receiver_holds_up_nobody_else(tmp_path: Path, monkeypatch) -> None:
    async with running(tmp_path, monkeypatch) as (delivery, clock, rx):
        rx.hang.add("/sam")

        def timed_out() -> list:
            return [r for r in delivery.outbox.all() if r.message.recipient == "sam" and r.state == "pending"
                    and "no answer within 10 s" in (r.last_error or "")]
        for i in range(6):  # more messages to the hanging receiver than there are shared send slots
            delivery.submit(urgent(key=f"p1:c{i}", msg=f"Concern {i}."))
        clock.t += timedelta(minutes=11)  # every one escalates to Jo
        await delivery.tick(wait_sends=False)
        await delivery.tick(wait_sends=False)
        for _ in range(int(PATIENCE_S / 0.02)):
            if len(rx.got) == 6:
                break
            await asyncio.sleep(0.02)
        assert sorted(rx.paths()) == ["/jo"] * 6  # all of Jo's, while Sam's receiver still hangs
        assert not timed_out()  # ... and before even its first send to Sam gave up
        for _ in range(int(PATIENCE_S / 0.02)):  # Sam's webhook gives up after its 10 s timeout
            if timed_out():
                break
            await asyncio.sleep(0.02)
        # retried later with the same id (backoff), not failed: a hang is not a refusal
        (row,) = timed_out()
        assert row.attempts == 1 and row.next_attempt_at > clock.now()
        rx.release.set()
        await asyncio.gather(*list(delivery._sending.values()))
        assert not [r for r in delivery.outbox.all() if r.state == "failed"]
