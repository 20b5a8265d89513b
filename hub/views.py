"""What each account may see, as data (the pages and the JSON API both render these).

One rule table, :data:`SEES`: a worker sees every person the homes share with the team; a Circle
member sees only the person and the categories that person gave them (from the home's heartbeat, so
a consent withdrawn at home is withdrawn here at the next beat); a technician sees homes' health and
technical notes, never an alert's words or a digest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub import days
from hub.auth import User
from hub.db import Db
from hub.words import CATEGORIES, OUTCOMES, STATES, what

STALE_S = 600.0  # "not heard from since ..." at three missed beats, and never later than ten minutes
RANKS = {"urgent": 0, "concern": 1, "quiet": 2, "well": 3}
# what a worker still sees of a person who left the home's heartbeat (paused or withdrawn): urgent alerts only
WITHDRAWN = ("urgent",)
SEES = {  # role -> categories of alerts and notes it may see (a Circle member: further cut by consent)
    "worker": ("urgent", "concern", "digest", "trends", "technical"),
    "circle": ("urgent", "concern", "digest", "trends"),
    "technician": ("technical",),
}


@dataclass(frozen=True)
class Home:
    home: str
    last_seen: float
    status: dict[str, Any]

    def stale_after(self) -> float:
        interval = self.status.get("interval_s")
        interval = float(interval) if isinstance(interval, int | float) and interval > 0 else 60.0
        return min(STALE_S, 3 * interval)

    def people(self) -> list[dict[str, Any]]:
        return [p for p in self.status.get("people", []) if isinstance(p, dict) and isinstance(p.get("id"), str)]

    def name_of(self, person: str | None) -> str:
        return next((str(p.get("name") or person) for p in self.people() if p["id"] == person), person or "?")


def scope(user: User | None) -> tuple[str, ...] | None:
    """The homes an account can see anything of (None: any): a Circle member's one, a worker's team."""
    if user is None or user.role == "technician":
        return None
    return (user.home or "",) if user.role == "circle" else user.team


def _in(col: str, homes: tuple[str, ...] | None) -> tuple[str, list[str]]:
    return ("", []) if homes is None else (f" AND {col} IN ({','.join('?' * len(homes))})", list(homes))


def homes(db: Db, user: User | None = None) -> dict[str, Home]:
    """Homes and their latest heartbeat: only those ``user`` may see (a worker of a team: the team's)."""
    cond, args = _in("home", scope(user))
    rows = db.all(f"SELECT home, last_seen, status FROM homes WHERE 1=1{cond}", args)
    return {h: Home(h, seen, json.loads(st)) for h, seen, st in rows}


def allowed(user: User, hs: dict[str, Home], home: str, person: str | None) -> tuple[str, ...]:
    """The categories ``user`` may see about ``person`` in ``home`` (empty: nothing at all)."""
    if user.role == "worker":
        if user.team is not None and home not in user.team:
            return ()
        h = hs.get(home)
        if h is None:  # a home not heard from yet: what it sent came under the consent of its time
            return SEES["worker"]
        shared = next((p.get("shared", []) for p in h.people() if p["id"] == person), None)
        if shared is None:
            # the person has left the home's heartbeat (sharing paused, or consent to the team withdrawn:
            # the hub cannot tell which): no more than the most a partial consent shows, and never less
            # than an urgent alert still open (hiding one during a pause could cost a life)
            shared = WITHDRAWN
        return tuple(c for c in SEES["worker"] if c in shared)
    if user.role == "technician":
        return SEES["technician"]
    if user.home != home or home not in hs:
        return ()
    given = [c for c in hs[home].status.get("circle", []) if isinstance(c, dict)
             and c.get("id") == user.recipient and c.get("person") == person]
    return tuple(c for c in SEES["circle"] if any(c in g.get("receives", []) for g in given))


ALERT_COLS = ("id, home, alert_key, person, kind, category, title, body, raised_at, updated_at, state, ack_by, "
              "ack_at, resolved_by, resolved_at, outcome, told, requested")


def alert_json(row: tuple[Any, ...], hs: dict[str, Home]) -> dict[str, Any]:
    (aid, home, key, person, kind, category, title, body, raised, updated, state, ack_by, ack_at, res_by, res_at,
     outcome, told, requested) = row
    h = hs.get(home)
    return {"id": aid, "home": home, "person": person, "person_name": h.name_of(person) if h else person,
            "what": what(kind), "category": category, "category_words": CATEGORIES.get(category, category),
            "explanation": body, "raised_at": raised, "updated_at": updated, "state": state,
            "state_words": STATES.get(state, state), "acknowledged_by": ack_by, "acknowledged_at": ack_at,
            "resolved_by": res_by, "resolved_at": res_at, "outcome": outcome,
            "outcome_words": OUTCOMES.get(outcome or "", None), "told": json.loads(told or "[]"), "title": title,
            "alert_key": key, "requested": requested}


def alerts(db: Db, user: User, *, open_only: bool = True, home: str | None = None, person: str | None = None,
           since: float | None = None) -> list[dict[str, Any]]:
    hs = homes(db, user)
    cond, args = _in("home", scope(user))
    conds = [cond[5:]] if cond else []
    if open_only:
        conds.append("state <> 'resolved'")
    for col, val in (("home", home), ("person", person)):
        if val is not None:
            conds.append(f"{col} = ?")
            args.append(val)
    if since is not None:
        conds.append("updated_at >= ?")
        args.append(since)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    rows = db.all(f"SELECT {ALERT_COLS} FROM alerts {where} ORDER BY raised_at DESC LIMIT 500", args)
    return [alert_json(r, hs) for r in rows if r[5] in allowed(user, hs, r[1], r[3])]


def alert(db: Db, user: User, alert_id: int) -> dict[str, Any] | None:
    hs = homes(db, user)
    row = db.one(f"SELECT {ALERT_COLS} FROM alerts WHERE id = ?", (alert_id,))
    if row is None or row[5] not in allowed(user, hs, row[1], row[3]):
        return None
    return alert_json(row, hs)


def board(db: Db, user: User, now: float) -> list[dict[str, Any]]:
    """People in the order a worker acts: open urgent first, then concerns, then quiet homes, then all well."""
    hs = homes(db, user)
    open_alerts = alerts(db, user)
    people: dict[tuple[str, str], dict[str, Any]] = {}
    for h in hs.values():
        for p in h.people():
            if allowed(user, hs, h.home, p["id"]):
                people[(h.home, p["id"])] = {"home": h.home, "person": p["id"], "name": str(p.get("name") or p["id"]),
                                             "alerts": []}
    for a in open_alerts:
        people.setdefault((a["home"], a["person"]), {"home": a["home"], "person": a["person"],
                                                     "name": a["person_name"], "alerts": []})["alerts"].append(a)
    out = []
    for (home, _p), row in people.items():
        h = hs.get(home)
        quiet = h is None or now - h.last_seen > h.stale_after()
        cats = {a["category"] for a in row["alerts"] if a["state"] != "resolved"}
        rank = "urgent" if "urgent" in cats else "concern" if "concern" in cats else "quiet" if quiet else "well"
        out.append(row | {"rank": rank, "last_seen": h.last_seen if h else None, "quiet": quiet})
    out.sort(key=lambda r: (RANKS[r["rank"]], -(max((a["raised_at"] for a in r["alerts"]), default=0)), r["name"]))
    return out


def notes(db: Db, user: User, home: str, person: str, limit: int = 14) -> list[dict[str, Any]]:
    hs = homes(db, user)
    cats = [c for c in allowed(user, hs, home, person) if c in ("digest", "trends", "technical")]
    if not cats:
        return []
    marks = ",".join("?" * len(cats))
    rows = db.all(f"SELECT id, category, title, body, chart IS NOT NULL, at FROM notes WHERE home=? AND person=? "
                  f"AND category IN ({marks}) ORDER BY at DESC LIMIT ?", (home, person, *cats, limit))
    return [{"id": i, "category": c, "category_words": CATEGORIES.get(c, c), "title": t, "body": b,
             "has_chart": bool(ch), "at": at} for i, c, t, b, ch, at in rows]


def chart(db: Db, user: User, note_id: int) -> bytes | None:
    row = db.one("SELECT home, person, category, chart FROM notes WHERE id=?", (note_id,))
    if row is None or row[3] is None or row[2] not in allowed(user, homes(db, user), row[0], row[1]):
        return None
    return bytes(row[3])


def person_notes(db: Db, home: str, person: str) -> list[dict[str, Any]]:
    rows = db.all("SELECT author, at, text FROM person_notes WHERE home=? AND person=? ORDER BY at DESC LIMIT 50",
                  (home, person))
    return [{"author": a, "at": at, "text": t} for a, at, t in rows]


def fleet(db: Db, now: float) -> list[dict[str, Any]]:
    """Every home's health for technicians: no alert words, no routines' times of day."""
    out = []
    for h in sorted(homes(db).values(), key=lambda h: h.home):
        health = h.status.get("health") if isinstance(h.status.get("health"), dict) else {}
        devices = [d for d in health.get("devices", []) if isinstance(d, dict)]
        gw = health.get("gateway") if isinstance(health.get("gateway"), dict) else {}
        routines = health.get("routines") if isinstance(health.get("routines"), dict) else {}
        out.append({
            "home": h.home, "last_seen": h.last_seen, "quiet": now - h.last_seen > h.stale_after(),
            "shares_health": bool(health), "broker_connected": health.get("broker_connected"),
            "offline": [d.get("sensor") for d in devices if d.get("available") is False],
            "low_battery": [{"sensor": d.get("sensor"), "battery": d.get("battery")} for d in devices
                            if isinstance(d.get("battery"), int | float) and d["battery"] < 20],
            "blind": [b for r in routines.values() if isinstance(r, dict) for b in r.get("blind", [])
                      if isinstance(b, str)],
            "learning": [r.get("name") for r in routines.values() if isinstance(r, dict) and r.get("learning")],
            "clock": health.get("clock"), "disk_free_mb": health.get("disk_free_mb"),
            "problems": [p for p in gw.get("problems", []) if isinstance(p, str)],
        })
    return out


REFUSED_WORDS = {  # why an uplink message was dropped, as a technician reads it
    "bad_topic": "not an uplink topic", "oversized": "too large", "not_json": "not JSON", "not_object": "not a JSON object",
    "version": "an uplink version this hub does not read", "home_mismatch": "published under another home's topic",
    "wrong_type": "the wrong type for its topic", "bad_field": "a field missing or malformed",
    "bad_day": "a malformed day (its message kept)", "not_stored": "could not be stored",
}


def dropped(db: Db) -> list[dict[str, Any]]:
    """Uplink messages dropped, per reason, since this hub's store was made (every hub process's)."""
    rows = db.all("SELECT reason, SUM(n), MAX(last_at), COUNT(*) FROM refused GROUP BY reason ORDER BY SUM(n) DESC")
    return [{"reason": r, "words": REFUSED_WORDS.get(r, r.replace("_", " ")), "count": int(n), "last_at": at,
             "homes": int(h)} for r, n, at, h in rows]


def handover(db: Db, user: User, since: float | None) -> dict[str, Any]:
    """What happened since the worker's last visit: alerts raised, handled or resolved, and notes written."""
    since = since or 0.0
    changed = alerts(db, user, open_only=False, since=since)
    written = db.all("SELECT home, person, author, at, text FROM person_notes WHERE at >= ? ORDER BY at DESC LIMIT 200",
                     (since,))
    hs = homes(db, user)
    return {"since": since or None, "alerts": changed,
            "notes": [{"home": h, "person": p, "name": hs[h].name_of(p) if h in hs else p, "author": a, "at": at,
                       "text": t} for h, p, a, at, t in written if allowed(user, hs, h, p)]}


# ---- a person's days (uplink v2): the alert's chart and the week strip -------------------------------

def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):  # a heartbeat's timezone is the home's word
        return ZoneInfo("UTC")


def alert_day(db: Db, user: User, a: dict[str, Any], now: float) -> dict[str, Any] | None:
    """The day the alert was raised in against the usual day, as the chart draws it: the daily note's
    day once the home sent it, else the heartbeat's day so far. A Circle member sees it only when the
    person gave them the daily note (it says more than the alert itself)."""
    hs = homes(db, user)
    cats = allowed(user, hs, a["home"], a["person"])
    if a["category"] not in cats or (user.role == "circle" and "digest" not in cats):
        return None
    h = hs.get(a["home"])
    tz = h.status.get("timezone") if h else None
    latest = db.one("SELECT COALESCE(digest, live) FROM days WHERE home=? AND person=? ORDER BY day DESC LIMIT 1",
                    (a["home"], a["person"]))
    dsh = int(json.loads(latest[0]).get("day_start_hour", 4)) if latest else 4
    on = days.person_day(a["raised_at"], tz, dsh)
    row = db.one("SELECT digest, live FROM days WHERE home=? AND person=? AND day=?", (a["home"], a["person"],
                                                                                     on.isoformat()))
    if row is None or not (row[0] or row[1]):
        return None
    day = json.loads(row[0] or row[1])
    current = days.person_day(now, tz, dsh) == on
    label = "Today so far" if current and not row[0] else f"{on:%A}"
    return {"day": day, "label": label, "mark_hour": datetime.fromtimestamp(a["raised_at"], _zone(tz)).hour,
            "complete": bool(row[0])}


def week(db: Db, user: User, home: str, person: str) -> list[dict[str, Any]]:
    """The last seven days the home sent a daily note of, oldest first, in words; only for an account
    the person gave the daily note (``digest``) to."""
    if "digest" not in allowed(user, homes(db, user), home, person):
        return []
    rows = db.all("SELECT day, digest FROM days WHERE home=? AND person=? AND digest IS NOT NULL "
                  "ORDER BY day DESC LIMIT 7", (home, person))
    out = []
    for day, raw in reversed(rows):
        d = date.fromisoformat(day)
        out.append({"date": day, "day_words": f"{d:%a} {d.day}", "words": days.strip_words(json.loads(raw))})
    return out
