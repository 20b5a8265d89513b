"""Privacy mode: the person pauses all sharing for a while.

Pauses live in the gateway's SQLite file (table ``pause_periods``, next to the outbox), so a pause set
with ``hearth pause --person p1 --for 4h`` from a shell is seen by the running gateway at its next
consent decision. Every pause is logged with its end; ending it early is logged too, and the delivery
service logs the moment a pause runs out.

During a pause *nothing* about the person is sent, urgent alerts included (see :mod:`alerts.consent`);
every withheld urgent alert is recorded, and the team is told once the pause is over that something was
held.

>>> import tempfile, pathlib
>>> store = PauseStore(pathlib.Path(tempfile.mkdtemp()) / "h.sqlite3")
>>> t0 = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
>>> p = store.start("p1", t0 + timedelta(hours=4), by="Ann (button)", now=t0)
>>> [x.person for x in store.active(t0 + timedelta(hours=1))]
['p1']
>>> store.active(t0 + timedelta(hours=4))
[]
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.config import PrivacyPause
from alerts.outbox import connect

log = logging.getLogger("hearth.pause")

SCHEMA = """
CREATE TABLE IF NOT EXISTS pause_periods (
    id INTEGER PRIMARY KEY, person TEXT NOT NULL, start REAL NOT NULL, end_at REAL NOT NULL,
    ended_at REAL, by TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', ended_by TEXT,
    end_reported REAL  -- when the running gateway noticed the end and told the team what was held
);
CREATE INDEX IF NOT EXISTS pause_periods_person ON pause_periods (person, end_at);
"""

MAX_PAUSE = timedelta(days=30)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(text: str) -> timedelta:
    """``4h``, ``90m``, ``1d12h``, ``2h30m`` -> timedelta.

    >>> parse_duration("2h30m")
    datetime.timedelta(seconds=9000)
    """
    m = _DURATION.match(text.strip().lower())
    if not text.strip() or m is None or not any(m.groups()):
        raise ValueError(f"a duration like 4h, 90m or 1d12h, not {text!r}")
    d, h, mins = (int(g or 0) for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mins)


def _row(r: tuple) -> PrivacyPause:
    return PrivacyPause(id=r[0], person=r[1], start=datetime.fromtimestamp(r[2], UTC),
                        end=datetime.fromtimestamp(r[3], UTC), by=r[4], reason=r[5],
                        ended_at=None if r[6] is None else datetime.fromtimestamp(r[6], UTC))


class PauseStore:
    """Privacy pauses, durable in the gateway's SQLite file."""

    def __init__(self, path: Path | str):
        self._lock = threading.Lock()
        self._con = connect(Path(path))
        with self._lock:
            self._con.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def start(self, person: str, until: datetime, *, by: str, now: datetime, reason: str = "") -> PrivacyPause:
        """Pause all sharing about ``person`` from ``now`` until ``until``."""
        if until <= now:
            raise ValueError("a pause must end in the future")
        if until - now > MAX_PAUSE:
            raise ValueError(f"a pause may last at most {MAX_PAUSE.days} days; review consent instead")
        with self._lock:
            cur = self._con.execute("INSERT INTO pause_periods (person, start, end_at, by, reason) VALUES (?,?,?,?,?)",
                                    (person, now.timestamp(), until.timestamp(), by, reason))
            pause = _row(self._con.execute("SELECT id, person, start, end_at, by, reason, ended_at "
                                           "FROM pause_periods WHERE id=?", (cur.lastrowid,)).fetchone())
        log.warning("privacy pause for %s started by %s, until %s", person, by, until.isoformat(),
                    extra={"ctx": {"person": person, "pause_id": pause.id, "until": until.isoformat()}})
        return pause

    def end(self, person: str, *, by: str, now: datetime) -> list[PrivacyPause]:
        """End every running pause of ``person`` now; returns the pauses ended."""
        running = [p for p in self.active(now) if p.person == person]
        with self._lock:
            for p in running:
                self._con.execute("UPDATE pause_periods SET ended_at=?, ended_by=? WHERE id=?",
                                  (now.timestamp(), by, p.id))
        for p in running:
            log.warning("privacy pause for %s ended early by %s", person, by,
                        extra={"ctx": {"person": person, "pause_id": p.id, "planned_end": p.end.isoformat()}})
        return [PrivacyPause(p.id, p.person, p.start, p.end, p.by, p.reason, now) for p in running]

    def active(self, now: datetime) -> list[PrivacyPause]:
        """Pauses running at ``now``."""
        ts = now.timestamp()
        with self._lock:
            rows = self._con.execute(
                "SELECT id, person, start, end_at, by, reason, ended_at FROM pause_periods "
                "WHERE start<=? AND end_at>? AND (ended_at IS NULL OR ended_at>?) ORDER BY id", (ts, ts, ts)).fetchall()
        return [_row(r) for r in rows]

    def unreported_ends(self, now: datetime) -> list[PrivacyPause]:
        """Pauses that are over (ran out or ended early) but whose end the gateway has not reported yet."""
        ts = now.timestamp()
        with self._lock:
            rows = self._con.execute(
                "SELECT id, person, start, end_at, by, reason, ended_at FROM pause_periods "
                "WHERE end_reported IS NULL AND (end_at<=? OR ended_at<=?) ORDER BY id", (ts, ts)).fetchall()
        return [_row(r) for r in rows]

    def mark_end_reported(self, pause_id: int, now: datetime) -> None:
        with self._lock:
            self._con.execute("UPDATE pause_periods SET end_reported=? WHERE id=?", (now.timestamp(), pause_id))

    def since(self, when: datetime) -> list[PrivacyPause]:
        """Pauses that were running at any time after ``when`` (for the console and the consent gate)."""
        with self._lock:
            rows = self._con.execute(
                "SELECT id, person, start, end_at, by, reason, ended_at FROM pause_periods "
                "WHERE end_at>? AND (ended_at IS NULL OR ended_at>?) ORDER BY id",
                (when.timestamp(), when.timestamp())).fetchall()
        return [_row(r) for r in rows]
