"""The demo's inbox: a real signed webhook into a real aiohttp server, the page a newcomer opens, the
digest chart copied from the outbox; and ``hearth run`` (the demo) end to end, its inbox filling up."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path

import aiohttp
from aiohttp import web

from alerts.channels import WebhookChannel
from alerts.config import RecipientConfig
from alerts.digest import digest_message
from alerts.notifiers.base import OutgoingMessage
from alerts.notifiers.webhook import WebhookNotifier
from alerts.outbox import Outbox
from gateway.commands.run import demo_config
from gateway.demo_inbox import DemoInbox, pick_port, with_demo_recipients
from routines.summary import DaySummary
from tests.conftest import PATIENCE_S

SECRET = "demo-inbox-test-secret"


def recipient(rid: str, url: str, secret_file: Path) -> RecipientConfig:
    return RecipientConfig(id=rid, name=rid.title(), group="circle",
                           webhook=WebhookChannel(url=url, secret_file=secret_file))


def message(mid: str, rid: str, title: str, body: str = "Body.", category: str = "urgent") -> OutgoingMessage:
    return OutgoingMessage(mid, rid, "webhook", category, title, body, "urgent", alert_key=f"p1:{mid}")


class Served:
    """The inbox's routes on a real aiohttp server on loopback."""

    def __init__(self, inbox: DemoInbox) -> None:
        self.inbox = inbox

    async def __aenter__(self) -> Served:
        app = web.Application()
        self.inbox.mount(app)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()
        await self.runner.cleanup()

    async def get(self, path: str) -> tuple[int, bytes]:
        async with self.http.get(self.base + path) as r:
            return r.status, await r.read()


async def test_signed_messages_land_newest_first_per_recipient_and_forgeries_do_not(tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    inbox = DemoInbox(tmp_path / "inbox", SECRET.encode(), names={"amy": "Amy", "sam": "Sam Okafor (wellbeing team)"})
    notifier, forger = WebhookNotifier(home="demo-home"), WebhookNotifier(home="demo-home")
    async with Served(inbox) as s:
        url = s.base + "/inbox/hook"
        sam, jo = recipient("sam", url, secret_file), recipient("jo", url, secret_file)
        assert (await notifier.send(message("m1", "jo", "Ann: not up"), jo)).ok
        assert (await notifier.send(message("m2", "sam", "Ann: not up"), sam)).ok
        assert (await notifier.send(message("m3", "sam", "Ann: <b>silence</b>", "Line one.\nLine two."), sam)).ok
        assert (await notifier.send(message("m3", "sam", "Ann: <b>silence</b>"), sam)).ok  # a retry: kept once
        wrong = tmp_path / "wrong.secret"
        wrong.write_text("not-the-secret")
        forged = await forger.send(message("m4", "sam", "Forged"), recipient("sam", url, wrong))
        assert (forged.ok, forged.retryable, forged.detail) == (False, False, f"webhook {url}: HTTP 401: bad signature")
        status, listing = await s.get("/inbox/messages.json")
        status_page, page = await s.get("/inbox")
    await notifier.close()
    await forger.close()
    assert status == status_page == 200
    data = json.loads(listing)
    assert list(data) == ["sam", "jo"]  # named recipients in the config's order first, then others
    assert [(m["message_id"], m["title"]) for m in data["sam"]] == [("m3", "Ann: <b>silence</b>"), ("m2", "Ann: not up")]
    assert [m["message_id"] for m in data["jo"]] == ["m1"]
    assert inbox.refused == 1
    html = page.decode()
    assert "Forged" not in html and "<b>silence</b>" not in html  # refused, and titles are escaped
    assert "Ann: &lt;b&gt;silence&lt;/b&gt;" in html and "Line one.<br>Line two." in html
    assert html.index("Sam Okafor (wellbeing team)") < html.index("<h2>jo")
    sam_part = html[html.index("Sam Okafor"):html.index("<h2>jo")]
    assert sam_part.index("silence") < sam_part.index("not up")  # newest first
    # kept on disk: the page survives a restart of the demo on the same folder
    again = DemoInbox(tmp_path / "inbox", SECRET.encode())
    assert [m.message_id for m in again.messages] == ["m1", "m2", "m3"]


async def test_a_digest_shows_the_chart_that_was_attached(tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    d = date(2026, 1, 5)
    summary = DaySummary("p1", d, dtime(7, 40), dtime(7, 35), dtime(22, 15), dtime(22, 30), {"kettle": 4}, 30, [], 0,
                         (0, 0, 0, 0, 0, 0, 0, 5, 9, 4) + (2,) * 14, (0.5,) * 24, [], [])
    msg = digest_message(summary, "Ann", "jo", "webhook")
    box = Outbox(tmp_path / "alerts.sqlite3")  # the delivery service writes every message here first
    box.enqueue(msg, person="p1", now=datetime(2026, 1, 6, 9, 0, tzinfo=UTC))
    inbox = DemoInbox(tmp_path / "inbox", SECRET.encode(), outbox_path=tmp_path / "alerts.sqlite3")
    notifier = WebhookNotifier(home="demo-home")
    async with Served(inbox) as s:
        assert (await notifier.send(msg, recipient("jo", s.base + "/inbox/hook", secret_file))).ok
        _, page = await s.get("/inbox")
        (src,) = re.findall(r"<img src='([^']+)'", page.decode())
        status, png = await s.get(src)
        missing, _ = await s.get("/inbox/charts/..%2Fhook.secret")
    await notifier.close()
    box.close()
    assert status == 200 and png == msg.attachments[0][1] and png.startswith(b"\x89PNG")
    assert missing == 404
    assert "Ann&#x27;s day: Monday 5 January" in page.decode()


def test_the_demo_recipients_are_sam_and_jo_with_their_consent() -> None:
    cfg = with_demo_recipients(demo_config(), "http://127.0.0.1:8080/inbox/hook", Path("/tmp/x.secret"))
    assert [(r.id, r.group, r.channels, r.webhook.url) for r in cfg.recipients] == [
        ("sam", "team", ("webhook",), "http://127.0.0.1:8080/inbox/hook"),
        ("jo", "circle", ("webhook",), "http://127.0.0.1:8080/inbox/hook")]
    assert [(c.recipient, c.receives, c.quiet_hours) for c in cfg.consent] == [
        ("sam", ["urgent", "concern", "trends", "technical"], None), ("jo", ["urgent", "digest"], "21:30-08:00")]
    assert cfg.escalation.urgent == ["sam", "jo"]
    assert [s.id for s in cfg.sensors] == [s.id for s in demo_config().sensors]


def test_pick_port_moves_off_a_port_in_use() -> None:
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert pick_port("127.0.0.1", taken) != taken


def test_hearth_run_demo_fills_the_inbox(tmp_path: Path) -> None:
    """The demo as a newcomer runs it (sped up): the banner names the inbox, and Jo's digest of the first
    day lands in it through the real webhook."""
    cmd = [sys.executable, "-m", "gateway.cli", "run", "--speed", "14400", "--db", str(tmp_path / "h.sqlite3"),
           "--for-seconds", "60"]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        url, data, deadline = None, {}, time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline and not any(m["category"] == "digest" for m in data.get("jo", [])):
            time.sleep(0.3)
            url = url or next((m.group(1) for ln in list(lines) if (m := re.search(r"inbox:\s+(\S+)", ln))), None)
            if url:
                try:
                    with urllib.request.urlopen(url + "/messages.json", timeout=PATIENCE_S) as r:
                        data = json.load(r)
                except OSError:
                    continue
        assert url is not None, "".join(lines)
        with urllib.request.urlopen(url, timeout=PATIENCE_S) as r:
            page = r.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(PATIENCE_S)
        reader.join(5)
    digests = [m for m in data.get("jo", []) if m["category"] == "digest"]
    assert digests, "".join(lines[-30:])
    assert digests[-1]["title"].startswith("Ann's day: ") and digests[-1]["chart"]
    assert "Jo (daughter)" in page and "Ann&#x27;s day: " in page and "<img src='/inbox/charts/" in page
    assert "refused a webhook" not in "".join(lines)
