"""MQTT to the wellbeing team's own broker (one topic per home), and the hub's actions back the same way.

Messages are published as JSON (QoS 1) to ``PREFIX/HOME/alerts``; each carries ``message_id`` (repeats
after a retry are dropped by the team's app on that key) and, for urgent and concern alerts, a signed
``ack_token`` (:mod:`alerts.ack`). The team's app acknowledges by publishing that token, as is, to
``PREFIX/HOME/ack``, or (the hub) a JSON action that also resolves with an outcome (:mod:`alerts.uplink`,
``docs/uplink.md``); :class:`MqttUplink` verifies them, and publishes the gateway's own events and
heartbeat on the same connection. Both are outbound connections from the home.

paho-mqtt is thread-based: a send runs connect/publish/wait in a worker thread
(:func:`asyncio.to_thread`), and the listener hands messages to the loop with ``call_soon_threadsafe``.

>>> MqttNotifier(home="ann-home").topic(MqttChannel(host="mq.example.org"))
'hearth/ann-home/alerts'
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import paho.mqtt.client as mqtt

from alerts.ack import Acknowledgement, AckRefused, AckSigner, AckVerifier
from alerts.channels import MqttChannel
from alerts.notifiers.base import DeliveryResult, OutgoingMessage
from alerts.uplink import VERSION, HubAction, parse_action

log = logging.getLogger(__name__)

ACKABLE = frozenset({"urgent", "concern"})
MAX_INLINE_ATTACHMENTS = 256 * 1024  # a digest's chart (tens of kB) travels with it; anything larger by name
RESOLVE_GRACE_S = 6 * 24 * 3600  # a resolve may come days after the alert; an acknowledgement may not


def about(msg: OutgoingMessage) -> tuple[str | None, str | None]:
    """The person and the kind a message is about, from its alert key (``PERSON:KIND:...``) or, for a
    note, its id (``digest/PERSON/DATE/...``), so the hub files it without parsing words.

    >>> about(OutgoingMessage("m", "hub", "mqtt", "urgent", "t", "b", "urgent", alert_key="p1:not_up:2026-01-05"))
    ('p1', 'not_up')
    >>> about(OutgoingMessage("digest/p1/2026-01-05/hub/mqtt", "hub", "mqtt", "digest", "t", "b", "low"))
    ('p1', 'digest')
    """
    if msg.alert_key and msg.alert_key.count(":") >= 2:
        person, kind = msg.alert_key.split(":")[:2]
        return person, kind
    parts = msg.message_id.split("/")
    if len(parts) >= 3 and parts[0] in ("digest", "trends"):
        return parts[1], parts[0]
    return None, None


def _digest_day(message_id: str) -> date | None:
    """The day a digest is about, from its id ``digest/PERSON/YYYY-MM-DD/...``."""
    parts = message_id.split("/")
    try:
        return date.fromisoformat(parts[2]) if len(parts) >= 3 else None
    except ValueError:
        return None


def _client(ch: MqttChannel, client_id: str, password: str | None, timeout_s: float) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect_timeout = timeout_s
    if ch.username:
        client.username_pw_set(ch.username, password)
    if ch.tls:
        client.tls_set(ca_certs=str(ch.ca_file) if ch.ca_file else None)
    return client


class MqttNotifier:
    """Publishes to the team's broker. ``send`` never raises."""

    channel = "mqtt"

    def __init__(self, *, home: str, signer: AckSigner | None = None, ack_ttl_s: float = 24 * 3600,
                 timeout_s: float = 10.0, clock: Callable[[], float] = time.time):
        self.home = home
        self.signer = signer
        self.ack_ttl_s = ack_ttl_s
        self.timeout_s = timeout_s
        self.clock = clock
        # (person, day) -> the day's facts for a digest's ``day`` field (set by gateway/uplink.py once
        # the routine core exists; None: digests go without it, as in uplink v1)
        self.day_of: Callable[[str, date], dict[str, Any] | None] | None = None

    def topic(self, ch: MqttChannel) -> str:
        return ch.alert_topic(self.home)

    def payload(self, msg: OutgoingMessage) -> bytes:
        person, kind = about(msg)
        data: dict[str, Any] = {"v": VERSION, "type": "message", "home": self.home, "sent_at": int(self.clock()),
                                "person": person, "kind": kind} | msg.to_json()
        if sum(len(b) for _n, b, _m in msg.attachments) <= MAX_INLINE_ATTACHMENTS:
            for item, (_n, blob, _m) in zip(data["attachments"], msg.attachments, strict=True):
                item["data_b64"] = base64.b64encode(blob).decode("ascii")
        if msg.category == "digest" and person is not None and self.day_of is not None:
            day = _digest_day(msg.message_id)
            facts = self.day_of(person, day) if day is not None else None
            if facts is not None:
                data["day"] = facts
        if self.signer is not None and msg.alert_key and msg.category in ACKABLE and not msg.replaces:
            data["ack_token"] = self.signer.issue(msg.alert_key, msg.recipient, now=self.clock(),
                                                  ttl_s=self.ack_ttl_s)
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    async def send(self, msg: OutgoingMessage, recipient: Any) -> DeliveryResult:
        ch: MqttChannel | None = getattr(recipient, "mqtt", None)
        if ch is None:
            return DeliveryResult.failed(f"recipient {msg.recipient} has no mqtt channel", retryable=False)
        try:
            password = ch.password_value()
        except ValueError as exc:
            return DeliveryResult.failed(f"mqtt password: {exc}", retryable=False)
        try:
            return await asyncio.to_thread(self._publish, ch, password, self.payload(msg))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a result
            return DeliveryResult.failed(f"mqtt {ch.host}:{ch.port}: {type(exc).__name__}: {exc}", retryable=True)

    def _publish(self, ch: MqttChannel, password: str | None, payload: bytes) -> DeliveryResult:
        where = f"mqtt {ch.host}:{ch.port}"
        client = _client(ch, f"hearth-{self.home}-send-{secrets.token_hex(4)}", password, self.timeout_s)
        answered = threading.Event()
        outcome: list[mqtt.ReasonCode] = []

        def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: mqtt.ReasonCode, _p: Any) -> None:
            outcome.append(reason)
            answered.set()

        client.on_connect = on_connect
        deadline = time.monotonic() + self.timeout_s
        try:
            client.connect(ch.host, ch.port, keepalive=30)
        except OSError as exc:
            return DeliveryResult.failed(f"{where}: cannot connect ({exc.strerror or exc})", retryable=True)
        client.loop_start()
        try:
            if not answered.wait(max(0.0, deadline - time.monotonic())):
                return DeliveryResult.failed(f"{where}: no answer within {self.timeout_s:g} s", retryable=True)
            reason = outcome[0]
            if reason.is_failure:
                auth = reason.value in (4, 5, 134, 135)  # bad user name or password / not authorised
                hint = " (check the user name and password file)" if auth else ""
                return DeliveryResult.failed(f"{where}: connection refused: {reason}{hint}", retryable=not auth)
            info = client.publish(self.topic(ch), payload, qos=1)
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                return DeliveryResult.failed(f"{where}: publish not confirmed within {self.timeout_s:g} s",
                                             retryable=True)
            return DeliveryResult.delivered(f"published to {self.topic(ch)}", str(info.mid))
        except (RuntimeError, ValueError) as exc:  # paho raises these when the connection drops mid-publish
            return DeliveryResult.failed(f"{where}: {exc}", retryable=True)
        finally:
            client.disconnect()
            client.loop_stop()


class MqttUplink:
    """One lasting connection to the team's broker: subscribes to ``PREFIX/HOME/ack`` and yields verified
    actions, and publishes the gateway's events and heartbeat (:meth:`publish`).

    paho reconnects by itself; the subscription is renewed on every (re)connect. Use as
    ``async with uplink: async for ack, action in uplink.actions(): ...``.

    A token works once per action: "I'm on it" then "Resolved" with the same token are two uses, a
    repeat of either is refused as replayed. A resolve is taken for some days after the token's expiry
    (an outcome is often said the next day); an acknowledgement is not.
    """

    def __init__(self, ch: MqttChannel, home: str, verifier: AckVerifier, *, queue_size: int = 100,
                 clock: Callable[[], float] = time.time):
        self.ch = ch
        self.home = home
        self.topic = ch.ack_topic(home)
        self.verifier = verifier
        self.clock = clock
        self.connected = asyncio.Event()
        # set once the broker has confirmed the ack subscription (SUBACK) on the current connection: a
        # clean session, so a reply published before that is not kept for us; cleared on a disconnect
        self.subscribed = asyncio.Event()
        self.dropped = 0
        self.malformed = 0
        # why the link is down, for gateway/uplink.py to put in words: the error paho met, or the
        # broker's refusal (a reason name); cleared on connecting
        self.last_error: BaseException | None = None
        self.refused: str | None = None
        self.failed_attempts = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self._loop: asyncio.AbstractEventLoop | None = None
        client_id = ch.client_id or f"hearth-{home}-ack"
        self._client = _client(ch, client_id, ch.password_value(), 10.0)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.reconnect_delay_set(1, 30)

    async def __aenter__(self) -> MqttUplink:
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self.ch.host, self.ch.port, keepalive=30)
        self._client.loop_start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Queue a QoS 1 publish (thread-safe, never blocks; paho resends it after a reconnect)."""
        self._client.publish(topic, payload, qos=1, retain=retain)

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        # paho calls this inside its ``except OSError``: the error being handled is why
        error = sys.exc_info()[1]
        if self.failed_attempts % 10 == 0 or type(error) is not type(self.last_error):
            log.warning("mqtt uplink cannot connect", extra={"ctx": {"host": self.ch.host, "port": self.ch.port,
                                                                     "error": repr(error)}})
        self.last_error, self.refused = error, None
        self.failed_attempts += 1

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: mqtt.ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt uplink refused", extra={"ctx": {"host": self.ch.host, "reason": str(reason)}})
            self.refused, self.last_error = reason.getName(), None
            self.failed_attempts += 1
            return
        self.refused = self.last_error = None
        self.failed_attempts = 0
        client.subscribe(self.topic, qos=1)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.connected.set)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list, _p: Any) -> None:
        if self._loop is not None and not any(getattr(r, "is_failure", False) for r in reasons):
            self._loop.call_soon_threadsafe(self.subscribed.set)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.connected.clear)
            self._loop.call_soon_threadsafe(self.subscribed.clear)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._enqueue, message.payload)

    def _enqueue(self, payload: bytes) -> None:
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:  # a flood on the ack topic must not grow memory without bound
            self.dropped += 1
            log.warning("mqtt ack queue full; message dropped", extra={"ctx": {"dropped": self.dropped}})

    def _verify(self, action: HubAction) -> Acknowledgement | None:
        now = self.clock()
        if action.action == "ack":
            return self.verifier.try_verify(action.token, now=now, channel="mqtt")
        try:  # a resolve: same signature, a longer window, its own use of the nonce
            key, recipient, expires, nonce = self.verifier.signer.check(action.token)
            if now > expires + RESOLVE_GRACE_S:
                raise AckRefused("expired", f"expired {int(now - expires)} s ago")
            if not self.verifier.seen.claim(f"{nonce}:{action.action}", expires + RESOLVE_GRACE_S, now):
                raise AckRefused("replayed", "this alert was already resolved with this token")
        except AckRefused as exc:
            self.verifier.refused[exc.reason] = self.verifier.refused.get(exc.reason, 0) + 1
            log.warning("hub action refused", extra={"ctx": {"reason": exc.reason, "action": action.action}})
            return None
        return Acknowledgement(key, recipient, expires, nonce, now, "mqtt")

    async def actions(self) -> AsyncIterator[tuple[Acknowledgement, HubAction]]:
        """Verified actions, in the order they came; malformed ones are counted and logged."""
        while True:
            payload = await self._queue.get()
            action = parse_action(payload)
            if action is None:
                self.malformed += 1
                log.warning("malformed reply on the uplink dropped", extra={"ctx": {"topic": self.topic,
                                                                                    "bytes": len(payload)}})
                continue
            ack = self._verify(action)
            if ack is not None:
                yield ack, action

    async def acks(self) -> AsyncIterator[Acknowledgement]:
        """Only the acknowledgements (a team app that has no resolve button)."""
        async for ack, action in self.actions():
            if action.action == "ack":
                yield ack


MqttAckListener = MqttUplink  # the name it had before it also published
