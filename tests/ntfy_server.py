"""A small ntfy server for tests (no ntfy server package is reachable here), on loopback with aiohttp.

It implements the documented parts of ntfy's API that Hearth uses (https://docs.ntfy.sh/publish/,
https://docs.ntfy.sh/subscribe/api/):

- publish: ``PUT/POST /<topic>`` with the body as message and ``X-Title``/``Title``/``t``,
  ``X-Priority``/``Priority``/``p``, ``X-Tags``/``Tags``/``ta``, ``X-Sequence-ID``/``Sequence-ID``/``SID``
  headers, or ``PUT/POST /<topic>/<sequence_id>``;
- JSON publish: ``POST /`` with ``{"topic", "message", "title", "priority", "tags", "actions",
  "sequence_id", ...}``;
- clear: ``PUT /<topic>/<sequence_id>/clear``;
- subscribe: ``GET /<topic>[,<topic>...]/json`` as a newline-delimited JSON stream (``open``,
  ``keepalive`` and ``message`` events) with ``poll=1`` and ``since=all|<id>|<unix time>``;
- ``Authorization: Bearer <token>`` when the server is given tokens.

Publishing again with the same sequence id *replaces* the notification on a phone: :meth:`displayed`
is what a subscribed phone would show. Test knobs: :meth:`fail_next` (answer HTTP errors) and ``delay_s``
(a slow server). :func:`press_action` does what the ntfy app does when an ``http`` action is pressed.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from typing import Any

import aiohttp
from aiohttp import web

PRIORITY_NAMES = {"min": 1, "low": 2, "default": 3, "high": 4, "urgent": 5, "max": 5}
_HEADER_ALIASES = {
    "title": ("X-Title", "Title", "ti", "t"),
    "priority": ("X-Priority", "Priority", "prio", "p"),
    "tags": ("X-Tags", "Tags", "tag", "ta"),
    "sequence_id": ("X-Sequence-ID", "Sequence-ID", "SID"),
    "click": ("X-Click", "Click"),
    "message": ("X-Message", "Message", "m"),
    "filename": ("X-Filename", "Filename", "file", "f"),
}


def _priority(value: Any) -> int:
    if value in (None, ""):
        return 3
    if isinstance(value, int):
        p = value
    elif str(value).isdigit():
        p = int(value)
    else:
        p = PRIORITY_NAMES.get(str(value).lower(), 0)
    if not 1 <= p <= 5:
        raise web.HTTPBadRequest(text='{"code":40007,"error":"invalid priority"}')
    return p


@dataclass
class NtfyServer:
    """Start with ``await server.start()`` (or ``async with``); ``server.url`` is its base URL."""

    tokens: set[str] = field(default_factory=set)  # empty: anyone may publish/subscribe
    delay_s: float = 0.0
    keepalive_s: float = 30.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every publish request, with headers
    attachments: dict[str, bytes] = field(default_factory=dict)  # uploaded files by name
    _failures: list[int] = field(default_factory=list)
    _subscribers: list[tuple[set[str], asyncio.Queue]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> NtfyServer:
        app = web.Application()
        app.router.add_post("/", self._json_publish)
        app.router.add_put("/", self._json_publish)
        app.router.add_get("/{topics}/json", self._subscribe)
        app.router.add_put("/{topic}/{seq}/clear", self._clear)
        app.router.add_route("*", "/{topic}/{seq}", self._publish)
        app.router.add_route("*", "/{topic}", self._publish)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for _, q in self._subscribers:
            q.put_nowait(None)
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> NtfyServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- test knobs and views -------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` publish requests with HTTP ``status``."""
        self._failures.extend([status] * times)

    def topic_messages(self, topic: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["topic"] == topic and m["event"] == "message"]

    def displayed(self, topic: str) -> list[dict[str, Any]]:
        """What a phone subscribed to ``topic`` shows: one notification per sequence id, the latest."""
        shown: dict[str, dict[str, Any]] = {}
        for m in self.messages:
            if m["topic"] != topic:
                continue
            seq = m.get("sequence_id") or m["id"]
            if m["event"] == "message":
                shown.pop(seq, None)
                shown[seq] = m
            elif m["event"] in ("message_clear", "message_delete"):
                shown.pop(seq, None)
        return list(shown.values())

    # ---- handlers -------------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        if not self.tokens:
            return
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise web.HTTPForbidden(text='{"code":40301,"http":403,"error":"forbidden"}',
                                    content_type="application/json")

    async def _gate(self, request: web.Request) -> web.Response | None:
        """Authorize, be slow if asked, and answer a queued failure if any."""
        self._authorize(request)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self._failures:
            status = self._failures.pop(0)
            return web.json_response({"code": status * 100, "http": status, "error": "test failure"}, status=status)
        return None

    def _store(self, topic: str, event: str, **fields: Any) -> dict[str, Any]:
        now = int(time.time())
        msg = {"id": secrets.token_urlsafe(9)[:12], "time": now, "expires": now + 43200, "event": event,
               "topic": topic}
        msg.update({k: v for k, v in fields.items() if v not in (None, "", [], ())})
        self.messages.append(msg)
        for topics, q in self._subscribers:
            if topic in topics:
                q.put_nowait(msg)
        return msg

    async def _publish(self, request: web.Request) -> web.Response:
        if request.method not in ("PUT", "POST"):
            raise web.HTTPMethodNotAllowed(request.method, ["PUT", "POST"])
        failure = await self._gate(request)
        if failure is not None:
            return failure
        raw = await request.read()

        def header(name: str) -> str | None:
            value = next((request.headers[h] for h in _HEADER_ALIASES[name] if h in request.headers), None)
            # ntfy decodes RFC 2047 encoded words, so non-ASCII text and line breaks fit in a header
            return str(make_header(decode_header(value))) if value and "=?" in value else value

        attachment = None
        if header("filename"):  # a file upload: the body is the attachment, the message is in a header
            attachment = {"name": header("filename"), "size": len(raw), "type": request.content_type}
            self.attachments[header("filename") or ""] = raw
            body = header("message") or ""
        else:
            body = raw.decode("utf-8")

        topic = request.match_info["topic"]
        seq = request.match_info.get("seq") or header("sequence_id")
        tags = [t.strip() for t in (header("tags") or "").split(",") if t.strip()]
        self.requests.append({"topic": topic, "headers": dict(request.headers), "body": body})
        msg = self._store(topic, "message", message=body, title=header("title"),
                          priority=_priority(header("priority")), tags=tags, sequence_id=seq,
                          click=header("click"), attachment=attachment)
        return web.json_response(msg)

    async def _json_publish(self, request: web.Request) -> web.Response:
        failure = await self._gate(request)
        if failure is not None:
            return failure
        try:
            data = json.loads(await request.read())
        except ValueError:
            raise web.HTTPBadRequest(text='{"code":40024,"error":"invalid request: body must be JSON"}') from None
        if not isinstance(data, dict) or not isinstance(data.get("topic"), str):
            raise web.HTTPBadRequest(text='{"code":40009,"error":"invalid topic"}')
        self.requests.append({"topic": data["topic"], "headers": dict(request.headers), "json": data})
        for action in data.get("actions") or []:
            if action.get("action") not in ("view", "http", "broadcast", "copy") or not action.get("label"):
                raise web.HTTPBadRequest(text='{"code":40018,"error":"invalid action"}')
        msg = self._store(data["topic"], "message", message=data.get("message", ""), title=data.get("title"),
                          priority=_priority(data.get("priority")), tags=data.get("tags") or [],
                          actions=data.get("actions") or [], sequence_id=data.get("sequence_id"),
                          click=data.get("click"), attachment=data.get("attach"))
        return web.json_response(msg)

    async def _clear(self, request: web.Request) -> web.Response:
        self._authorize(request)
        msg = self._store(request.match_info["topic"], "message_clear", sequence_id=request.match_info["seq"])
        return web.json_response(msg)

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        self._authorize(request)
        topics = set(request.match_info["topics"].split(","))
        poll = request.query.get("poll") in ("1", "true", "yes")
        since = request.query.get("since")
        backlog: list[dict[str, Any]] = []
        if since:
            ids = [m["id"] for m in self.messages]
            if since == "all":
                start = 0
            elif since in ids:
                start = ids.index(since) + 1
            elif since.isdigit():
                start = next((i for i, m in enumerate(self.messages) if m["time"] >= int(since)), len(ids))
            else:
                start = len(ids)
            backlog = [m for m in self.messages[start:] if m["topic"] in topics]
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson; charset=utf-8"})
        await resp.prepare(request)
        q: asyncio.Queue = asyncio.Queue()
        if not poll:
            self._subscribers.append((topics, q))
            now = int(time.time())
            await resp.write((json.dumps({"id": secrets.token_urlsafe(9)[:12], "time": now, "event": "open",
                                          "topic": ",".join(sorted(topics))}) + "\n").encode())
        try:
            for m in backlog:
                await resp.write((json.dumps(m) + "\n").encode())
            while not poll:
                try:
                    m = await asyncio.wait_for(q.get(), self.keepalive_s)
                except TimeoutError:
                    m = {"id": secrets.token_urlsafe(9)[:12], "time": int(time.time()), "event": "keepalive",
                         "topic": ",".join(sorted(topics))}
                if m is None:
                    break
                await resp.write((json.dumps(m) + "\n").encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if not poll:
                self._subscribers.remove((topics, q))
        return resp


async def press_action(message: dict[str, Any], label: str) -> int:
    """Do what the ntfy phone app does when the ``http`` action ``label`` is pressed; return the status."""
    action = next(a for a in message.get("actions", []) if a["label"] == label)
    assert action["action"] == "http", action
    async with aiohttp.ClientSession() as session, session.request(
            action.get("method", "POST"), action["url"], data=(action.get("body") or "").encode(),
            headers=action.get("headers") or {}) as resp:
        return resp.status
