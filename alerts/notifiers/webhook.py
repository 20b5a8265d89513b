"""Signed JSON webhooks, for SMS gateways and care-record systems.

The body is the message as JSON (:meth:`OutgoingMessage.to_json` plus the home's name and a send time).
Headers:

- ``X-Hearth-Timestamp``: unix seconds when it was signed;
- ``X-Hearth-Signature``: ``sha256=`` + hex HMAC-SHA256, with the shared secret, over
  ``TIMESTAMP + "." + BODY`` (so a captured request cannot be replayed later with a new time);
- ``Idempotency-Key``: the ``message_id``, the same on every retry, so the receiver can drop repeats.

A receiver checks with :func:`verify_signature`:

>>> body = b'{"title": "Ann is not up"}'
>>> ts, sig = sign(b"s3cret", body, now=1_700_000_000)
>>> verify_signature(b"s3cret", body, ts, sig, now=1_700_000_030)
True
>>> verify_signature(b"s3cret", body + b" ", ts, sig, now=1_700_000_030)
False
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from alerts.channels import WebhookChannel
from alerts.notifiers.base import (
    DeliveryResult,
    HttpSession,
    OutgoingMessage,
    http_status_result,
    retry_after_s,
)

TIMESTAMP_HEADER = "X-Hearth-Timestamp"
SIGNATURE_HEADER = "X-Hearth-Signature"


def sign(secret: bytes, body: bytes, *, now: float) -> tuple[str, str]:
    """Return (timestamp header, signature header) for ``body``."""
    ts = str(int(now))
    mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return ts, f"sha256={mac}"


def verify_signature(secret: bytes, body: bytes, timestamp: str | None, signature: str | None, *,
                     now: float, tolerance_s: float = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, body, now=int(timestamp))[1]
    return hmac.compare_digest(expected, signature)


class WebhookNotifier(HttpSession):
    """POSTs signed JSON to a recipient's webhook URL. ``send`` never raises."""

    channel = "webhook"

    def __init__(self, *, home: str = "home", clock: Callable[[], float] = time.time):
        self.home = home
        self.clock = clock

    def body(self, msg: OutgoingMessage) -> bytes:
        data: dict[str, Any] = {"home": self.home, "sent_at": int(self.clock())} | msg.to_json()
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    async def send(self, msg: OutgoingMessage, recipient: Any) -> DeliveryResult:
        ch: WebhookChannel | None = getattr(recipient, "webhook", None)
        if ch is None:
            return DeliveryResult.failed(f"recipient {msg.recipient} has no webhook", retryable=False)
        try:
            secret = ch.secret_value()
        except ValueError as exc:
            return DeliveryResult.failed(f"webhook secret: {exc}", retryable=False)
        if not secret:
            return DeliveryResult.failed("webhook has no signing secret (give secret_file or secret_env)",
                                         retryable=False)
        body = self.body(msg)
        ts, sig = sign(secret.encode("utf-8"), body, now=self.clock())
        headers = {"Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: ts,
                   SIGNATURE_HEADER: sig, "Idempotency-Key": msg.message_id}
        try:
            async with self._http().post(ch.url, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=ch.timeout_s)) as resp:
                text = await resp.text(errors="replace")
                result = http_status_result(resp.status, text,
                                            retry_after=retry_after_s(resp.headers.get("Retry-After"), self.clock()))
        except TimeoutError:
            return DeliveryResult.failed(f"webhook {ch.url}: no answer within {ch.timeout_s:g} s", retryable=True)
        except aiohttp.ClientConnectorError as exc:
            return DeliveryResult.failed(f"webhook {ch.url}: cannot connect ({exc.os_error.strerror or exc})",
                                         retryable=True)
        except aiohttp.ClientError as exc:
            return DeliveryResult.failed(f"webhook {ch.url}: {type(exc).__name__}: {exc}", retryable=True)
        if result.ok:
            return DeliveryResult.delivered(result.detail, resp.headers.get("X-Request-Id") or msg.message_id)
        return DeliveryResult.failed(f"webhook {ch.url}: {result.detail}", retryable=result.retryable,
                                     retry_after_s=result.retry_after_s)
