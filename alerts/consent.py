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
5. otherwise it may go now (``consented``);
6. per address: a message lands where others may read it too (recipients sharing one ntfy topic, one
   email address, one MQTT uplink): it goes only if *every* one of them may receive
   it (``shared_address``), and waits for the longest quiet hours among them.

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


# channel -> where a recipient's messages on it land: recipients with equal addresses read each other's.
# A webhook is the exception: its signed body names its one recipient, and one URL routing for many
# (an SMS gateway, a care-record system, the demo's inbox) is how webhooks are meant to be used, so each
# recipient on it is an address of their own.
ADDRESS_OF = {
    "ntfy": lambda r, home: f"ntfy {r.ntfy.server}/{r.ntfy.topic}",
    "webhook": lambda r, home: f"webhook {r.webhook.url} for {r.id}",
    "email": lambda r, home: f"email {r.email.lower()}",
    "mqtt": lambda r, home: f"mqtt {r.mqtt.host}:{r.mqtt.port}/{r.mqtt.alert_topic(home)}",
}


def delivery_address(recipient: Any, channel: str, home: str) -> str:
    """Where ``recipient``'s messages on ``channel`` are delivered: an ntfy server and topic, a webhook
    URL, an email address, an MQTT broker and topic (the uplink topic is per home, not per recipient)."""
    return ADDRESS_OF[channel](recipient, home)


def shared_addresses(cfg_view: Any) -> dict[str, list[str]]:
    """Addresses two or more recipients share -> their ids, in config order.

    >>> from types import SimpleNamespace as NS
    >>> rs = [NS(id="sam", email="Team@x.org", channels=("email",)), NS(id="jo", email="team@x.org", channels=("email",))]
    >>> shared_addresses(NS(name="home", recipients=rs))
    {'email team@x.org': ['sam', 'jo']}
    """
    by_address: dict[str, list[str]] = {}
    for r in getattr(cfg_view, "recipients", ()):
        for channel in r.channels:
            ids = by_address.setdefault(delivery_address(r, channel, getattr(cfg_view, "name", "home")), [])
            if r.id not in ids:
                ids.append(r.id)
    return {a: ids for a, ids in by_address.items() if len(ids) > 1}


def decide(cfg_view: Any, person: str, recipient: str, category: str, now: datetime,
           pauses: Iterable[Any], channel: str | None = None) -> Decision:
    """The consent gate. ``cfg_view`` has ``timezone`` and ``consent`` (the home config will do);
    ``pauses`` are :class:`alerts.config.PrivacyPause` (anything with ``person`` and ``covers(now)``).

    With ``channel``, the decision is for the *address* the message lands at: when other recipients
    read the same address (one ntfy topic, one MQTT uplink), it may go only if every one of them may
    receive it (else ``shared_address``), and only when the quietest of them is out of quiet hours.
    """
    pauses = list(pauses)
    own = _decide_one(cfg_view, person, recipient, category, now, pauses)
    if channel is None or not own.allow:
        return own
    by_id = {r.id: r for r in getattr(cfg_view, "recipients", ())}
    if recipient not in by_id:
        return own
    home = getattr(cfg_view, "name", "home")
    address = delivery_address(by_id[recipient], channel, home)
    for other in by_id.values():
        if other.id == recipient or not any(delivery_address(other, c, home) == address for c in other.channels):
            continue
        theirs = _decide_one(cfg_view, person, other.id, category, now, pauses)
        if not theirs.allow:
            return Decision(False, own.deliver_at, "shared_address")
        if theirs.deliver_at > own.deliver_at:
            own = theirs
    return own


def _decide_one(cfg_view: Any, person: str, recipient: str, category: str, now: datetime,
                pauses: Iterable[Any]) -> Decision:
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
