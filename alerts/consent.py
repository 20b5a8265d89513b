"""THE consent gate: the one place that decides whether a message about a person may reach a recipient.

Every delivery passes :func:`decide` twice: when it is queued and again just before it is sent (a pause
may have started, or a quiet period begun, in between). The rules, in order:

1. no consent entry for this person and recipient: nothing is sent (``no_consent``);
2. the category is not among what the person agreed to (``category_not_consented``);
3. the person paused all sharing (``paused``). Urgent alerts are paused too: the person asked for
   privacy, and Hearth honours it. Each withheld urgent alert is logged at WARNING and kept in the
   ``outbox_withheld`` table, and the team is told after the pause that something was held;
4. quiet hours: a non-urgent message waits until the quiet period ends (``quiet_hours``); urgent
   messages are never held by quiet hours;
5. otherwise it may go now (``consented``).

>>> from datetime import datetime, timezone
>>> from types import SimpleNamespace as NS
>>> cfg = NS(timezone="Europe/London", consent=[NS(person="p1", recipient="jo", receives=["urgent", "digest"],
...          quiet_window=(time(21, 30), time(8, 0)))])
>>> decide(cfg, "p1", "jo", "digest", datetime(2026, 1, 5, 23, 0, tzinfo=timezone.utc), [])
Decision(allow=True, deliver_at=datetime.datetime(2026, 1, 6, 8, 0, tzinfo=datetime.timezone.utc), reason='quiet_hours')
>>> decide(cfg, "p1", "jo", "concern", datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc), []).reason
'category_not_consented'
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from routines.alert import Alert, Audience, Severity

log = logging.getLogger("hearth.consent")

# (severity, audience) -> category; info + care is trends material (the weekly note), never pushed.
_CATEGORY: dict[tuple[Severity, Audience], str | None] = {
    (Severity.URGENT, Audience.CARE): "urgent",
    (Severity.WARNING, Audience.CARE): "concern",
    (Severity.INFO, Audience.CARE): None,
    (Severity.URGENT, Audience.TECHNICAL): "technical",
    (Severity.WARNING, Audience.TECHNICAL): "technical",
    (Severity.INFO, Audience.TECHNICAL): "technical",
}


def category_of(alert: Alert) -> str | None:
    """The consent category of an alert, or ``None`` when it is not pushed to anyone.

    >>> a = Alert(datetime(2026, 1, 5, 9, 30, tzinfo=UTC), "p1", "not_up", Severity.URGENT, Audience.CARE, "")
    >>> category_of(a)
    'urgent'
    """
    return _CATEGORY[(Severity(alert.severity), Audience(alert.audience))]


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a message may go, when (UTC, aware), and why (a stable reason code)."""

    allow: bool
    deliver_at: datetime
    reason: str


def quiet_until(window: tuple[time, time] | None, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When the quiet period containing ``now`` ends (UTC), or ``None`` if ``now`` is not in one.

    Local wall-clock times in the home's timezone; a window like 21:30-08:00 wraps midnight. On a DST
    change the end is the first instant at or after the local end time, so it never lies in the past.
    """
    if window is None:
        return None
    start, end = window
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= t < end, local.date()
    else:  # wraps midnight
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    # A local end time that does not exist (spring forward) resolves with the pre-change offset. One
    # that occurs twice (fall back) is its first occurrence, unless ``now`` is already past that.
    for fold in (0, 1):
        until = datetime.combine(end_day, end, tzinfo=tz).replace(fold=fold).astimezone(UTC)
        if until > now:
            return until
    return None


def decide(cfg_view: Any, person: str, recipient: str, category: str, now: datetime,
           pauses: Iterable[Any]) -> Decision:
    """The consent gate. ``cfg_view`` has ``timezone`` and ``consent`` (the home config will do);
    ``pauses`` are :class:`alerts.config.PrivacyPause` (anything with ``person`` and ``covers(now)``).
    """
    if now.tzinfo is None:
        raise ValueError("decide() needs an aware datetime")
    now_utc = now.astimezone(UTC)
    entry = next((c for c in cfg_view.consent if c.person == person and c.recipient == recipient), None)
    if entry is None:
        return Decision(False, now_utc, "no_consent")
    if category not in entry.receives:
        return Decision(False, now_utc, "category_not_consented")
    if any(p.person == person and p.covers(now_utc) for p in pauses):
        return Decision(False, now_utc, "paused")
    if category != "urgent":
        until = quiet_until(entry.quiet_window, now_utc, ZoneInfo(cfg_view.timezone))
        if until is not None:
            return Decision(True, until, "quiet_hours")
    return Decision(True, now_utc, "consented")


def log_withheld(person: str, recipient: str, category: str, reason: str, alert_key: str | None) -> None:
    """Log one withholding; an urgent one at WARNING so technicians see it in the journal."""
    level = logging.WARNING if category == "urgent" else logging.INFO
    log.log(level, "withheld %s message about %s from %s: %s", category, person, recipient, reason,
            extra={"ctx": {"person": person, "recipient": recipient, "category": category,
                           "reason": reason, "alert_key": alert_key}})
