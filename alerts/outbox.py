"""The outbox: every message is written to SQLite before it is sent, and sent until delivered or expired.

Tables (prefix ``outbox_``, in whatever SQLite file the gateway gives, WAL, ``synchronous=FULL``):

- ``outbox_messages``: one row per message, keyed by its ``message_id`` (the idempotency key). States:
  ``pending`` -> ``sending`` (committed *before* the notifier is called) -> ``sent``; or back to
  ``pending`` with an exponential backoff after a retryable failure; ``failed`` (not retryable),
  ``expired`` (too late to matter), ``withheld`` (the consent gate said no at send time), ``cancelled``
  (the alert was resolved before a held message went out).
- ``outbox_attempts``: every send attempt with its result, for technicians.
- ``outbox_withheld``: every message the consent gate withheld, with the reason.
- ``outbox_attachments``: attachment bytes (the digest's chart).
- ``outbox_episodes``: per alert key, which episode of it is open (see :meth:`Outbox.episode`), so a
  message id derives from the alert itself and a repeat after a crash carries the same one.

Never twice: enqueueing an existing ``message_id`` is a no-op, and a ``sent`` row is never picked up again.
A power cut between the send and the ``sent`` mark leaves the row ``sending``; on reopening it becomes
``pending`` and is sent again *with the same message_id*, which the notifier passes on as its
idempotency key (ntfy message id, SMTP Message-ID, webhook Idempotency-Key) so the phone shows it once.

>>> import tempfile, pathlib
>>> from alerts.notifiers.base import OutgoingMessage
>>> box = Outbox(pathlib.Path(tempfile.mkdtemp()) / "h.sqlite3")
>>> now = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
>>> m = OutgoingMessage("m1", "sam", "ntfy", "urgent", "Ann not up", "No movement since 22:40.", "urgent")
>>> box.enqueue(m, person="p1", now=now), box.enqueue(m, person="p1", now=now)
(True, False)
>>> [r.message.message_id for r in box.due(now)]
['m1']
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.notifiers.base import DeliveryResult, OutgoingMessage

log = logging.getLogger("hearth.outbox")

# How long a message is still worth delivering: a "not up" push a day late misleads more than it helps.
EXPIRY = {
    "urgent": timedelta(hours=6),
    "concern": timedelta(hours=12),
    "technical": timedelta(days=3),
    "digest": timedelta(days=1),
    "trends": timedelta(days=7),
}
BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 15 * 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_messages (
    message_id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL, channel TEXT NOT NULL, category TEXT NOT NULL,
    person TEXT, alert_key TEXT,
    title TEXT NOT NULL, body TEXT NOT NULL, priority TEXT NOT NULL, tags TEXT NOT NULL, replaces TEXT,
    created_at REAL NOT NULL, deliver_at REAL NOT NULL, expires_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, last_error TEXT, sent_at REAL, remote_id TEXT
);
CREATE INDEX IF NOT EXISTS outbox_messages_due ON outbox_messages (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_messages_alert ON outbox_messages (alert_key);
CREATE TABLE IF NOT EXISTS outbox_attachments (
    message_id TEXT NOT NULL, idx INTEGER NOT NULL, filename TEXT NOT NULL, mime TEXT NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (message_id, idx)
);
CREATE TABLE IF NOT EXISTS outbox_attempts (
    id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, at REAL NOT NULL,
    ok INTEGER NOT NULL, retryable INTEGER NOT NULL, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_episodes (
    alert_key TEXT PRIMARY KEY, episode INTEGER NOT NULL, open INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_withheld (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, person TEXT, recipient TEXT NOT NULL,
    category TEXT NOT NULL, alert_key TEXT, reason TEXT NOT NULL, message_id TEXT
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """A connection for the gateway's SQLite file, durable against power cuts (WAL + FULL sync)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    con = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA busy_timeout=30000")
    return con


def _ts(when: datetime) -> float:
    if when.tzinfo is None:
        raise ValueError("outbox times must be timezone-aware")
    return when.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def backoff_s(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 5, 10, 20, ... capped at 15 minutes."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1))


@dataclass(frozen=True, slots=True)
class OutboxRow:
    message: OutgoingMessage
    person: str | None
    state: str
    attempts: int
    deliver_at: datetime
    expires_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


class Outbox:
    """The durable queue of outgoing messages. Thread-safe; every write is committed before it returns."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con = connect(self.path)
        with self._lock:
            self._con.executescript(SCHEMA)
            # A row left 'sending' means the process died mid-send: send it again, same message_id.
            n = self._con.execute(
                "UPDATE outbox_messages SET state='pending', last_error='interrupted (restart)' "
                "WHERE state='sending'").rowcount
        if n:
            log.warning("%d message(s) were interrupted mid-send; they will be resent with the same id", n)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def _rollback(self) -> None:
        # SQLite ends the transaction itself on SQLITE_FULL and some I/O errors; a ROLLBACK then
        # would raise "no transaction is active" and hide the real error (a full disk) from the caller
        if self._con.in_transaction:
            self._con.execute("ROLLBACK")

    # ---- writing ---------------------------------------------------------------------------------

    def enqueue(self, msg: OutgoingMessage, *, person: str | None, now: datetime,
                deliver_at: datetime | None = None, expires_at: datetime | None = None) -> bool:
        """Store a message to be sent at ``deliver_at`` (default now). False if the id already exists."""
        deliver = deliver_at or now
        expires = expires_at or deliver + EXPIRY.get(msg.category, timedelta(hours=12))
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                cur = self._con.execute(
                    "INSERT OR IGNORE INTO outbox_messages (message_id, recipient, channel, category, person,"
                    " alert_key, title, body, priority, tags, replaces, created_at, deliver_at, expires_at,"
                    " next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (msg.message_id, msg.recipient, msg.channel, msg.category, person, msg.alert_key,
                     msg.title, msg.body, msg.priority, json.dumps(list(msg.tags)), msg.replaces,
                     _ts(now), _ts(deliver), _ts(expires), _ts(deliver)))
                if cur.rowcount:
                    self._con.executemany(
                        "INSERT INTO outbox_attachments VALUES (?,?,?,?,?)",
                        [(msg.message_id, i, name, mime, data) for i, (name, data, mime) in enumerate(msg.attachments)])
                self._con.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return bool(cur.rowcount)

    def episode(self, alert_key: str) -> int:
        """The episode of ``alert_key`` now open: 1 the first time, the same one for as long as it is
        not resolved (also after a crash that forgot the policy's state), the next one after
        :meth:`close_episode`. Part of every message id, so a re-raise after a restart repeats the same
        ids while the same key coming back after a resolution is a new message.
        """
        with self._lock:
            row = self._con.execute("SELECT episode, open FROM outbox_episodes WHERE alert_key=?",
                                    (alert_key,)).fetchone()
            if row is not None and row[1]:
                return int(row[0])
            episode = 1 if row is None else int(row[0]) + 1
            self._con.execute("INSERT OR REPLACE INTO outbox_episodes (alert_key, episode, open) VALUES (?,?,1)",
                              (alert_key, episode))
        return episode

    def close_episode(self, alert_key: str) -> None:
        """The alert was resolved: the next time its key is raised is a new episode."""
        with self._lock:
            self._con.execute("UPDATE outbox_episodes SET open=0 WHERE alert_key=?", (alert_key,))

    def record_withheld(self, *, person: str | None, recipient: str, category: str, alert_key: str | None,
                        reason: str, now: datetime, message_id: str | None = None) -> None:
        """Keep a withholding (the consent gate said no) where technicians and the team can see it."""
        with self._lock:
            self._con.execute(
                "INSERT INTO outbox_withheld (at, person, recipient, category, alert_key, reason, message_id)"
                " VALUES (?,?,?,?,?,?,?)", (_ts(now), person, recipient, category, alert_key, reason, message_id))
            if message_id is not None:
                self._con.execute("UPDATE outbox_messages SET state='withheld', last_error=? "
                                  "WHERE message_id=? AND state IN ('pending','sending')", (reason, message_id))

    def mark_sending(self, message_id: str, now: datetime) -> bool:
        """Claim a due row for sending; committed before the send. False if it is no longer pending."""
        with self._lock:
            return bool(self._con.execute(
                "UPDATE outbox_messages SET state='sending', attempts=attempts+1 "
                "WHERE message_id=? AND state='pending' AND next_attempt_at<=?",
                (message_id, _ts(now))).rowcount)

    def mark_result(self, message_id: str, result: DeliveryResult, now: datetime) -> str:
        """Record a send's result; returns the new state (sent, pending, failed or expired)."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                row = self._con.execute("SELECT attempts, expires_at FROM outbox_messages WHERE message_id=?",
                                        (message_id,)).fetchone()
                if row is None:
                    raise KeyError(message_id)
                attempts, expires_at = row
                # the receiver's Retry-After when it gave one (429, 503), never sooner than our own backoff
                wait_s = max(backoff_s(attempts), result.retry_after_s or 0.0)
                retry_at = _ts(now) + wait_s
                if result.ok:
                    state = "sent"
                elif not result.retryable:
                    state = "failed"
                elif retry_at >= expires_at:
                    state = "expired"
                else:
                    state = "pending"
                self._con.execute(
                    "UPDATE outbox_messages SET state=?, next_attempt_at=?, last_error=?, sent_at=?, remote_id=? "
                    "WHERE message_id=?",
                    (state, retry_at, None if result.ok else result.detail, _ts(now) if result.ok else None,
                     result.remote_id, message_id))
                self._con.execute("INSERT INTO outbox_attempts (message_id, at, ok, retryable, detail) "
                                  "VALUES (?,?,?,?,?)", (message_id, _ts(now), int(result.ok),
                                                         int(result.retryable), result.detail))
                self._con.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        if state in ("failed", "expired"):
            log.error("message %s %s after %d attempt(s): %s", message_id, state, attempts, result.detail)
        elif state == "pending":
            log.warning("message %s not delivered (attempt %d), retrying in %.0f s: %s",
                        message_id, attempts, wait_s, result.detail)
        return state

    def reschedule(self, message_id: str, deliver_at: datetime) -> None:
        """Hold a pending message until ``deliver_at`` (a quiet period began after it was queued)."""
        with self._lock:
            self._con.execute(
                "UPDATE outbox_messages SET state='pending', next_attempt_at=?, "
                "expires_at=MAX(expires_at, ? + (expires_at - deliver_at)), deliver_at=? "
                "WHERE message_id=? AND state IN ('pending','sending')",
                (_ts(deliver_at), _ts(deliver_at), _ts(deliver_at), message_id))

    def cancel_for_alert(self, alert_key: str, reason: str) -> int:
        """Cancel messages of a resolved alert that are still waiting (e.g. held by quiet hours)."""
        with self._lock:
            return self._con.execute(
                "UPDATE outbox_messages SET state='cancelled', last_error=? "
                "WHERE alert_key=? AND state='pending' AND replaces IS NULL", (reason, alert_key)).rowcount

    def expire_due(self, now: datetime) -> int:
        """Expire pending messages that are past their useful life."""
        with self._lock:
            n = self._con.execute("UPDATE outbox_messages SET state='expired' WHERE state='pending' AND expires_at<=?",
                                  (_ts(now),)).rowcount
        if n:
            log.error("%d message(s) expired undelivered", n)
        return n

    # ---- reading ---------------------------------------------------------------------------------

    def due(self, now: datetime, limit: int = 50) -> list[OutboxRow]:
        """Pending messages whose time has come, oldest first."""
        return self._rows("WHERE state='pending' AND next_attempt_at<=? AND expires_at>? "
                          "ORDER BY next_attempt_at, created_at LIMIT ?", (_ts(now), _ts(now), limit))

    def next_due_at(self) -> datetime | None:
        with self._lock:
            (ts,) = self._con.execute("SELECT MIN(next_attempt_at) FROM outbox_messages WHERE state='pending'").fetchone()
        return _dt(ts)

    def get(self, message_id: str) -> OutboxRow | None:
        rows = self._rows("WHERE message_id=?", (message_id,))
        return rows[0] if rows else None

    def for_alert(self, alert_key: str) -> list[OutboxRow]:
        return self._rows("WHERE alert_key=? ORDER BY created_at, message_id", (alert_key,))

    def all(self) -> list[OutboxRow]:
        return self._rows("ORDER BY created_at, message_id", ())

    def withheld(self, *, person: str | None = None, reason: str | None = None, category: str | None = None,
                 start: datetime | None = None, end: datetime | None = None) -> list[dict]:
        """Withholdings, oldest first, optionally only those matching every given filter."""
        conds, args = [], []
        for col, val in (("person", person), ("reason", reason), ("category", category)):
            if val is not None:
                conds.append(f"{col}=?")
                args.append(val)
        if start is not None:
            conds.append("at>=?")
            args.append(_ts(start))
        if end is not None:
            conds.append("at<?")
            args.append(_ts(end))
        where = f"WHERE {' AND '.join(conds)}" if conds else ""
        with self._lock:
            cur = self._con.execute("SELECT at, person, recipient, category, alert_key, reason, message_id "
                                    f"FROM outbox_withheld {where} ORDER BY id", args)
            names = [d[0] for d in cur.description]
            out = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        for r in out:
            r["at"] = _dt(r["at"])
        return out

    def counts(self) -> dict[str, int]:
        """Messages per state, for the console and `hearth status`."""
        with self._lock:
            return dict(self._con.execute("SELECT state, COUNT(*) FROM outbox_messages GROUP BY state").fetchall())

    def _rows(self, where: str, args: tuple) -> list[OutboxRow]:
        with self._lock:
            rows = self._con.execute(
                "SELECT message_id, recipient, channel, category, title, body, priority, alert_key, tags, replaces,"
                " person, state, attempts, deliver_at, expires_at, next_attempt_at, sent_at, last_error "
                f"FROM outbox_messages {where}", args).fetchall()
            out = []
            for r in rows:
                atts = tuple((n, d, m) for n, m, d in self._con.execute(
                    "SELECT filename, mime, data FROM outbox_attachments WHERE message_id=? ORDER BY idx", (r[0],)))
                msg = OutgoingMessage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], alert_key=r[7],
                                      tags=tuple(json.loads(r[8])), attachments=atts, replaces=r[9])
                out.append(OutboxRow(msg, r[10], r[11], r[12], _dt(r[13]), _dt(r[14]), _dt(r[15]),
                                     _dt(r[16]), r[17]))
        return out
