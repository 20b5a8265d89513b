"""``hearth send-test`` as a technician runs it: a real process against real loopback servers."""

from __future__ import annotations

import asyncio
import ssl
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from alerts.notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.conftest import free_port
from tests.ntfy_server import NtfyServer
from tests.test_notifier_email import PASSWORD, Inbox, authenticator, self_signed

HOOK_SECRET = "send-test-hook-secret"


async def hearth(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "gateway.cli", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
def smtp_server(tmp_path: Path):
    cert, key = self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=ctx,
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    yield controller.port, inbox, cert
    controller.stop()


@pytest.fixture
async def hook():
    got: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(HOOK_SECRET.encode(), body, request.headers.get(TIMESTAMP_HEADER),
                                request.headers.get(SIGNATURE_HEADER), now=time.time()):
            return web.Response(status=401)
        got.append(body)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1], got
    await runner.cleanup()


def write_config(tmp_path: Path, ntfy_url: str, hook_port: int, smtp_port: int, cert: Path) -> Path:
    (tmp_path / "smtp.pw").write_text(PASSWORD)
    (tmp_path / "hook.secret").write_text(HOOK_SECRET)
    cfg = tmp_path / "home.yaml"
    cfg.write_text(f"""
name: ann-home
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
smtp:
  host: 127.0.0.1
  port: {smtp_port}
  username: hearth
  password_file: {tmp_path / "smtp.pw"}
  from_address: hearth@ann-home.example.org
  ca_file: {cert}
recipients:
  - id: sam
    name: Sam Okafor
    group: team
    ntfy: {{server: "{ntfy_url}", topic: hearth-sam-4f9c, allow_http: true}}
    email: sam@example.org
    webhook: {{url: "http://127.0.0.1:{hook_port}/hook", secret_file: {tmp_path / "hook.secret"}}}
  - id: jo
    name: Jo (daughter)
    group: circle
    webhook: {{url: "http://127.0.0.1:{free_port()}/hook", secret_file: {tmp_path / "hook.secret"}}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent, concern, technical]}}
  - {{person: p1, recipient: jo, receives: [urgent, digest]}}
""")
    return cfg


async def test_every_channel_gets_a_test_message_and_exit_code_says_so(tmp_path: Path, smtp_server, hook) -> None:
    smtp_port, inbox, cert = smtp_server
    hook_port, hook_got = hook
    async with NtfyServer() as ntfy:
        cfg = write_config(tmp_path, ntfy.url, hook_port, smtp_port, cert)
        code, out, err = await hearth("send-test", "--config", str(cfg), "--recipient", "sam")
        [shown] = ntfy.displayed("hearth-sam-4f9c")
    assert code == 0, out + err
    lines = out.splitlines()
    assert [ln.split()[:2] for ln in lines[:3]] == [["ntfy", "OK:"], ["email", "OK:"], ["webhook", "OK:"]]
    assert lines[-1] == "3 of 3 channel(s) OK for sam"
    assert shown["title"] == "Hearth test message (ann-home)"
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "sam@example.org"
    assert len(hook_got) == 1 and b'"category": "technical"' in hook_got[0]
    assert PASSWORD not in out + err


async def test_a_failed_channel_makes_the_exit_code_non_zero(tmp_path: Path, smtp_server, hook) -> None:
    smtp_port, _, cert = smtp_server
    cfg = write_config(tmp_path, "http://127.0.0.1:9", hook[0], smtp_port, cert)
    code, out, _ = await hearth("send-test", "--config", str(cfg), "--recipient", "jo", "--timeout", "3")
    assert code == 1
    assert out.splitlines()[0].startswith("webhook  FAILED (may be temporary): webhook http://127.0.0.1:")
    assert "cannot connect" in out and out.splitlines()[-1] == "0 of 1 channel(s) OK for jo; failed: webhook"


async def test_unknown_recipient_and_broken_config(tmp_path: Path, smtp_server, hook) -> None:
    cfg = write_config(tmp_path, "http://127.0.0.1:9", hook[0], smtp_server[0], smtp_server[2])
    code, _, err = await hearth("send-test", "--config", str(cfg), "--recipient", "nobody")
    assert code == 2 and "no recipient 'nobody' (recipients: sam, jo)" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("timezone: Europe/London\npeople: [{id: p1, name: Ann}]\nrecipients:\n  - {id: x, name: X, group: team}\n")
    code, _, err = await hearth("send-test", "--config", str(bad), "--recipient", "x")
    assert code == 2 and f"{bad}:4: recipients[0]" in err and "no channel" in err
