"""Alerts that could not be stored (a full disk, a read-only card): kept in memory, bounded and counted,
and tried again once writes succeed.

What is held is what would have been written: a new alert (the policy has *not* marked it opened, so it
is submitted again as if new) or an escalation step (its alert is still open). A repeat of the same
alert key replaces the held one in place (the newest message wins, its place in line is kept), so a
detector raising the same situation every minute holds one entry, not hundreds.

When the bound is reached the least important, oldest entry goes first: technical, then concern, and
an urgent alert only when nothing else is left; every drop is counted per category and logged (urgent
at CRITICAL), never silent.

>>> from datetime import datetime, timezone
>>> from routines.alert import Alert, Audience, Severity
>>> t = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
>>> hold = HeldAlerts(limit=2)
>>> for key, sev, aud in [("a", Severity.URGENT, Audience.CARE), ("b", Severity.WARNING, Audience.TECHNICAL),
...                       ("c", Severity.WARNING, Audience.CARE)]:
...     hold.keep(("alert", key), "urgent" if sev == "urgent" else "technical" if aud == "technical" else "concern",
...               Alert(t, "p1", "k", sev, aud, "", key=key))
>>> [k for k, _ in hold.items()], hold.dropped
([('alert', 'a'), ('alert', 'c')], {'technical': 1})
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("hearth.delivery")

# Dropped first when the hold is full (lowest rank first); unknown categories rank with technical.
DROP_ORDER = {"technical": 0, "concern": 1, "urgent": 2}
HOLD_LIMIT = 500


def could_not_store(exc: BaseException) -> bool:
    """True for a write that failed because of the storage (full, read-only, locked, I/O), which waiting
    or freeing space can cure; a programming error is not one and is not retried for ever.

    >>> could_not_store(sqlite3.OperationalError("database or disk is full")), could_not_store(KeyError("x"))
    (True, False)
    """
    if isinstance(exc, sqlite3.Error):
        return True
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES)
    return bool(getattr(exc, "retryable", False))  # gateway.storage_errors.StorageError and kin


class HeldAlerts:
    """An ordered, bounded map of what could not be stored yet. ``count`` for status and the console."""

    def __init__(self, limit: int = HOLD_LIMIT):
        self.limit = limit
        self._items: dict[tuple[str, ...], tuple[str, Any]] = {}
        self.dropped: dict[str, int] = {}

    @property
    def count(self) -> int:
        return len(self._items)

    def keep(self, key: tuple[str, ...], category: str, item: Any) -> None:
        """Hold ``item`` under ``key`` (a repeat replaces it in place); make room by the drop order."""
        if key not in self._items and len(self._items) >= self.limit:
            self._drop_one()
        self._items[key] = (category, item)

    def items(self) -> Iterator[tuple[tuple[str, ...], Any]]:
        """Oldest first (a snapshot: the hold may change while the caller retries)."""
        return iter([(k, v[1]) for k, v in self._items.items()])

    def release(self, key: tuple[str, ...]) -> None:
        self._items.pop(key, None)

    def _drop_one(self) -> None:
        # min() keeps the first of equal rank, and the dict is oldest first
        key = min(self._items, key=lambda k: DROP_ORDER.get(self._items[k][0], 0))
        category, _item = self._items.pop(key)
        self.dropped[category] = self.dropped.get(category, 0) + 1
        level = logging.CRITICAL if category == "urgent" else logging.ERROR
        log.log(level, "held-alert store full (%d): dropped the oldest %s alert %s; %d %s alert(s) dropped "
                "so far. Free space on the card.", self.limit, category, key[-1], self.dropped[category], category,
                extra={"ctx": {"category": category, "key": key[-1], "dropped": dict(self.dropped)}})
