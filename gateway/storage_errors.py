"""Errors the gateway store raises: every ``sqlite3.Error`` leaves :mod:`gateway.storage` as one of these.

The service catches :class:`StorageError`; the subclass says whether waiting can help
(:class:`StorageFullError`, :class:`StorageReadOnlyError`, :class:`StorageBusyError`) or a person must act
(:class:`SchemaTooNewError`, :class:`StorageCorruptError`).

>>> import sqlite3
>>> err = storage_error(sqlite3.OperationalError("database or disk is full"), "/var/lib/hearth/hearth.db", "add_events")
>>> type(err).__name__, isinstance(err, StorageError)
('StorageFullError', True)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StorageError(Exception):
    """A storage operation failed; the message names the file, the operation and what to do."""

    retryable: bool = False


class StorageFullError(StorageError):
    """The disk (or the database's size limit) is full. Writes can resume once space is freed."""

    retryable = True


class StorageReadOnlyError(StorageError):
    """The database file or its folder cannot be written (permissions, a read-only remount)."""

    retryable = True


class StorageBusyError(StorageError):
    """Another process held the database lock for longer than the busy timeout."""

    retryable = True


class StorageCorruptError(StorageError):
    """The file is not a usable SQLite database. Restore a backup (``Store.backup_to`` makes them)."""


class SchemaTooNewError(StorageError):
    """The file was written by a newer Hearth; this one refuses to touch it rather than guess."""


# SQLite primary result codes (the low byte of the extended code) -> (error class, what to do).
_BY_CODE: dict[int, tuple[type[StorageError], str]] = {
    5: (StorageBusyError, "another process holds the database lock; it will be retried"),  # SQLITE_BUSY
    6: (StorageBusyError, "the database table is locked; it will be retried"),  # SQLITE_LOCKED
    8: (StorageReadOnlyError, "the database cannot be written: check the file and folder permissions "
                              "and that the filesystem is not mounted read-only"),  # SQLITE_READONLY
    10: (StorageFullError, "a disk I/O error occurred (often a full or failing SD card); "
                           "free space or replace the card"),  # SQLITE_IOERR
    11: (StorageCorruptError, "the database file is corrupt: restore a backup"),  # SQLITE_CORRUPT
    13: (StorageFullError, "the disk or the database size limit is full: free space, "
                           "then writes resume"),  # SQLITE_FULL
    14: (StorageReadOnlyError, "the database file cannot be opened: check the path and "
                               "permissions"),  # SQLITE_CANTOPEN
    26: (StorageCorruptError, "the file is not a SQLite database: restore a backup or "
                              "point storage.path elsewhere"),  # SQLITE_NOTADB
}

# Older Pythons or odd builds may lack ``sqlite_errorcode``: fall back to SQLite's message text.
_BY_MESSAGE: tuple[tuple[str, int], ...] = (
    ("disk is full", 13),
    ("readonly database", 8),
    ("database is locked", 5),
    ("disk i/o error", 10),
    ("malformed", 11),
    ("not a database", 26),
    ("unable to open", 14),
)


def storage_error(exc: sqlite3.Error, path: str | Path, operation: str) -> StorageError:
    """Map one ``sqlite3.Error`` to the matching :class:`StorageError`, with a message for a technician."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary not in _BY_CODE:
        text = str(exc).lower()
        primary = next((c for needle, c in _BY_MESSAGE if needle in text), None)
    cls, advice = _BY_CODE.get(primary, (StorageError, "see the SQLite message"))
    return cls(f"storage {path}: {operation} failed: {exc} ({advice})")
