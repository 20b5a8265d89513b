"""The demo's inbox: where the demo recipients' messages land, so a newcomer can see who was told what.

Only the demo mounts it (on the console's aiohttp app). The demo recipients (Sam of the wellbeing team,
Jo of Ann's Community Circle) have a *real* signed webhook channel pointing here, so every message takes
the whole real path: policy -> consent gate -> outbox -> webhook notifier -> HTTP -> this receiver.

- ``POST /inbox/hook``: the webhook receiver. Checks the HMAC signature and timestamp with
  :func:`alerts.notifiers.webhook.verify_signature` (401 otherwise), drops repeats of a message id
  (the notifier's ``Idempotency-Key``), keeps each message in memory and as a line of ``inbox.jsonl``.
  The webhook JSON names attachments only, so the digest's chart is copied at receipt from the
  outbox's own SQLite file (the exact bytes that were attached) into ``charts/``.
- ``GET /inbox``: per recipient, newest first: title, body, category and time (the home's clock,
  which in the demo runs fast), with the digest's chart. ``GET /inbox/messages.json``: the same as JSON.

>>> import tempfile
>>> inbox = DemoInbox(Path(tempfile.mkdtemp()), b"secret")
>>> inbox.messages
[]
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import socket
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from alerts.notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from gateway.console_security import signed_by_hmac

log = logging.getLogger("hearth.demo_inbox")

HOOK_PATH = "/inbox/hook"
PAGE_PATH = "/inbox"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class InboxMessage:
    """One message as received (what the webhook JSON carries, plus when it arrived)."""

    message_id: str
    recipient: str
    category: str
    title: str
    body: str
    priority: str
    received_at: str  # real time, ISO 8601 UTC
    home_time: str  # the home's clock (the demo's sped-up one), ISO 8601
    alert_key: str | None = None
    replaces: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    chart: str | None = None  # file name under charts/, when a PNG was attached


def pick_port(host: str, preferred: int) -> int:
    """``preferred`` if it is free on ``host``, else any free port (the demo must start anyway)."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free port on {host}")


class DemoInbox:
    """The receiver and the page. ``secret`` is the webhook signing secret the demo wrote; ``outbox_path``
    the gateway's database, where the outbox keeps them (charts are read from it); ``clock`` the home's clock."""

    def __init__(self, folder: Path, secret: bytes, *, clock: Any = None, tz: ZoneInfo | None = None,
                 names: dict[str, str] | None = None, outbox_path: Path | None = None):
        self.folder = folder
        self.secret = secret
        self.clock = clock
        self.tz = tz or ZoneInfo("UTC")
        self.names = names or {}
        self.outbox_path = outbox_path
        self.path = folder / "inbox.jsonl"
        self.charts = folder / "charts"
        self.charts.mkdir(parents=True, exist_ok=True)
        self.messages: list[InboxMessage] = []
        self.refused = 0
        if self.path.exists():  # the page survives a restart of the demo on the same folder
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self.messages.append(InboxMessage(**json.loads(line)))
        self._ids = {m.message_id for m in self.messages}

    def mount(self, app: web.Application) -> None:
        app.router.add_post(HOOK_PATH, self.hook)
        app.router.add_get(PAGE_PATH, self.page)
        app.router.add_get(PAGE_PATH + "/messages.json", self.messages_json)
        app.router.add_get(PAGE_PATH + "/inbox.css", self.css)
        app.router.add_get(PAGE_PATH + "/charts/{name}", self.chart)

    # ---- receiving ---------------------------------------------------------------------------------

    @signed_by_hmac  # the console's CSRF token is for browsers; this caller proves itself by its signature
    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(self.secret, body, request.headers.get(TIMESTAMP_HEADER),
                                request.headers.get(SIGNATURE_HEADER), now=time.time()):
            self.refused += 1
            log.warning("inbox refused a webhook with a bad or stale signature")
            return web.Response(status=401, text="bad signature")
        try:
            data = json.loads(body)
            msg = InboxMessage(
                message_id=str(data["message_id"]), recipient=str(data["recipient"]),
                category=str(data["category"]), title=str(data["title"]), body=str(data["body"]),
                priority=str(data.get("priority", "")), received_at=datetime.now(UTC).isoformat(timespec="seconds"),
                home_time=(self.clock.now() if self.clock is not None else datetime.now(UTC)).isoformat(
                    timespec="seconds"),
                alert_key=data.get("alert_key"), replaces=data.get("replaces"),
                attachments=list(data.get("attachments") or []))
        except (ValueError, KeyError, TypeError) as exc:
            return web.Response(status=400, text=f"not a Hearth message: {exc}")
        if msg.message_id in self._ids:  # a retry of one we have: same answer, kept once
            return web.Response(text="already have it")
        if any(a.get("mime_type") == "image/png" for a in msg.attachments):
            msg.chart = await asyncio.to_thread(self._copy_chart, msg.message_id)
        self._ids.add(msg.message_id)
        self.messages.append(msg)
        line = json.dumps(asdict(msg), ensure_ascii=False) + "\n"
        await asyncio.to_thread(self._append, line)
        log.info("inbox: %s for %s", msg.category, msg.recipient, extra={"ctx": {"title": msg.title}})
        return web.Response(text="ok")

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)

    def _copy_chart(self, message_id: str) -> str | None:
        """Copy the attached PNG from the outbox (read-only) into ``charts/``; None if it cannot be read."""
        if self.outbox_path is None or not self.outbox_path.exists():
            return None
        try:
            con = sqlite3.connect(f"file:{self.outbox_path}?mode=ro", uri=True, timeout=5)
            try:
                row = con.execute("SELECT data FROM outbox_attachments WHERE message_id=? AND mime='image/png' "
                                  "ORDER BY idx LIMIT 1", (message_id,)).fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            log.warning("inbox could not read the chart of %s: %s", message_id, exc)
            return None
        if row is None:
            return None
        name = _SAFE.sub("_", message_id) + ".png"
        (self.charts / name).write_bytes(row[0])
        return name

    # ---- showing -----------------------------------------------------------------------------------

    def by_recipient(self) -> dict[str, list[InboxMessage]]:
        """Messages per recipient, newest first (recipients in the config's order, then any others)."""
        have = {m.recipient for m in self.messages}
        order = dict.fromkeys([r for r in self.names if r in have] + [m.recipient for m in self.messages])
        return {r: [m for m in reversed(self.messages) if m.recipient == r] for r in order}

    async def messages_json(self, _request: web.Request) -> web.Response:
        return web.json_response({r: [asdict(m) for m in ms] for r, ms in self.by_recipient().items()})

    async def chart(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.charts / name
        if _SAFE.sub("_", name) != name or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "image/png"})

    def _when(self, m: InboxMessage) -> str:
        t = datetime.fromisoformat(m.home_time).astimezone(self.tz)
        return f"{t:%a %d %b %H:%M}"

    def render(self) -> str:
        e = html.escape
        parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Hearth demo inbox</title>"
                 "<meta http-equiv='refresh' content='5'><meta name='viewport' content='width=device-width'>"
                 f"<link rel='stylesheet' href='{PAGE_PATH}/inbox.css'></head><body><h1>Demo inbox</h1>"
                 "<p class='note'>What the demo's recipients were sent, newest first. Times are the demo "
                 "home's clock, which runs fast. Only what the person consented to reaches each of them.</p>"]
        groups = self.by_recipient()
        if not groups:
            parts.append("<p class='empty'>Nothing yet. The first message usually comes when the routine "
                         "has been learned (an alert) or the morning after a day (Jo's digest).</p>")
        for rid, msgs in groups.items():
            parts.append(f"<section><h2>{e(self.names.get(rid, rid))} <small>({len(msgs)})</small></h2>")
            for m in msgs:
                chart = (f"<img src='{PAGE_PATH}/charts/{e(m.chart)}' alt='the day against a usual day' "
                         "width='360'>" if m.chart else "")
                update = " update" if m.replaces else ""
                parts.append(f"<article class='{e(m.category)}{update}'><header><span class='cat'>{e(m.category)}"
                             f"</span> <time>{e(self._when(m))}</time></header><h3>{e(m.title)}</h3>"
                             f"<p>{e(m.body).replace(chr(10), '<br>')}</p>{chart}</article>")
            parts.append("</section>")
        parts.append("</body></html>")
        return "".join(parts)

    async def page(self, _request: web.Request) -> web.Response:
        return web.Response(text=self.render(), content_type="text/html")

    async def css(self, _request: web.Request) -> web.Response:
        """The page's style as a file: the console's Content-Security-Policy forbids inline style."""
        return web.Response(text=_CSS, content_type="text/css")


_CSS = """body{font-family:system-ui,sans-serif;max-width:46rem;margin:1rem auto;padding:0 1rem;color:#222}
.note{color:#555}.empty{font-style:italic}section{margin-top:1.5rem}
article{border:1px solid #ddd;border-left:6px solid #888;border-radius:6px;padding:.5rem .8rem;margin:.6rem 0}
article.urgent{border-left-color:#c0392b}article.concern{border-left-color:#e67e22}
article.digest{border-left-color:#2e6eb4}article.trends{border-left-color:#27ae60}article.update{opacity:.8}
h3{margin:.3rem 0;font-size:1.05rem}.cat{font-size:.8rem;text-transform:uppercase;color:#555}
time{color:#777;font-size:.85rem}img{max-width:100%;height:auto;display:block;margin-top:.4rem}"""


def with_demo_recipients(cfg: Any, hook_url: str, secret_file: Path) -> Any:
    """The demo home's config plus Sam (wellbeing team) and Jo (Ann's daughter), both reached through the
    signed webhook to ``hook_url``; validated like any config (consent references checked)."""
    from gateway.config import HomeConfig

    person = cfg.people[0].id
    hook = {"url": hook_url, "secret_file": secret_file}
    data = cfg.model_dump()
    data["recipients"] = [
        {"id": "sam", "name": "Sam Okafor (wellbeing team)", "group": "team", "webhook": hook},
        {"id": "jo", "name": "Jo (daughter)", "group": "circle", "webhook": hook},
    ]
    data["consent"] = [
        {"person": person, "recipient": "sam", "receives": ["urgent", "concern", "trends", "technical"],
         "recorded_by": "demo"},
        {"person": person, "recipient": "jo", "receives": ["urgent", "digest"], "quiet_hours": "21:30-08:00",
         "recorded_by": "demo"},
    ]
    data["escalation"] = {"urgent": ["sam", "jo"]}
    return HomeConfig.model_validate(data)
