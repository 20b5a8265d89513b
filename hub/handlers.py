"""The hub's routes behind sign-in: one page per role at ``/``, alerts and people, the workers' three
actions, and the JSON API (same data, same rules). See ``hub/web.py`` for what guards them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from hub import pages, views
from hub.db import Db
from hub.web import HUB, Hub, form, see_other, session_of

OUTCOMES = ("false_alarm", "real")
OUTCOME_WORDS = {"false_alarm": "all well", "real": "needed help", None: ""}
MAX_NOTE = 1000


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")


def _tzs(db: Db, user: Any) -> dict[str, str | None]:
    return {h.home: h.status.get("timezone") for h in views.homes(db, user).values()}


def _not_found(request: web.Request, what: str) -> web.Response:
    s = session_of(request)
    if request.path.startswith("/api/"):
        return web.json_response({"error": f"no such {what} for you"}, status=404)
    return _html(pages.error(404, f"There is no such {what} for you.", s.user, s.csrf), 404)


def _forbidden(request: web.Request, why: str) -> web.Response:
    s = session_of(request)
    if request.path.startswith("/api/"):
        return web.json_response({"error": why}, status=403)
    return _html(pages.error(403, why, s.user, s.csrf), 403)


async def home_page(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    now = hub.clock()
    if s.user.role == "worker":
        rows, tzs = await hub.read(lambda db: (views.board(db, s.user, now), _tzs(db, s.user)))
        await hub.audit(s.user.name, "viewed the board", detail=f"{len(rows)} people")
        return _html(pages.board(rows, tzs, s.user, s.csrf))
    if s.user.role == "technician":
        rows, dropped = await hub.read(lambda db: (views.fleet(db, now), views.dropped(db)))
        await hub.audit(s.user.name, "viewed the homes' health")
        return _html(pages.fleet(rows, s.user, s.csrf, hub.link(), dropped))
    sections = await hub.read(_circle, s.user)
    await hub.audit(s.user.name, "viewed their Circle page", s.user.home)
    return _html(pages.circle(sections, s.user, s.csrf))


def _circle(db: Db, user: Any) -> list[tuple[Any, ...]]:
    hs = views.homes(db, user)
    h = hs.get(user.home)
    if h is None:
        return []
    out = []
    for p in h.people():
        if views.allowed(user, hs, h.home, p["id"]):
            out.append((h.name_of(p["id"]), views.alerts(db, user, open_only=False, home=h.home, person=p["id"])[:20],
                        views.notes(db, user, h.home, p["id"]), h.status.get("timezone"),
                        views.week(db, user, h.home, p["id"])))
    return out


async def alert_page(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    aid = _int(request.match_info["id"])

    def read(db: Db) -> tuple[dict[str, Any] | None, str | None, dict[str, Any] | None]:
        a = views.alert(db, s.user, aid) if aid is not None else None
        if a is None:
            return None, None, None
        tz = views.homes(db, s.user).get(a["home"])
        return a, tz.status.get("timezone") if tz else None, views.alert_day(db, s.user, a, hub.clock())

    a, tz, day = await hub.read(read)
    if a is None:
        await hub.audit(s.user.name, "refused: alert not theirs to see", detail=request.match_info["id"][:40])
        return _not_found(request, "alert")
    await hub.audit(s.user.name, "viewed an alert", a["home"], a["person"], a["alert_key"])
    if request.path.startswith("/api/"):
        return web.json_response(a | {"day": day})
    return _html(pages.alert(a, tz, day, s.user, s.csrf))


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 15 else None


async def _form_or_json(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    return await form(request)


async def act(request: web.Request) -> web.StreamResponse:
    """ "I'm on it" (``ack``) or "Resolved" (``resolve`` with outcome) -> the home, through the uplink."""
    hub, s = request.app[HUB], session_of(request)
    if s.user.role != "worker":
        await hub.audit(s.user.name, "refused: only wellbeing workers act on alerts", detail=request.path)
        return _forbidden(request, "Only wellbeing workers act on alerts.")
    aid, action = _int(request.match_info["id"]), request.match_info["action"]
    body = await _form_or_json(request)
    outcome = body.get("outcome") if action == "resolve" else None
    if action == "resolve" and outcome not in OUTCOMES:
        return web.json_response({"error": "outcome must be false_alarm (all well) or real (needed help)"}, status=400)
    row = await hub.read(lambda db: (views.alert(db, s.user, aid) if aid is not None else None,
                                     db.one("SELECT ack_token FROM alerts WHERE id=?", (aid,))))
    a, token_row = row
    if a is None:
        await hub.audit(s.user.name, "refused: alert not theirs to act on", detail=request.match_info["id"][:40])
        return _not_found(request, "alert")
    token = token_row[0] if token_row else None
    if not token:
        return web.json_response({"error": "this home did not give the hub a way to act on this alert"}, status=409)
    sent = hub.reply(a["home"], action, token, s.user.name, outcome)
    await hub.write(_requested, aid, f"{'I am on it' if action == 'ack' else 'Resolved: ' + OUTCOME_WORDS[outcome]}"
                    f" sent by {s.user.name}")
    await hub.audit(s.user.name, f"{'acknowledged' if action == 'ack' else 'resolved: ' + str(outcome)} an alert",
                    a["home"], a["person"], a["alert_key"] + ("" if sent else " (queued: broker link down)"))
    if request.path.startswith("/api/"):
        return web.json_response({"id": aid, "action": action, "outcome": outcome, "sent": sent}, status=202)
    return see_other(f"/alerts/{aid}")


def _requested(db: Db, aid: int, what: str) -> None:
    """What was sent, shown until the home's own event says it was done (the home may refuse it)."""
    db.execute("UPDATE alerts SET requested=? WHERE id=?", (what, aid))
    db.commit()


async def person_page(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    home, pid = request.match_info["home"], request.match_info["person"]

    def read(db: Db) -> tuple[Any, ...] | None:
        hs = views.homes(db, s.user)
        if not views.allowed(s.user, hs, home, pid) or home not in hs or s.user.role == "technician":
            return None
        h = hs[home]
        return (h.name_of(pid), views.alerts(db, s.user, home=home, person=pid),
                views.alerts(db, s.user, open_only=False, home=home, person=pid)[:30],
                views.notes(db, s.user, home, pid),
                views.person_notes(db, home, pid) if s.user.role == "worker" else [], h.status.get("timezone"),
                views.week(db, s.user, home, pid))

    data = await hub.read(read)
    if data is None:
        await hub.audit(s.user.name, "refused: person not theirs to see", home[:64], pid[:64])
        return _not_found(request, "person")
    await hub.audit(s.user.name, "viewed a person", home, pid)
    name, open_alerts, history, notes, team_notes, tz, days = data
    return _html(pages.person(name, home, pid, open_alerts, history, notes, team_notes, tz, s.user, s.csrf, days))


async def add_note(request: web.Request) -> web.StreamResponse:
    hub, s = request.app[HUB], session_of(request)
    home, pid = request.match_info["home"], request.match_info["person"]
    if s.user.role != "worker":
        return _forbidden(request, "Only wellbeing workers write notes.")
    def may(db: Db) -> bool:  # a home this hub hears from, as the person's page asks: no notes about nowhere
        hs = views.homes(db, s.user)
        return home in hs and bool(views.allowed(s.user, hs, home, pid))
    if not await hub.read(may):
        return _not_found(request, "person")
    text = (await _form_or_json(request)).get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
        return web.json_response({"error": f"a note is 1 to {MAX_NOTE} characters"}, status=400)

    def write(db: Db) -> None:
        db.execute("INSERT INTO person_notes (home, person, author, at, text) VALUES (?,?,?,?,?)",
                   (home, pid, s.user.name, hub.clock(), text.strip()))
        db.commit()
    await hub.write(write)
    await hub.audit(s.user.name, "wrote a note", home, pid)
    return see_other(f"/people/{quote(home, safe='')}/{quote(pid, safe='')}")  # ids from the URL, decoded


async def chart(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    nid = _int(request.match_info["id"])
    png = await hub.read(views.chart, s.user, nid) if nid is not None else None
    if png is None:
        return _not_found(request, "chart")
    return web.Response(body=png, content_type="image/png")


async def handover_page(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    if s.user.role != "worker":
        return _forbidden(request, "The handover list is for wellbeing workers.")
    data, tzs = await hub.read(lambda db: (views.handover(db, s.user, s.previous_visit), _tzs(db, s.user)))
    await hub.audit(s.user.name, "viewed the handover list")
    return _html(pages.handover(data, tzs, s.user, s.csrf))


async def audit_page(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    if s.user.role != "worker":
        return _forbidden(request, "The audit log is for the wellbeing team.")
    rows = await hub.read(_audit_rows, s.user)
    await hub.audit(s.user.name, "viewed the audit log")
    return _html(pages.audit(rows, s.user, s.csrf))


def _audit_rows(db: Db, user: Any) -> list[tuple[Any, ...]]:
    """The audit log a worker may read: a worker of a team sees entries about the team's homes and
    those about no home (sign-ins, board views), never who looked at another team's people and alerts."""
    homes = views.scope(user)
    cond = "" if homes is None else f" WHERE home IS NULL OR home IN ({','.join('?' * len(homes))})"
    return db.all(f"SELECT at, name, action, home, person, detail FROM audit{cond} ORDER BY id DESC LIMIT 300",
                  list(homes or ()))


# ---- JSON API --------------------------------------------------------------------------------------

async def api_alerts(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    rows = await hub.read(views.alerts, s.user)
    await hub.audit(s.user.name, "listed open alerts (API)", detail=f"{len(rows)} alerts")
    return web.json_response({"alerts": rows})


async def api_board(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    if s.user.role != "worker":
        return _forbidden(request, "The board is for wellbeing workers.")
    rows = await hub.read(views.board, s.user, hub.clock())
    await hub.audit(s.user.name, "viewed the board (API)")
    return web.json_response({"people": rows})


async def api_homes(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    if s.user.role != "technician":
        return _forbidden(request, "The homes' health is for technicians.")
    rows, dropped = await hub.read(lambda db: (views.fleet(db, hub.clock()), views.dropped(db)))
    return web.json_response({"homes": rows, "hub": {"link": hub.link(), "dropped": dropped}})


async def api_refused(request: web.Request) -> web.Response:
    hub, s = request.app[HUB], session_of(request)
    if s.user.role != "technician":
        return _forbidden(request, "Refused uplink input is for technicians.")
    rows = await hub.read(lambda db: db.all("SELECT reason, home, n, last_at, detail FROM refused ORDER BY n DESC"))
    return web.json_response({"refused": [dict(zip(("reason", "home", "count", "last_at", "detail"), r, strict=True))
                                          for r in rows]})


async def api_me(request: web.Request) -> web.Response:
    s = session_of(request)
    return web.json_response({"name": s.user.name, "role": s.user.role, "csrf_header": "X-CSRF-Token",
                              "csrf": s.csrf})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", home_page)
    r.add_get("/alerts/{id}", alert_page)
    r.add_post("/alerts/{id}/{action:ack|resolve}", act)
    r.add_get("/people/{home}/{person}", person_page)
    r.add_post("/people/{home}/{person}/notes", add_note)
    r.add_get("/charts/{id}.png", chart)
    r.add_get("/handover", handover_page)
    r.add_get("/audit", audit_page)
    r.add_get("/api/me", api_me)
    r.add_get("/api/alerts", api_alerts)
    r.add_get("/api/alerts/{id}", alert_page)
    r.add_post("/api/alerts/{id}/{action:ack|resolve}", act)
    r.add_get("/api/board", api_board)
    r.add_get("/api/homes", api_homes)
    r.add_get("/api/refused", api_refused)


__all__ = ["Hub", "add_routes"]
