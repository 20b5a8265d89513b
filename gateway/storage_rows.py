"""Row types the store returns, and the exact conversions between domain objects and SQLite rows.

Times are integer microseconds since the Unix epoch (UTC): converting there and back is exact, so a
stored :class:`~sensors.events.SensorEvent` compares equal to the one written.

>>> from datetime import datetime, timezone
>>> t = datetime(2026, 1, 5, 7, 40, 12, 345678, tzinfo=timezone.utc)
>>> from_us(to_us(t)) == t
True
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from routines.alert import Alert, Audience, Severity
from sensors.events import SensorEvent, SensorKind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

DETAIL_MAX = 300  # characters of a rejection's detail kept
NAME_MAX = 128  # characters of a source, reason or device name kept (they may come from a bad message)


def to_us(when: datetime) -> int:
    """Aware datetime -> integer microseconds since the epoch; a naive time is refused, never guessed."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"time must be timezone-aware, got {when!r}")
    return (when - EPOCH) // _US


def from_us(us: int) -> datetime:
    """Integer microseconds since the epoch -> aware UTC datetime."""
    return EPOCH + us * _US


def opt_from_us(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


def opt_bool(v: int | None) -> bool | None:
    return None if v is None else bool(v)


@dataclass(frozen=True, slots=True)
class DeviceHealthRow:
    """What the gateway knows about one device's health, merged over all its messages.

    ``last_seen`` is the newest message of any kind from the device (:meth:`Store.mark_seen`);
    ``updated`` the newest health report merged in (:meth:`Store.update_health`). ``None`` = never reported.
    """

    sensor_id: str
    source: str | None
    last_seen: datetime | None
    available: bool | None
    battery: float | None
    linkquality: float | None
    voltage: float | None
    tamper: bool | None
    updated: datetime | None


@dataclass(frozen=True, slots=True)
class RejectionRow:
    """All rejections of one (source, reason, device), counted, with the newest detail."""

    source: str
    reason: str
    device: str | None
    count: int
    first: datetime
    last: datetime
    last_detail: str


EventRow = tuple[int, str, str, float, int, str, int]


def event_row(e: SensorEvent, received_us: int) -> EventRow:
    """One event as a row; ``is_bool`` keeps ``True`` apart from ``1.0`` watts."""
    if isinstance(e.value, bool):
        value, is_bool = (1.0 if e.value else 0.0), 1
    elif isinstance(e.value, int | float) and math.isfinite(e.value):
        value, is_bool = float(e.value), 0
    else:
        raise ValueError(f"event value must be a bool or a finite number of watts, got {e.value!r} in {e!r}")
    return (to_us(e.time), str(e.sensor_id), str(SensorKind(e.kind)), value, is_bool, str(e.source), received_us)


def event_from_row(time_us: int, sensor_id: str, kind: str, value: float, is_bool: int, source: str) -> SensorEvent:
    return SensorEvent(from_us(time_us), sensor_id, SensorKind(kind), bool(value) if is_bool else float(value), source)


AlertRow = tuple[int, str, str, str, str, str, str, str, str]


def alert_row(a: Alert) -> AlertRow:
    """One alert as a row. ``evidence`` is stored as JSON: a value JSON cannot hold is kept as its text."""
    return (
        to_us(a.time), a.person, a.kind, str(Severity(a.severity)), str(Audience(a.audience)), a.message, a.key,
        json.dumps(a.evidence, default=str, ensure_ascii=False), json.dumps(list(a.recipients), ensure_ascii=False),
    )


def alert_from_row(time_us: int, person: str, kind: str, severity: str, audience: str, message: str, key: str,
                   evidence: str, recipients: str) -> Alert:
    ev: dict[str, Any] = json.loads(evidence)
    return Alert(from_us(time_us), person, kind, Severity(severity), Audience(audience), message, key=key,
                 evidence=ev, recipients=list(json.loads(recipients)))


def cut(text: str | None, limit: int = NAME_MAX) -> str:
    """A name or detail cut to ``limit`` characters ("" for None), so one bad message cannot bloat a row."""
    return "" if text is None else str(text)[:limit]
