"""ntfy push notifications, with a lock-screen **Acknowledge** button and in-place updates.

Sending uses ntfy's JSON publish (``POST /`` on the recipient's server). Each message carries a
*sequence id* derived from its ``message_id``: publishing again with the same sequence id replaces the
notification on the phone rather than adding one, so a retry after a crash never shows twice, and an
update ("Handled by Sam 07:42", ``msg.replaces``) replaces the alert on every phone it reached.

The Acknowledge button is an ntfy ``http`` action: pressing it makes the phone itself POST a signed token
(:mod:`alerts.ack`) to the recipient's reply topic. The gateway reads that topic with
:class:`NtfyAckListener` (ntfy's JSON subscribe stream, an outbound connection), so the home opens no port
and the person pressing needs no sign-in.

>>> sequence_id_for("alert-42/sam/ntfy")
'hearth-12c9adaaa8c2f1900af190dc'
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from alerts.ack import Acknowledgement, AckSigner, AckVerifier
from alerts.channels import NtfyChannel
from alerts.notifiers.base import (
    DeliveryResult,
    HttpSession,
    OutgoingMessage,
    http_status_result,
    retry_after_s,
)

log = logging.getLogger(__name__)

NTFY_PRIORITY = {"urgent": 5, "high": 4, "default": 3, "low": 2}
ACKABLE = frozenset({"urgent", "concern"})


def sequence_id_for(message_id: str) -> str:
    """A stable ntfy sequence id for a message id (ntfy ids allow only ``[-_A-Za-z0-9]``)."""
    return "hearth-" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24]


class NtfyNotifier(HttpSession):
    """Publishes :class:`OutgoingMessage` to a recipient's ntfy topic. ``send`` never raises."""

    channel = "ntfy"

    def __init__(self, *, signer: AckSigner | None = None, ack_ttl_s: float = 24 * 3600,
                 timeout_s: float = 10.0, clock: Callable[[], float] = time.time):
        self.signer = signer
        self.ack_ttl_s = ack_ttl_s
        self.timeout_s = timeout_s
        self.clock = clock
        self._timeout_s = timeout_s

    def payload(self, msg: OutgoingMessage, ch: NtfyChannel) -> dict[str, Any]:
        """The JSON publish body for ``msg`` (without attachments)."""
        body: dict[str, Any] = {
            "topic": ch.topic,
            "title": msg.title,
            "message": msg.body,
            "priority": NTFY_PRIORITY.get(msg.priority, 3),
            "tags": list(msg.tags),
            "sequence_id": sequence_id_for(msg.replaces or msg.message_id),
        }
        if self.signer is not None and msg.alert_key and msg.category in ACKABLE and not msg.replaces:
            token = self.signer.issue(msg.alert_key, msg.recipient, now=self.clock(), ttl_s=self.ack_ttl_s)
            body["actions"] = [{"action": "http", "label": "Acknowledge", "url": f"{ch.server}/{ch.ack_topic}",
                                "method": "POST", "body": token, "clear": False}]
        return body

    async def send(self, msg: OutgoingMessage, recipient: Any) -> DeliveryResult:
        ch: NtfyChannel | None = getattr(recipient, "ntfy", None)
        if ch is None:
            return DeliveryResult.failed(f"recipient {msg.recipient} has no ntfy channel", retryable=False)
        try:
            token = ch.token_value()
        except ValueError as exc:
            return DeliveryResult.failed(f"ntfy token: {exc}", retryable=False)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            if msg.attachments:
                return await self._send_with_file(msg, ch, headers)
            async with self._http().post(f"{ch.server}/", json=self.payload(msg, ch), headers=headers) as resp:
                return await _result(resp, ch)
        except TimeoutError:
            return DeliveryResult.failed(f"ntfy {ch.server}: no answer within {self.timeout_s:g} s", retryable=True)
        except aiohttp.ClientConnectorError as exc:
            return DeliveryResult.failed(f"ntfy {ch.server}: cannot connect ({exc.os_error.strerror or exc})",
                                         retryable=True)
        except aiohttp.ClientError as exc:
            return DeliveryResult.failed(f"ntfy {ch.server}: {type(exc).__name__}: {exc}", retryable=True)

    async def _send_with_file(self, msg: OutgoingMessage, ch: NtfyChannel,
                              headers: dict[str, str]) -> DeliveryResult:
        """ntfy takes one file per message as the PUT body, with the text in headers."""
        name, data, mime = msg.attachments[0]
        headers = dict(headers) | {
            "X-Filename": name, "X-Title": _header_text(msg.title), "X-Message": _header_text(msg.body),
            "X-Priority": str(NTFY_PRIORITY.get(msg.priority, 3)), "X-Tags": ",".join(msg.tags),
            "X-Sequence-ID": sequence_id_for(msg.replaces or msg.message_id), "Content-Type": mime,
        }
        async with self._http().put(ch.topic_url, data=data, headers=headers) as resp:
            return await _result(resp, ch)


def _header_text(text: str) -> str:
    """HTTP headers are one line of ASCII; ntfy decodes RFC 2047 encoded words (UTF-8, line breaks)."""
    if text.isascii() and "\n" not in text and "\r" not in text:
        return text
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


async def _result(resp: aiohttp.ClientResponse, ch: NtfyChannel) -> DeliveryResult:
    text = await resp.text()
    remote_id = None
    if resp.status == 200:
        try:
            remote_id = json.loads(text).get("id")
        except (ValueError, AttributeError):
            return DeliveryResult.failed(f"ntfy {ch.server}: answer is not ntfy JSON", retryable=True)
    if resp.status in (401, 403):
        return DeliveryResult.failed(f"ntfy {ch.server}: HTTP {resp.status}, not allowed to publish to "
                                     f"{ch.topic} (check the access token)", retryable=False)
    result = http_status_result(resp.status, text, remote_id,
                                retry_after=retry_after_s(resp.headers.get("Retry-After"), time.time()))
    if not result.ok:
        return DeliveryResult.failed(f"ntfy {ch.server}: {result.detail}", retryable=result.retryable,
                                     retry_after_s=result.retry_after_s)
    return result


class NtfyAckListener:
    """Subscribes to reply topics on one ntfy server and yields verified acknowledgements.

    Reconnects after a dropped stream, asking for what it missed (``since=<last message id>``). Messages
    that are not valid tokens are refused by the verifier (logged and counted) and skipped.
    """

    def __init__(self, server: str, topics: list[str], verifier: AckVerifier, *, token: str | None = None,
                 since: str | None = None, reconnect_s: float = 5.0, clock: Callable[[], float] = time.time):
        self.server = server.rstrip("/")
        self.topics = topics
        self.verifier = verifier
        self.token = token
        self.last_id = since
        self.reconnect_s = reconnect_s
        self.clock = clock
        self.connected = asyncio.Event()

    async def acks(self) -> AsyncIterator[Acknowledgement]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                params = {"since": self.last_id} if self.last_id else {}
                try:
                    async with session.get(f"{self.server}/{','.join(self.topics)}/json", params=params,
                                           headers=headers) as resp:
                        if resp.status != 200:
                            log.warning("ntfy ack subscription refused",
                                        extra={"ctx": {"server": self.server, "status": resp.status}})
                        else:
                            self.connected.set()
                            async for line in resp.content:
                                ack = self._handle(line)
                                if ack is not None:
                                    yield ack
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.warning("ntfy ack subscription dropped",
                                extra={"ctx": {"server": self.server, "error": type(exc).__name__}})
                self.connected.clear()
                await asyncio.sleep(self.reconnect_s)

    def _handle(self, line: bytes) -> Acknowledgement | None:
        try:
            event = json.loads(line)
        except ValueError:
            return None
        if not isinstance(event, dict) or event.get("event") != "message":
            return None
        self.last_id = event.get("id") or self.last_id
        return self.verifier.try_verify(str(event.get("message", "")), now=self.clock(), channel="ntfy")
