"""What every notifier takes and returns: the contract between the outbox/delivery and the channels.

A notifier's ``send`` never raises: every failure (unreachable server, HTTP 500, a slow server, a wrong
password) comes back as a :class:`DeliveryResult` with ``ok=False``, ``retryable`` saying whether trying
again later may help, and a ``detail`` a technician can read (never holding a secret).

>>> msg = OutgoingMessage("m-1", "sam", "ntfy", "urgent", "Ann not up", "Usually up by 08:10.", "urgent",
...                       alert_key="p1:not_up:2026-01-05")
>>> msg.is_update
False
>>> DeliveryResult.failed("HTTP 500", retryable=True).ok
False
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol, runtime_checkable

import aiohttp

CHANNELS = ("ntfy", "email", "webhook", "mqtt")
CATEGORIES = ("urgent", "concern", "digest", "trends", "technical")
PRIORITIES = ("urgent", "high", "default", "low")
Priority = Literal["urgent", "high", "default", "low"]


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one recipient on one channel.

    ``message_id`` is the idempotency key: stable across retries and restarts, so a retry after a crash
    replaces rather than repeats. ``attachments`` are ``(filename, bytes, mime_type)``; an ``image/png``
    attachment is shown inline by email. ``replaces`` names the message_id this one updates
    (e.g. "Handled by Sam 07:42" replacing the alert on every phone).
    """

    message_id: str
    recipient: str
    channel: str  # "ntfy" | "email" | "webhook" | "mqtt"
    category: str  # urgent | concern | digest | trends | technical
    title: str
    body: str
    priority: str  # "urgent" | "high" | "default" | "low"
    alert_key: str | None = None
    tags: tuple[str, ...] = ()
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    replaces: str | None = None

    @property
    def is_update(self) -> bool:
        return self.replaces is not None

    def to_json(self) -> dict[str, Any]:
        """The message as JSON (attachments by name and size only), e.g. for webhooks and MQTT."""
        return {
            "message_id": self.message_id,
            "recipient": self.recipient,
            "category": self.category,
            "title": self.title,
            "body": self.body,
            "priority": self.priority,
            "alert_key": self.alert_key,
            "tags": list(self.tags),
            "attachments": [{"filename": n, "mime_type": m, "size": len(b)} for n, b, m in self.attachments],
            "replaces": self.replaces,
        }


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one send. ``remote_id`` is the server's id for the message when it gives one."""

    ok: bool
    retryable: bool
    detail: str
    remote_id: str | None = None
    retry_after_s: float | None = None  # the receiver asked to wait this long (HTTP Retry-After)

    @classmethod
    def delivered(cls, detail: str = "delivered", remote_id: str | None = None) -> DeliveryResult:
        return cls(True, False, detail, remote_id)

    @classmethod
    def failed(cls, detail: str, *, retryable: bool, retry_after_s: float | None = None) -> DeliveryResult:
        return cls(False, retryable, detail[:300], retry_after_s=retry_after_s if retryable else None)


class RecipientLike(Protocol):
    """What a notifier needs of a recipient (``alerts.config.RecipientConfig`` has all of these)."""

    id: str
    name: str
    ntfy: Any
    email: Any
    webhook: Any
    mqtt: Any


@runtime_checkable
class Notifier(Protocol):
    channel: str

    async def send(self, msg: OutgoingMessage, recipient: Any) -> DeliveryResult:
        """Deliver ``msg`` to ``recipient``; never raises."""
        ...


# 4xx answers that say "not now" rather than "never": timeout, too early, too many requests
RETRYABLE_4XX = frozenset({408, 425, 429})
RETRY_AFTER_MAX_S = 6 * 3600.0  # a Retry-After beyond this is a receiver's mistake, not a wish to honour


def retry_after_s(value: str | None, now: float) -> float | None:
    """Seconds an HTTP ``Retry-After`` asks for (delta seconds or an HTTP date), or ``None``.

    >>> retry_after_s("120", 0.0), retry_after_s("Thu, 01 Jan 1970 00:01:00 GMT", 30.0), retry_after_s("soon", 0.0)
    (120.0, 30.0, None)
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_MAX_S)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return min(max(0.0, when - now), RETRY_AFTER_MAX_S)


def http_status_result(status: int, text: str, remote_id: str | None = None,
                       retry_after: float | None = None) -> DeliveryResult:
    """Map an HTTP status to a result: 2xx delivered; 408/425/429/5xx retryable (after ``retry_after``
    seconds when the receiver said so); any other 4xx is a permanent refusal.

    >>> http_status_result(429, "slow down", retry_after=60.0).retry_after_s, http_status_result(404, "").retryable
    (60.0, False)
    """
    if 200 <= status < 300:
        return DeliveryResult.delivered(f"HTTP {status}", remote_id)
    retryable = status in RETRYABLE_4XX or status >= 500
    snippet = " ".join(text.split())[:160]
    return DeliveryResult.failed(f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}", retryable=retryable,
                                 retry_after_s=retry_after)


class HttpSession:
    """One aiohttp session per notifier, opened on first use and kept (connections are reused across
    sends), closed by :meth:`close` when the gateway stops."""

    _session: aiohttp.ClientSession | None = None
    _timeout_s: float | None = None  # a default total timeout for every request, or None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self._timeout_s) if self._timeout_s else None
            self._session = aiohttp.ClientSession(timeout=timeout) if timeout else aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
