"""The gateway database schema as an ordered list of migrations, and the code that applies them.

``PRAGMA user_version`` holds the number of migrations applied. Opening a file runs the missing ones, in
order, inside one transaction: either the file reaches :data:`SCHEMA_VERSION` or it is left exactly as it
was. A file whose version is higher than :data:`SCHEMA_VERSION` was written by a newer Hearth and is
refused untouched (:class:`~gateway.storage_errors.SchemaTooNewError`).

Rules for whoever adds a migration: append, never edit a released one (files in homes were made by it);
each migration is a tuple of single SQL statements (no ``executescript``: it would commit half-way).

Times are integer microseconds since the Unix epoch, UTC (``*_us`` columns): exact, compact and
ordered, so an event's time round-trips to the very microsecond. Sensor values keep bool apart from watts
with ``is_bool``.

>>> import sqlite3
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> migrate(conn, ":memory:")
5
>>> conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
True
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.storage_errors import SchemaTooNewError, StorageError, storage_error

Migration = tuple[str, ...]

# v1: raw events, device health, aggregated rejections, learned-state checkpoints.
V1: Migration = (
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        time_us INTEGER NOT NULL,
        sensor_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value REAL NOT NULL,
        is_bool INTEGER NOT NULL CHECK (is_bool IN (0, 1)),
        source TEXT NOT NULL,
        received_us INTEGER NOT NULL
    )""",
    "CREATE INDEX events_time ON events (time_us)",
    """CREATE TABLE device_health (
        sensor_id TEXT PRIMARY KEY,
        source TEXT,
        last_seen_us INTEGER,
        available INTEGER,
        battery REAL,
        linkquality REAL,
        updated_us INTEGER
    )""",
    """CREATE TABLE rejections (
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        device TEXT NOT NULL,  -- '' when the input named no device
        count INTEGER NOT NULL,
        first_us INTEGER NOT NULL,
        last_us INTEGER NOT NULL,
        last_detail TEXT NOT NULL,
        PRIMARY KEY (source, reason, device)
    )""",
    """CREATE TABLE state (
        key TEXT PRIMARY KEY,
        blob BLOB NOT NULL,
        updated_us INTEGER NOT NULL
    )""",
)

# v2: alerts; voltage and tamper in device health; per-sensor event lookups.
V2: Migration = (
    """CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        time_us INTEGER NOT NULL,
        person TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        audience TEXT NOT NULL,
        message TEXT NOT NULL,
        key TEXT NOT NULL,
        evidence TEXT NOT NULL,    -- JSON object
        recipients TEXT NOT NULL   -- JSON list
    )""",
    "CREATE INDEX alerts_time ON alerts (time_us)",
    "CREATE INDEX alerts_person_time ON alerts (person, time_us)",
    "ALTER TABLE device_health ADD COLUMN voltage REAL",
    "ALTER TABLE device_health ADD COLUMN tamper INTEGER",
    "CREATE INDEX events_sensor_time ON events (sensor_id, time_us)",
)

# v3: what people said about an alert afterwards (real / false alarm), kept with who and when.
V3: Migration = (
    """CREATE TABLE alert_outcomes (
        key TEXT PRIMARY KEY,      -- the alert's situation key (Alert.key)
        outcome TEXT NOT NULL CHECK (outcome IN ('real', 'false_alarm')),
        by TEXT NOT NULL,
        at_us INTEGER NOT NULL
    )""",
)

# v4: events received while the clock was not trusted are marked (kept, never used to learn or judge).
V4: Migration = (
    "ALTER TABLE events ADD COLUMN clock_untrusted INTEGER NOT NULL DEFAULT 0 CHECK (clock_untrusted IN (0, 1))",
)

# v5: the packet id and digest of each stored MQTT message, so one the broker sends again after a
# crash between commit and ack is recognised (gateway/redelivery.py). Keyed by packet id: at most 65,535
# rows, each replaced when the broker reuses its id; ``seq`` orders them.
V5: Migration = (
    """CREATE TABLE mqtt_handled (
        mid INTEGER PRIMARY KEY,
        digest BLOB NOT NULL,
        seq INTEGER NOT NULL
    )""",
    "CREATE INDEX mqtt_handled_seq ON mqtt_handled (seq)",
)

MIGRATIONS: tuple[Migration, ...] = (V1, V2, V3, V4, V5)
SCHEMA_VERSION = len(MIGRATIONS)


def file_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def refuse_if_newer(version: int, path: str | Path) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"storage {path}: the database has schema version {version} but this Hearth knows only up to "
            f"{SCHEMA_VERSION}; it was written by a newer Hearth. The file was not changed: upgrade Hearth, "
            f"or move the file aside to start a new database."
        )


def migrate(conn: sqlite3.Connection, path: str | Path) -> int:
    """Bring the database on ``conn`` (autocommit mode) to :data:`SCHEMA_VERSION`; return that version.

    Runs in one ``BEGIN IMMEDIATE`` transaction, re-reading the version inside it so two processes opening
    the same old file cannot both migrate it.
    """
    if file_version(conn) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise storage_error(exc, path, "starting the schema migration") from exc
    step = 0
    try:
        version = file_version(conn)
        refuse_if_newer(version, path)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step - 1]:
                conn.execute(statement)
        # user_version lives in the file header and is part of this same transaction.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute("COMMIT")
    except (sqlite3.Error, StorageError) as exc:
        conn.execute("ROLLBACK")
        if isinstance(exc, StorageError):
            raise
        raise storage_error(exc, path, f"migrating the schema to version {step} (the file was left unchanged)") from exc
    return SCHEMA_VERSION
