"""The technicians' web console: what the gateway sees, what it rejected, what it is blind to.

Served by aiohttp on the config's ``console.host:console.port`` (loopback by default: a technician
reaches it over SSH port forwarding, the home opens no port). ``/`` is a small page that renders
``/api/status`` and refreshes itself; ``/api/status`` is the same data as JSON for tools. What keeps
other web pages from using it (Host, Origin, JSON, CSRF token, headers) is in
:mod:`gateway.console_security`; a tool that changes state first reads the token from ``/api/csrf``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from aiohttp import web

from alerts.pause import MAX_PAUSE
from gateway.console_security import GUARD_KEY, MAX_BODY, TOKEN_HEADER, error, json_object, protect

if TYPE_CHECKING:
    from gateway.service import Gateway

log = logging.getLogger("hearth.console")
GATEWAY_KEY: web.AppKey[Gateway] = web.AppKey("gateway")
WEB = files("gateway").joinpath("web")
STATIC = {"console.js": "text/javascript", "console.css": "text/css"}  # served as /static/NAME
MAX_KEY, MAX_BY = 200, 80  # an alert key is ~40 characters, a name far less


def _iso(t: Any) -> str | None:
    return t.isoformat(timespec="seconds") if t is not None else None


def status_snapshot(gw: Gateway) -> dict[str, Any]:
    """Everything the console shows; runs on the DB thread (it reads the store)."""
    store = gw.store
    assert store is not None
    health = [{"sensor": h.sensor_id, "source": h.source, "last_seen": _iso(h.last_seen),
               "available": h.available, "battery": h.battery, "linkquality": h.linkquality,
               "tamper": h.tamper} for h in store.health()]
    rejections = [{"source": r.source, "reason": r.reason, "device": r.device, "count": r.count,
                   "last": _iso(r.last), "detail": r.last_detail} for r in store.rejections()]
    outcomes = store.outcomes()
    alerts = [a.to_json() for a in store.alerts()[-50:]][::-1]
    for a in alerts:
        if a["key"] in outcomes:
            outcome, by, at = outcomes[a["key"]]
            a["outcome"] = {"outcome": outcome, "by": by, "at": _iso(at)}
    return {"health": health, "rejections": rejections, "alerts": alerts}


async def api_status(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY_KEY]
    data = await gw.in_db(status_snapshot, gw)
    sensors = {s.id: {"id": s.id, "kind": str(s.kind), "room": s.room, "role": s.role, "person": s.person}
               for s in gw.cfg.sensors}
    data.update({
        "home": gw.cfg.name,
        "now": _iso(gw.clock.now()),
        "broker": {"connected": bool(gw.link and gw.link.connected), "status": gw.link.status if gw.link else "",
                   "dropped": gw.link.broker_dropped if gw.link else None,
                   "disconnects": gw.link.disconnects if gw.link else 0},
        "gateway": gw.health_record(),
        "stats": vars(gw.stats),
        "sensors": list(sensors.values()),
        "unassigned_devices": [{"ieee_address": d.ieee_address, "friendly_name": d.friendly_name,
                                "model": d.model} for d in gw.adapter.unassigned_devices()],
        "routines": gw.engine.status() if gw.engine is not None else {},
        "sharing": _sharing(gw),
        "ble": {"sensors": len(gw.ble_decoder.bindings),
                "radio": gw.ble_scanner.status if gw.ble_scanner else "not scanning (no BLE sensor, or disabled)",
                "relay_topics": gw.ble_relay.topics, "counts": dict(gw.ble_decoder.counts)},
        "console": {"refused": dict(request.app[GUARD_KEY].refused)},
    })
    return web.json_response(data, dumps=functools.partial(json.dumps, default=str))


def _sharing(gw: Gateway) -> dict[str, Any]:
    """Who hears of what: the outbox's state and any privacy pause (only when recipients are set)."""
    if gw.alerting is None:
        return {"configured": False}
    delivery = gw.alerting.delivery
    now = gw.clock.now()
    return {"configured": True, "outbox": delivery.outbox.counts(), "max_pause_hours": MAX_PAUSE.days * 24,
            "pauses": [{"person": p.person, "name": delivery.people.get(p.person, p.person), "until": _iso(p.end),
                        "by": p.by} for p in delivery.pauses.active(now)],
            "people": [{"id": p.id, "name": p.name} for p in gw.cfg.people]}


def _hours(value: Any) -> float | str:
    """The pause length asked for, or what is wrong with it (the upper bound is PauseStore.start's)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"hours must be a number, not {type(value).__name__}"
    if not math.isfinite(value):  # 0 and below, and too long, are PauseStore.start's to refuse
        return f"hours must be a finite number (at most {MAX_PAUSE.days * 24}), not {value}"
    return float(value)


def _until(now: datetime, hours: float) -> datetime:
    """``now`` plus ``hours``; a length past the calendar's end becomes the calendar's end, which
    PauseStore.start then refuses with its own rule and words."""
    try:
        return now + timedelta(hours=hours)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


async def api_pause(request: web.Request) -> web.Response:
    """Privacy mode from the console: ``{"person": "p1", "hours": 4}`` or ``{"person": "p1", "end": true}``."""
    gw = request.app[GATEWAY_KEY]
    if gw.alerting is None:
        return error(409, "no recipients configured: nothing is shared")
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    person, end = body.get("person"), body.get("end") is True
    if not isinstance(person, str) or ("hours" not in body) == (not end):
        return error(400, 'send {"person": ID, "hours": N} or {"person": ID, "end": true}')
    if person not in {p.id for p in gw.cfg.people}:
        return error(404, f"unknown person {person[:MAX_KEY]!r}")
    pauses = gw.alerting.delivery.pauses
    now = gw.clock.now()
    if end:
        ended = pauses.end(person, by="console", now=now)
        if ended:  # the team's note about urgent alerts held during it is due now, not after the idle wait
            gw.alerting.delivery.wake()
        return web.json_response({"ended": len(ended)})
    hours = _hours(body["hours"])
    if isinstance(hours, str):
        return error(400, hours)
    try:
        pause = pauses.start(person, _until(now, hours), by="console", now=now)
    except ValueError as exc:
        return error(400, str(exc))
    return web.json_response({"person": person, "until": _iso(pause.end)})


async def api_outcome(request: web.Request) -> web.Response:
    """What happened, said afterwards: ``{"key": ALERT_KEY, "outcome": "real"|"false_alarm", "by": NAME}``.

    Resolves the alert (escalation stops, held messages are cancelled), keeps the outcome with who and
    when, and feeds it back to the routine core so the same false alarm becomes less likely."""
    gw = request.app[GATEWAY_KEY]
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    key, outcome, by = body.get("key"), body.get("outcome"), body.get("by")
    if not (isinstance(key, str) and isinstance(outcome, str) and isinstance(by, str)):
        return error(400, 'send {"key": ..., "outcome": "real"|"false_alarm", "by": NAME} (all strings)')
    by = by.strip()
    if outcome not in ("real", "false_alarm") or not by or len(by) > MAX_BY or not by.isprintable():
        return error(400, f"outcome must be real or false_alarm, and by a name of 1 to {MAX_BY} printable characters")
    if not key or len(key) > MAX_KEY:
        return error(400, f"key must be an alert's key (1 to {MAX_KEY} characters)")
    now = gw.clock.now()
    resolved = gw.alerting.resolve(key, by, now, outcome) if gw.alerting is not None else False
    if not resolved and gw.engine is not None:  # not open in delivery (or no recipients): tell the core
        gw.engine.record_outcome(key, outcome)
    store = gw.store
    assert store is not None
    await gw.in_db(lambda: (store.record_outcome(key, outcome, by, now), store.commit()))
    log.info("alert outcome recorded", extra={"ctx": {"key": key, "outcome": outcome, "by": by}})
    return web.json_response({"key": key, "outcome": outcome, "by": by, "at": _iso(now)})


async def api_csrf(request: web.Request) -> web.Response:
    """The token a tool sends with a state change (readable only same-origin: no CORS, Host checked)."""
    return web.json_response({"header": TOKEN_HEADER, "token": request.app[GUARD_KEY].token})


async def index(request: web.Request) -> web.Response:
    html = WEB.joinpath("console.html").read_text(encoding="utf-8")
    return web.Response(text=html.replace("{{csrf_token}}", request.app[GUARD_KEY].token), content_type="text/html")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    return web.Response(text=WEB.joinpath(name).read_text(encoding="utf-8"), content_type=STATIC[name])


def make_app(gw: Gateway, bind_host: str = "127.0.0.1", password: str | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[GATEWAY_KEY] = gw
    protect(app, bind_host, password)
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/status", api_status)
    app.router.add_get("/api/csrf", api_csrf)
    app.router.add_post("/api/pause", api_pause)
    app.router.add_post("/api/alerts/outcome", api_outcome)
    inbox = getattr(gw, "demo_inbox", None)  # the demo's inbox (gateway.demo_inbox), only in the demo
    if inbox is not None:
        inbox.mount(app)
    return app


async def start_console(gw: Gateway, host: str, port: int) -> web.AppRunner:
    try:
        password = gw.cfg.console.password_value()
        if password == "":
            log.error("console password is empty: the console lets nobody in until it holds one")
    except ValueError as exc:  # the home stays watched; the console lets nobody in (it never runs open)
        log.error("console password unreadable: the console lets nobody in", extra={"ctx": {"error": str(exc)}})
        password = ""
    runner = web.AppRunner(make_app(gw, host, password), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1] if site._server and site._server.sockets else port
    gw.console_url = f"http://{host}:{bound}/"
    log.info("console listening", extra={"ctx": {"url": gw.console_url}})
    return runner
