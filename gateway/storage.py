"""The gateway's SQLite store: raw events, device health, rejections, alerts and learned-state checkpoints.

One file, WAL mode, one connection guarded by a lock (the service calls it from a worker thread; there
is no asyncio in here). Writes are batched: each write joins an open transaction and :meth:`Store.commit`
ends it (the service commits every ~2 s), so the SD card sees one sync per batch, not one per event.

Failure contract (full disk, read-only remount, lock timeout, ...): every ``sqlite3.Error`` is raised
as a :class:`~gateway.storage_errors.StorageError` subclass naming the file and what to do, and the
whole uncommitted batch is rolled back: the file holds exactly what was committed, never half a batch.
The caller keeps everything it wrote since its last successful :meth:`Store.commit` and writes it again
later (the service does: it acks MQTT messages only after their batch is committed).

>>> import tempfile, pathlib
>>> from datetime import datetime, timezone
>>> from sensors.events import SensorEvent, SensorKind
>>> with tempfile.TemporaryDirectory() as d, Store(pathlib.Path(d) / "hearth.sqlite3") as store:
...     e = SensorEvent(datetime(2026, 1, 5, 7, 40, tzinfo=timezone.utc), "0x00158d0001a2b3c4",
...                     SensorKind.CONTACT, True, "zigbee2mqtt")
...     store.add_events([e])
...     store.commit()
...     store.events() == [e]
True
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from gateway.storage_errors import (
    SchemaTooNewError,
    StorageBusyError,
    StorageCorruptError,
    StorageError,
    StorageFullError,
    StorageReadOnlyError,
    storage_error,
)
from gateway.storage_rows import (
    DETAIL_MAX,
    NAME_MAX,
    DeviceHealthRow,
    RejectionRow,
    alert_from_row,
    alert_row,
    cut,
    event_from_row,
    event_row,
    from_us,
    opt_bool,
    opt_from_us,
    to_us,
)
from gateway.storage_schema import file_version, migrate, refuse_if_newer
from routines.alert import Alert
from sensors.events import DeviceHealth, Rejection, SensorEvent

__all__ = [
    "DeviceHealthRow",
    "RejectionRow",
    "SchemaTooNewError",
    "StorageBusyError",
    "StorageCorruptError",
    "StorageError",
    "StorageFullError",
    "StorageReadOnlyError",
    "Store",
]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000  # a CLI command reading the file while the service writes waits, not fails
# an event stamped before this was stored by a clock not yet set (no real-time clock, no network time yet)
STAMPED_FROM = datetime(2024, 1, 1, tzinfo=UTC)
STAMPED_FROM_US = int(STAMPED_FROM.timestamp()) * 1_000_000
WAL_SIZE_LIMIT = 4 * 1024 * 1024  # after a checkpoint the -wal file is truncated to this (SD card space)
DEVICES_PER_REASON = 100  # distinct devices counted per (source, reason); the rest share OTHER_DEVICES
OTHER_DEVICES = "(other devices)"

_EVENT_COLUMNS = "time_us, sensor_id, kind, value, is_bool, source"
_ALERT_COLUMNS = "time_us, person, kind, severity, audience, message, key, evidence, recipients"
_HEALTH_MERGE = ", ".join(
    # Newer report: its non-None fields win. Older report arriving late: it only fills gaps.
    f"{c} = CASE WHEN updated_us IS NULL OR excluded.updated_us >= updated_us "
    f"THEN COALESCE(excluded.{c}, {c}) ELSE COALESCE({c}, excluded.{c}) END"
    for c in ("source", "available", "battery", "linkquality", "voltage", "tamper")
)



def _where(*conditions: tuple[str, Any]) -> tuple[str, list[Any]]:
    """`` WHERE a AND b`` from (clause, value) pairs whose value is not None, and the values in order."""
    used = [(clause, value) for clause, value in conditions if value is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(c for c, _ in used), [v for _, v in used]


class Store:
    """The gateway database. See the module docstring for the batching and failure contract.

    ``max_bytes`` caps the file's size (SQLite's ``max_page_count``) so Hearth cannot fill the SD card
    the Pi boots from; reaching it raises :class:`StorageFullError` like a full disk does.
    """

    schema_version: int

    def __init__(self, path: str | Path, retention_days: int = 90, *, max_bytes: int | None = None) -> None:
        if retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, got {retention_days}")
        self.path = Path(path)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._batch_rows = 0
        self._closed = False
        self._conn = self._open()
        try:  # which file the connection opened (see file_lost); None: cannot tell, never reported
            self._identity = file_identity(self.path)
        except OSError:
            self._identity = None
        if max_bytes is not None:
            self.set_max_bytes(max_bytes)

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a home's days: its owner's alone
        except OSError as exc:
            raise StorageReadOnlyError(f"storage {self.path}: cannot create its folder: {exc}") from exc
        conn: sqlite3.Connection | None = None
        try:
            # isolation_level=None: this class issues BEGIN/COMMIT itself. check_same_thread=False: the
            # service opens it on one thread and uses it from a worker; self._lock serialises every use.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            # Refuse a newer file before anything (even the WAL switch) writes to it.
            refuse_if_newer(file_version(conn), self.path)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"storage {self.path}: cannot use WAL mode (got {mode!r}); "
                                   f"put the database on a local filesystem")
            # NORMAL in WAL mode syncs the disk at checkpoints, not at every commit: far fewer writes to
            # wear the SD card, and a power cut can lose only the last commits, never corrupt the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT:d}")
            self.schema_version = migrate(conn, self.path)
        except (sqlite3.Error, StorageError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, StorageError):
                raise
            raise storage_error(exc, self.path, "opening the database") from exc
        return conn

    # ---- batching -------------------------------------------------------------------------------

    def _write(self, what: str, op: Callable[..., Any], *args: Any, rows: int = 1) -> Any:
        """Run one write inside the open batch; the caller holds the lock."""
        try:
            if not self._conn.in_transaction:
                # IMMEDIATE takes the write lock now, so busy_timeout applies here and never mid-batch.
                self._conn.execute("BEGIN IMMEDIATE")
            result = op(*args)
        except sqlite3.Error as exc:
            self._rollback()
            raise storage_error(exc, self.path, f"{what} (the uncommitted batch was rolled back)") from exc
        self._batch_rows += rows
        return result

    def _rollback(self) -> None:
        """Undo the whole open batch, so a failure leaves exactly the committed data (never half a batch)."""
        if self._conn.in_transaction:  # SQLite may already have rolled back (e.g. after SQLITE_FULL)
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("storage %s: rollback failed", self.path)
        self._batch_rows = 0

    def _commit_locked(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise storage_error(exc, self.path, "commit (the batch was rolled back)") from exc
        self._batch_rows = 0

    def commit(self) -> None:
        """Make every write since the last commit durable, in one transaction."""
        with self._lock:
            self._commit_locked()

    @property
    def uncommitted(self) -> int:
        """Rows written since the last commit (events count one each)."""
        with self._lock:
            return self._batch_rows

    def _read(self, what: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path, what) from exc

    def set_max_bytes(self, max_bytes: int | None) -> None:
        """Cap (or with ``None`` uncap) the database size; a file already bigger keeps its data."""
        with self._lock:
            page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
            pages = 2**31 - 2 if max_bytes is None else max(1, max_bytes // page_size)
            self._conn.execute(f"PRAGMA max_page_count = {pages:d}")

    # ---- events ---------------------------------------------------------------------------------

    def add_events(self, events: Sequence[SensorEvent], received: datetime | None = None,
                   clock_trusted: bool = True) -> None:
        """Add events to the open batch. ``received``: when the gateway got them (default now).
        ``clock_trusted=False`` marks them as received while the system clock was not trusted."""
        received_us = to_us(received or datetime.now(UTC))
        mark = 0 if clock_trusted else 1
        rows = [(*event_row(e, received_us), mark) for e in events]  # ValueError here writes nothing
        if not rows:
            return
        with self._lock:
            self._write("add_events", self._insert_events, rows, rows=len(rows))

    def _insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        self._conn.executemany(
            f"INSERT INTO events ({_EVENT_COLUMNS}, received_us, clock_untrusted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows)

    def count_clock_untrusted(self) -> int:
        """Events kept while the clock was not trusted (never learned from or judged)."""
        return int(self._read("count_clock_untrusted",
                              "SELECT COUNT(*) FROM events WHERE clock_untrusted = 1")[0][0])

    def events(self, since: datetime | None = None, until: datetime | None = None,
               sensor_id: str | None = None, limit: int | None = None) -> list[SensorEvent]:
        """Events with ``since <= time < until``, oldest first; ``limit`` keeps the *newest* ``limit`` of them.

        Includes this batch's uncommitted events (same connection).
        """
        where, params = _where(("time_us >= ?", since and to_us(since)), ("time_us < ?", until and to_us(until)),
                               ("sensor_id = ?", sensor_id))
        sql = f"SELECT id, {_EVENT_COLUMNS} FROM events{where}"
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY time_us DESC, id DESC LIMIT ?)"
            params.append(max(0, limit))
        rows = self._read("events", sql + " ORDER BY time_us, id", params)
        return [event_from_row(*r[1:]) for r in rows]

    def last_event_id(self) -> int:
        """The newest event's row id (0 when there is none): what a routine checkpoint has seen up to."""
        return int(self._read("last_event_id", "SELECT COALESCE(MAX(id), 0) FROM events")[0][0])

    def judged_events_after(self, event_id: int, limit: int = 5000) -> list[tuple[int, SensorEvent]]:
        """Events stored after row ``event_id`` with a trusted clock, in the order they were stored, as
        (row id, event): what a restarted gateway gives its routine core to catch up."""
        rows = self._read("judged_events_after", f"SELECT id, {_EVENT_COLUMNS} FROM events WHERE id > ? "
                          "AND clock_untrusted = 0 ORDER BY id LIMIT ?", (event_id, limit))
        return [(int(r[0]), event_from_row(*r[1:])) for r in rows]

    def last_values(self) -> dict[str, bool]:
        """Each on/off sensor's last stored state (a restarted adapter must not take a repeat for a change)."""
        rows = self._read("last_values", "SELECT sensor_id, value, MAX(id) FROM events WHERE is_bool = 1 "
                          "GROUP BY sensor_id")
        return {str(sid): bool(value) for sid, value, _id in rows}

    def count_events(self) -> int:
        return int(self._read("count_events", "SELECT COUNT(*) FROM events")[0][0])

    def prune(self, now: datetime) -> int:
        """Delete raw events older than ``retention_days`` before ``now``; return how many.

        Alerts, device health, rejections and learned state are kept. Joins the open batch. Events stamped
        before :data:`STAMPED_FROM` were stored before the clock was set (a Pi without a real-time clock
        boots in 1970): their age is unknown, so they are never deleted as old.
        """
        cutoff = to_us(now - timedelta(days=self.retention_days))
        with self._lock:
            return int(self._write("prune", self._delete_before, cutoff))

    def _delete_before(self, cutoff_us: int) -> int:
        return self._conn.execute("DELETE FROM events WHERE time_us < ? AND time_us >= ?",
                                  (cutoff_us, STAMPED_FROM_US)).rowcount

    # ---- device health --------------------------------------------------------------------------

    def update_health(self, h: DeviceHealth) -> None:
        """Merge one health report: its ``None`` fields keep the previous values; a late older report
        only fills gaps. Does not change ``last_seen`` (an availability report may come from the bridge,
        not the device): call :meth:`mark_seen` for messages from the device itself."""
        row = (h.sensor_id, h.source, opt_int(h.available), h.battery, h.linkquality, h.voltage,
               opt_int(h.tamper), to_us(h.time))
        with self._lock:
            self._write("update_health", self._upsert_health, row)

    def _upsert_health(self, row: tuple[Any, ...]) -> None:
        self._conn.execute(
            "INSERT INTO device_health (sensor_id, source, available, battery, linkquality, voltage, tamper, "
            f"updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sensor_id) DO UPDATE SET {_HEALTH_MERGE}, "
            "updated_us = MAX(COALESCE(updated_us, excluded.updated_us), excluded.updated_us)", row)

    def mark_seen(self, sensor_id: str, when: datetime) -> None:
        """Record a message from the device (any kind); ``last_seen`` only moves forward."""
        row = (sensor_id, to_us(when))
        with self._lock:
            self._write("mark_seen", self._upsert_seen, row)

    def _upsert_seen(self, row: tuple[str, int]) -> None:
        self._conn.execute(
            "INSERT INTO device_health (sensor_id, last_seen_us) VALUES (?, ?) ON CONFLICT (sensor_id) DO UPDATE "
            "SET last_seen_us = MAX(COALESCE(last_seen_us, excluded.last_seen_us), excluded.last_seen_us)", row)

    def health(self) -> list[DeviceHealthRow]:
        rows = self._read("health", "SELECT sensor_id, source, last_seen_us, available, battery, linkquality, "
                                    "voltage, tamper, updated_us FROM device_health ORDER BY sensor_id")
        return [DeviceHealthRow(sid, src, opt_from_us(seen), opt_bool(avail), batt, lq, volt, opt_bool(tamper),
                                opt_from_us(upd))
                for sid, src, seen, avail, batt, lq, volt, tamper, upd in rows]

    # ---- rejections -----------------------------------------------------------------------------

    def add_rejection(self, r: Rejection) -> None:
        """Count one rejected input under (source, reason, device), keeping first/last time and the newest
        detail (cut to 300 characters). At most 100 devices per (source, reason) get their own row; the
        rest are counted together as ``"(other devices)"``, so a flood of junk cannot fill the disk."""
        row = (cut(r.source), cut(r.reason), cut(r.device), to_us(r.time), cut(r.detail, DETAIL_MAX))
        with self._lock:
            self._write("add_rejection", self._count_rejection, row)

    def _count_rejection(self, row: tuple[str, str, str, int, str]) -> None:
        source, reason, device, t, detail = row
        bump = ("UPDATE rejections SET count = count + 1, first_us = MIN(first_us, :t), "
                "last_detail = CASE WHEN :t >= last_us THEN :detail ELSE last_detail END, "
                "last_us = MAX(last_us, :t) WHERE source = :source AND reason = :reason AND device = :device")
        params = {"source": source, "reason": reason, "device": device, "t": t, "detail": detail}
        if self._conn.execute(bump, params).rowcount:
            return
        known = self._conn.execute("SELECT COUNT(*) FROM rejections WHERE source = ? AND reason = ?",
                                   (source, reason)).fetchone()[0]
        if known >= DEVICES_PER_REASON:
            params["device"] = OTHER_DEVICES
            if self._conn.execute(bump, params).rowcount:
                return
        self._conn.execute("INSERT INTO rejections (source, reason, device, count, first_us, last_us, last_detail) "
                           "VALUES (:source, :reason, :device, 1, :t, :t, :detail)", params)

    def rejections(self) -> list[RejectionRow]:
        rows = self._read("rejections", "SELECT source, reason, device, count, first_us, last_us, last_detail "
                                        "FROM rejections ORDER BY source, reason, device")
        return [RejectionRow(src, reason, dev or None, count, from_us(first), from_us(last), detail)
                for src, reason, dev, count, first, last, detail in rows]

    # ---- alerts ---------------------------------------------------------------------------------

    def add_alert(self, alert: Alert) -> int:
        """Store an alert; return its row id. (If its batch fails and is replayed the id is normally the
        same, but only ids of committed alerts are guaranteed.)"""
        row = alert_row(alert)
        with self._lock:
            return int(self._write("add_alert", self._insert_alert, row))

    def _insert_alert(self, row: tuple[Any, ...]) -> int | None:
        return self._conn.execute(
            f"INSERT INTO alerts ({_ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid

    def alerts(self, since: datetime | None = None, person: str | None = None) -> list[Alert]:
        """Alerts with ``time >= since`` (for ``person`` if given), oldest first."""
        where, params = _where(("time_us >= ?", since and to_us(since)), ("person = ?", person))
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts{where}"
        return [alert_from_row(*r) for r in self._read("alerts", sql + " ORDER BY time_us, id", params)]

    def record_outcome(self, key: str, outcome: str, by: str, at: datetime) -> None:
        """What a person said about the alert ``key`` afterwards: ``real`` or ``false_alarm`` (latest wins)."""
        if outcome not in ("real", "false_alarm"):
            raise ValueError(f"outcome must be real or false_alarm, not {outcome!r}")
        row = (key, outcome, by[:NAME_MAX], to_us(at))
        with self._lock:
            self._write("record_outcome", lambda r: self._conn.execute(
                "INSERT INTO alert_outcomes (key, outcome, by, at_us) VALUES (?, ?, ?, ?) ON CONFLICT(key) "
                "DO UPDATE SET outcome=excluded.outcome, by=excluded.by, at_us=excluded.at_us", r), row)

    def outcomes(self) -> dict[str, tuple[str, str, datetime]]:
        """Alert key -> (outcome, by, when)."""
        rows = self._read("outcomes", "SELECT key, outcome, by, at_us FROM alert_outcomes")
        return {k: (o, b, from_us(t)) for k, o, b, t in rows}

    # ---- learned state --------------------------------------------------------------------------

    def save_state(self, key: str, blob: bytes) -> None:
        """Store a learned-routine checkpoint under ``key`` (replacing the previous one) in this batch."""
        row = (key, bytes(blob), to_us(datetime.now(UTC)))
        with self._lock:
            self._write("save_state", self._upsert_state, row)

    def _upsert_state(self, row: tuple[str, bytes, int]) -> None:
        self._conn.execute("INSERT INTO state (key, blob, updated_us) VALUES (?, ?, ?) ON CONFLICT (key) "
                           "DO UPDATE SET blob = excluded.blob, updated_us = excluded.updated_us", row)

    def load_state(self, key: str) -> bytes | None:
        rows = self._read("load_state", "SELECT blob FROM state WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    # ---- MQTT messages stored (gateway/redelivery.py) ---------------------------------------------

    def note_handled(self, marks: Sequence[tuple[int, bytes]]) -> None:
        """In this batch: these (packet id, digest) messages are stored, newest last."""
        if marks:
            with self._lock:
                self._write("note_handled", self._upsert_handled, list(marks), rows=len(marks))

    def _upsert_handled(self, marks: list[tuple[int, bytes]]) -> None:
        top = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM mqtt_handled").fetchone()[0]
        self._conn.executemany("INSERT OR REPLACE INTO mqtt_handled (mid, digest, seq) VALUES (?, ?, ?)",
                               [(mid, d, top + i) for i, (mid, d) in enumerate(marks, 1)])

    def handled_marks(self, newest: int) -> list[tuple[int, bytes]]:
        """The ``newest`` stored messages' (packet id, digest), oldest first."""
        rows = self._read("handled_marks", "SELECT mid, digest FROM (SELECT mid, digest, seq FROM mqtt_handled "
                          "ORDER BY seq DESC LIMIT ?) ORDER BY seq", (newest,))
        return [(int(m), bytes(d)) for m, d in rows]

    # ---- lifecycle ------------------------------------------------------------------------------

    def backup_to(self, path: str | Path) -> None:
        """Write a consistent copy of the committed data to ``path`` while the service keeps running.

        Uses SQLite's backup API from a separate read-only connection (a WAL reader does not block the
        writer); the copy is written beside ``path`` and renamed into place, so ``path`` is never half a file.
        """
        dest = Path(path)
        if dest.resolve() == self.path.resolve():
            raise ValueError(f"backup_to: {dest} is the database itself")
        tmp = dest.with_name(dest.name + ".partial")
        tmp.unlink(missing_ok=True)
        src = out = None
        try:
            src = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            out = sqlite3.connect(tmp)
            src.backup(out)
            out.close()
            out = None
            os.replace(tmp, dest)
        except sqlite3.Error as exc:
            raise storage_error(exc, dest, "backup") from exc
        finally:
            for c in (src, out):
                if c is not None:
                    c.close()
            tmp.unlink(missing_ok=True)

    def file_lost(self) -> str | None:
        """Why the file at :attr:`path` is no longer the one this store writes to ("deleted", or
        "replaced by another file"), else ``None``. SQLite keeps writing to the open file when its name
        is gone, and everything written since would be lost at the next start."""
        try:
            now = file_identity(self.path)
        except OSError:  # cannot look (a failing card): only a clear deletion or replacement is reported
            return None
        if self._identity is None or now == self._identity:
            return None
        return "deleted" if now is None else "replaced by another file"

    def copy_out(self, dest: str | Path) -> None:
        """Commit, then write everything this open connection holds to ``dest`` (a new file) with
        SQLite's backup API: it reads through this connection, so it works when the file has no name
        any more (:meth:`file_lost`), where :meth:`backup_to`, which opens the path again, cannot."""
        dest = Path(dest)
        with self._lock:
            self._commit_locked()
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = sqlite3.connect(dest)
            try:
                self._conn.backup(out)
            except sqlite3.Error as exc:
                raise storage_error(exc, dest, "copying the open database out") from exc
            finally:
                out.close()

    def close(self) -> None:
        """Commit the open batch and close. If that commit fails the error is raised, but the file is
        closed all the same (its committed data is intact)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._commit_locked()
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA optimize")  # SQLite's advice before closing: refresh stats
            finally:
                self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``; ``None`` when there is none.

    Raises ``OSError`` when it cannot be looked at (a failing card), which is not a lost file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def opt_int(v: bool | None) -> int | None:
    return None if v is None else int(v)
