"""Webhook notifier against a real receiver on loopback that checks the HMAC like an SMS gateway would."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from aiohttp import web

from alerts.channels import WebhookChannel
from alerts.config import RecipientConfig
from alerts.notifiers.base import OutgoingMessage
from alerts.notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookNotifier, verify_signature
from tests.conftest import free_port

SECRET = "webhook-shared-secret"


class Receiver:
    """A care-record system: verifies the signature, drops repeated Idempotency-Keys."""

    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self.rejected = 0
        self.seen_keys: set[str] = set()
        self.status = 200
        self.delay_s = 0.0
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay_s)
        body = await request.read()
        if not verify_signature(SECRET.encode(), body, request.headers.get(TIMESTAMP_HEADER),
                                request.headers.get(SIGNATURE_HEADER), now=time.time()):
            self.rejected += 1
            return web.Response(status=401, text="bad signature")
        if self.status != 200:
            return web.Response(status=self.status, text="receiver is unwell")
        key = request.headers["Idempotency-Key"]
        if key not in self.seen_keys:
            self.seen_keys.add(key)
            self.accepted.append(json.loads(body))
        return web.json_response({"ok": True}, headers={"X-Request-Id": f"rx-{len(self.accepted)}"})


@pytest.fixture
async def receiver():
    rx = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rx.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rx.port = site._server.sockets[0].getsockname()[1]
    yield rx
    await runner.cleanup()


def recipient(port: int, tmp_path: Path, secret: str = SECRET, **kw: object) -> RecipientConfig:
    (tmp_path / "wh.secret").write_text(secret + "\n")
    ch = WebhookChannel(url=f"http://127.0.0.1:{port}/hook", secret_file=tmp_path / "wh.secret", **kw)
    return RecipientConfig(id="sms", name="SMS gateway", group="team", webhook=ch)


MSG = OutgoingMessage("a1/sms/webhook", "sms", "webhook", "urgent", "Ann is not up", "Usually up by 08:10.",
                      "urgent", alert_key="p1:not_up:2026-01-05", tags=("rotating_light",))


async def test_signed_json_is_accepted_with_idempotency(receiver: Receiver, tmp_path: Path) -> None:
    notifier = WebhookNotifier(home="ann-home")
    r = recipient(receiver.port, tmp_path)
    first = await notifier.send(MSG, r)
    again = await notifier.send(MSG, r)  # a retry after a lost answer
    await notifier.close()
    assert first.ok and again.ok and first.remote_id == "rx-1"
    [got] = receiver.accepted
    assert {k: got[k] for k in ("home", "message_id", "title", "body", "priority", "category", "alert_key")} == {
        "home": "ann-home", "message_id": "a1/sms/webhook", "title": "Ann is not up",
        "body": "Usually up by 08:10.", "priority": "urgent", "category": "urgent",
        "alert_key": "p1:not_up:2026-01-05"}


async def test_wrong_secret_is_refused_by_the_receiver_and_not_retried(receiver: Receiver, tmp_path: Path) -> None:
    notifier = WebhookNotifier()
    result = await notifier.send(MSG, recipient(receiver.port, tmp_path, secret="not-the-secret"))
    await notifier.close()
    assert (result.ok, result.retryable, receiver.rejected) == (False, False, 1)
    assert "HTTP 401" in result.detail and "not-the-secret" not in result.detail


async def test_receiver_500_is_retryable(receiver: Receiver, tmp_path: Path) -> None:
    receiver.status = 500
    notifier = WebhookNotifier()
    result = await notifier.send(MSG, recipient(receiver.port, tmp_path))
    await notifier.close()
    assert (result.ok, result.retryable) == (False, True) and "HTTP 500: receiver is unwell" in result.detail


async def test_slow_receiver_times_out_retryably(receiver: Receiver, tmp_path: Path) -> None:
    receiver.delay_s = 2
    notifier = WebhookNotifier()
    result = await notifier.send(MSG, recipient(receiver.port, tmp_path, timeout_s=0.3))
    await notifier.close()
    assert (result.ok, result.retryable) == (False, True) and "no answer within 0.3 s" in result.detail


async def test_unreachable_receiver_and_missing_secret(tmp_path: Path) -> None:
    notifier = WebhookNotifier()
    down = await notifier.send(MSG, recipient(free_port(), tmp_path))
    no_secret = await notifier.send(MSG, RecipientConfig(
        id="sms", name="SMS", group="team", webhook=WebhookChannel(url="http://127.0.0.1:9/hook")))
    await notifier.close()
    assert (down.ok, down.retryable) == (False, True) and "cannot connect" in down.detail
    assert (no_secret.ok, no_secret.retryable) == (False, False) and "signing secret" in no_secret.detail


def test_old_timestamp_is_refused_by_the_verifier() -> None:
    from alerts.notifiers.webhook import sign

    ts, sig = sign(b"k", b"{}", now=1000)
    assert verify_signature(b"k", b"{}", ts, sig, now=1200)
    assert not verify_signature(b"k", b"{}", ts, sig, now=1400)
    assert not verify_signature(b"k", b"{}", None, sig, now=1000)
