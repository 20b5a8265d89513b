"""MQTT to the wellbeing team's own broker (one topic per home), and acknowledgements back the same way.

Messages are published as JSON (QoS 1) to ``PREFIX/HOME/alerts``; each carries ``message_id`` (repeats
after a retry are dropped by the team's app on that key) and, for urgent and concern alerts, a signed
``ack_token`` (:mod:`alerts.ack`). The team's app acknowledges by publishing that token, as is, to
``PREFIX/HOME/ack``; :class:`MqttAckListener` verifies it. Both are outbound connections from the home.

paho-mqtt is thread-based: a send runs connect/publish/wait in a worker thread
(:func:`asyncio.to_thread`), and the listener hands messages to the loop with ``call_soon_threadsafe``.

>>> MqttNotifier(home="ann-home").topic(MqttChannel(host="mq.example.org"))
'hearth/ann-home/alerts'
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import paho.mqtt.client as mqtt

from alerts.ack import Acknowledgement, AckSigner, AckVerifier
from alerts.channels import MqttChannel
from alerts.notifiers.base import DeliveryResult, OutgoingMessage

log = logging.getLogger(__name__)

ACKABLE = frozenset({"urgent", "concern"})


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

    def topic(self, ch: MqttChannel) -> str:
        return ch.alert_topic(self.home)

    def payload(self, msg: OutgoingMessage) -> bytes:
        data: dict[str, Any] = {"home": self.home, "sent_at": int(self.clock())} | msg.to_json()
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


class MqttAckListener:
    """Subscribes to ``PREFIX/HOME/ack`` on the team's broker and yields verified acknowledgements.

    paho reconnects by itself; the subscription is renewed on every (re)connect. Use as
    ``async with listener: async for ack in listener.acks(): ...``.
    """

    def __init__(self, ch: MqttChannel, home: str, verifier: AckVerifier, *, queue_size: int = 100,
                 clock: Callable[[], float] = time.time):
        self.ch = ch
        self.topic = ch.ack_topic(home)
        self.verifier = verifier
        self.clock = clock
        self.connected = asyncio.Event()
        self.dropped = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self._loop: asyncio.AbstractEventLoop | None = None
        client_id = ch.client_id or f"hearth-{home}-ack"
        self._client = _client(ch, client_id, ch.password_value(), 10.0)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 30)

    async def __aenter__(self) -> MqttAckListener:
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self.ch.host, self.ch.port, keepalive=30)
        self._client.loop_start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: mqtt.ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt ack listener refused", extra={"ctx": {"host": self.ch.host, "reason": str(reason)}})
            return
        client.subscribe(self.topic, qos=1)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.connected.clear)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._enqueue, message.payload)

    def _enqueue(self, payload: bytes) -> None:
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:  # a flood on the ack topic must not grow memory without bound
            self.dropped += 1
            log.warning("mqtt ack queue full; message dropped", extra={"ctx": {"dropped": self.dropped}})

    async def acks(self) -> AsyncIterator[Acknowledgement]:
        while True:
            payload = await self._queue.get()
            token = payload.decode("utf-8", "replace")
            ack = self.verifier.try_verify(token, now=self.clock(), channel="mqtt")
            if ack is not None:
                yield ack
