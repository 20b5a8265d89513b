"""The hub's tables, and what the uplink writes into them (one transaction per batch).

Homes keep their latest heartbeat (who they share about, the Circle's consent, device and gateway
health); alerts are one row per home and alert key (reopened when raised again after a resolve), with
the newest acknowledgement token the home signed for the hub; notes (digests, trends, technical notes)
keep their chart. Accounts, sessions, per-person notes and the audit log live here too.

>>> from hub.db import connect
>>> db = connect(":memory:"); create(db)
>>> from hub.schema import parse
>>> rec = parse("hearth", "hearth/ann/status", b'{"v":1,"type":"status","home":"ann","sent_at":5,"people":[]}')
>>> apply(db, [rec], now=10.0); db.one("SELECT home, last_seen FROM homes")
('ann', 10.0)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from hub.db import Db
from hub.schema import Uplinked

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS homes (home TEXT PRIMARY KEY, last_seen DOUBLE PRECISION NOT NULL, "
    "sent_at DOUBLE PRECISION NOT NULL, status TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS alerts (id {id}, home TEXT NOT NULL, alert_key TEXT NOT NULL, person TEXT, "
    "kind TEXT, category TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, ack_token TEXT, "
    "raised_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, "
    "ack_by TEXT, ack_at TEXT, resolved_by TEXT, resolved_at TEXT, outcome TEXT, told TEXT NOT NULL DEFAULT '[]', requested TEXT, "
    "UNIQUE (home, alert_key))",
    "CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts (state, home)",
    "CREATE TABLE IF NOT EXISTS notes (id {id}, home TEXT NOT NULL, person TEXT, category TEXT NOT NULL, "
    "message_id TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, chart {blob}, "
    "at DOUBLE PRECISION NOT NULL, UNIQUE (home, message_id))",
    "CREATE INDEX IF NOT EXISTS notes_by_person ON notes (home, person, at)",
    "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, "
    "home TEXT, recipient TEXT, team TEXT, created DOUBLE PRECISION NOT NULL, last_visit DOUBLE PRECISION)",
    "CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL, "
    "created DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL, previous_visit DOUBLE PRECISION)",
    "CREATE TABLE IF NOT EXISTS person_notes (id {id}, home TEXT NOT NULL, person TEXT NOT NULL, "
    "author TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, text TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit (id {id}, at DOUBLE PRECISION NOT NULL, name TEXT NOT NULL, "
    "action TEXT NOT NULL, home TEXT, person TEXT, detail TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_by_home ON audit (home, at)",
    # a person's days (uplink v2): ``live`` from the heartbeat (today so far), ``digest`` from the daily note
    "CREATE TABLE IF NOT EXISTS days (home TEXT NOT NULL, person TEXT NOT NULL, day TEXT NOT NULL, live TEXT, "
    "digest TEXT, at DOUBLE PRECISION NOT NULL, PRIMARY KEY (home, person, day))",
    "CREATE TABLE IF NOT EXISTS refused (reason TEXT NOT NULL, home TEXT NOT NULL, n BIGINT NOT NULL, "
    "last_at DOUBLE PRECISION NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (reason, home))",
]


def create(db: Db) -> None:
    for sql in SCHEMA:
        db.execute(sql)
    db.commit()


def _chart(data: dict[str, Any]) -> bytes | None:
    for item in data.get("attachments", []):
        if isinstance(item, dict) and item.get("mime_type") == "image/png" and isinstance(item.get("data_b64"), str):
            try:
                return base64.b64decode(item["data_b64"], validate=True)
            except ValueError:
                return None
    return None


def _message(db: Db, r: Uplinked, now: float) -> None:
    d = r.data
    if d["category"] in ("urgent", "concern") and d["alert_key"]:
        if d["replaces"] is not None:  # "Handled by ..." and all-clear updates: the events say it exactly
            return
        token = d.get("ack_token") if isinstance(d.get("ack_token"), str) else None
        # a new message for an alert resolved here opens it again (the home raised it again)
        db.execute(
            "INSERT INTO alerts (home, alert_key, person, kind, category, title, body, ack_token, raised_at, "
            "updated_at, state) VALUES (?,?,?,?,?,?,?,?,?,?, 'open') ON CONFLICT (home, alert_key) DO UPDATE SET "
            "category=excluded.category, title=excluded.title, body=excluded.body, updated_at=excluded.updated_at, "
            "ack_token=COALESCE(excluded.ack_token, alerts.ack_token), "
            "state=CASE WHEN alerts.state='resolved' THEN 'open' ELSE alerts.state END",
            (r.home, d["alert_key"], d["person"], d["kind"], d["category"], d["title"], d["body"], token,
             r.sent_at, now))
        return
    db.execute("INSERT INTO notes (home, person, category, message_id, title, body, chart, at) "
               "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (home, message_id) DO NOTHING",
               (r.home, d["person"], d["category"], d["message_id"], d["title"], d["body"], _chart(d), r.sent_at))
    if d["category"] == "digest" and d["person"] and isinstance(d.get("day"), dict):
        _day(db, r.home, d["person"], d["day"], "digest", r.sent_at)


def _day(db: Db, home: str, person: str, day: dict[str, Any], col: str, at: float) -> None:
    assert col in ("live", "digest")
    db.execute(f"INSERT INTO days (home, person, day, {col}, at) VALUES (?,?,?,?,?) ON CONFLICT (home, person, day) "
               f"DO UPDATE SET {col}=excluded.{col}, at=excluded.at",
               (home, person, day["date"], json.dumps(day, separators=(",", ":")), at))


def _event(db: Db, r: Uplinked, now: float) -> None:
    d = r.data
    told = json.dumps(d.get("told") if isinstance(d.get("told"), list) else [])
    if r.type == "acknowledged":
        db.execute("UPDATE alerts SET state=CASE WHEN state='open' THEN 'acknowledged' ELSE state END, ack_by=?, "
                   "ack_at=?, told=?, updated_at=? WHERE home=? AND alert_key=?",
                   (d["acknowledged_by"], d.get("acknowledged_at"), told, now, r.home, d["alert_key"]))
    else:
        db.execute("UPDATE alerts SET state='resolved', resolved_by=?, resolved_at=?, outcome=?, told=?, "
                   "updated_at=? WHERE home=? AND alert_key=?",
                   (d["resolved_by"], d.get("resolved_at"), d["outcome"], told, now, r.home, d["alert_key"]))


def _status(db: Db, r: Uplinked, now: float) -> None:
    db.execute("INSERT INTO homes (home, last_seen, sent_at, status) VALUES (?,?,?,?) ON CONFLICT (home) DO UPDATE "
               "SET last_seen=excluded.last_seen, sent_at=excluded.sent_at, status=excluded.status",
               (r.home, now, r.sent_at, json.dumps({k: v for k, v in r.data.items() if k != "people"}
                                                   | {"people": [_no_today(p) for p in r.data["people"]]})))
    for p in r.data["people"]:  # today so far, kept per day so an alert keeps the chart of its own day
        if isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("today"), dict):
            _day(db, r.home, p["id"], p["today"], "live", r.sent_at)
    # the heartbeat's view of each open alert fills in what an event lost on the way would have said
    for a in r.data.get("open_alerts", []):
        if not isinstance(a, dict) or not isinstance(a.get("alert_key"), str):
            continue
        state = "resolved" if a.get("resolved_at") else "acknowledged" if a.get("acknowledged_at") else None
        told = json.dumps(a.get("told") if isinstance(a.get("told"), list) else [])
        db.execute("UPDATE alerts SET told=? WHERE home=? AND alert_key=?", (told, r.home, a["alert_key"]))
        if state is not None:
            db.execute("UPDATE alerts SET state=?, ack_by=COALESCE(ack_by, ?), ack_at=COALESCE(ack_at, ?), "
                       "resolved_by=COALESCE(resolved_by, ?), resolved_at=COALESCE(resolved_at, ?), "
                       "outcome=COALESCE(outcome, ?) WHERE home=? AND alert_key=? AND state<>'resolved'",
                       (state, _s(a.get("acknowledged_by")), _s(a.get("acknowledged_at")), _s(a.get("resolved_by")),
                        _s(a.get("resolved_at")), _s(a.get("outcome")), r.home, a["alert_key"]))


def _no_today(p: Any) -> Any:
    return {k: v for k, v in p.items() if k != "today"} if isinstance(p, dict) else p


def _s(v: Any) -> str | None:
    return v if isinstance(v, str) else None


APPLY = {"message": _message, "acknowledged": _event, "resolved": _event, "status": _status}


def apply(db: Db, records: Iterable[Uplinked], now: float) -> None:
    """Write a batch of checked uplink messages in one transaction."""
    for r in records:
        APPLY[r.type](db, r, now)
    db.commit()


def count_refusal(db: Db, reason: str, home: str, detail: str, now: float) -> None:
    db.execute("INSERT INTO refused (reason, home, n, last_at, detail) VALUES (?,?,1,?,?) ON CONFLICT (reason, home) "
               "DO UPDATE SET n=refused.n+1, last_at=excluded.last_at, detail=excluded.detail",
               (reason, home, now, detail[:300]))


def audit(db: Db, now: float, name: str, action: str, home: str | None = None, person: str | None = None,
          detail: str = "") -> None:
    db.execute("INSERT INTO audit (at, name, action, home, person, detail) VALUES (?,?,?,?,?,?)",
               (now, name, action, home, person, detail[:500]))
