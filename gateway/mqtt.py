"""The gateway's one MQTT connection: paho-mqtt in its own thread, bridged to asyncio.

Why this shape:
- a persistent session (fixed client id, clean_session False) and QoS 1 subscriptions, so the broker
  keeps messages for us across our restarts and its own;
- manual acknowledgement: a message is acked only after it is stored (see :meth:`MqttLink.ack`), so a
  killed gateway gets unacked messages again on reconnect instead of losing them;
- a bounded asyncio queue: when the gateway falls behind, paho's thread waits, TCP backs up and the
  broker holds the rest — memory stays bounded and nothing is dropped;
- paho reconnects by itself with exponential backoff (1 s .. 60 s).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt

log = logging.getLogger("hearth.mqtt")


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool


class MqttLink:
    def __init__(self, host: str, port: int, subscriptions: list[str], *, client_id: str = "hearth-gateway",
                 username: str | None = None, password: str | None = None, keepalive_s: int = 30,
                 queue_size: int = 1000):
        self.host, self.port = host, port
        self.subscriptions = list(subscriptions)
        self.messages: asyncio.Queue[MqttMessage] = asyncio.Queue(maxsize=queue_size)
        self.connected = False
        self.status = "not started"
        self.connects = 0
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                   clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)
        if username:
            self._client.username_pw_set(username, password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=60)
        self._client.max_inflight_messages_set(100)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self.subscribed = False
        self._keepalive = keepalive_s

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.status = f"connecting to {self.host}:{self.port}"
        # connect_async never blocks; the network thread connects and keeps reconnecting.
        self._client.connect_async(self.host, self.port, keepalive=self._keepalive)
        self._client.loop_start()

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.to_thread(self._client.disconnect)
        await asyncio.to_thread(self._client.loop_stop)
        self.connected = False
        self.status = "stopped"

    def ack(self, msg: MqttMessage) -> None:
        """Acknowledge a QoS 1 message once what it carried is safely stored."""
        if msg.qos > 0:
            with contextlib.suppress(Exception):  # a lost connection: the broker will redeliver, harmless
                self._client.ack(msg.mid, msg.qos)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=qos, retain=retain)

    # --- paho's thread ---------------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                    _props: object = None) -> None:
        if getattr(reason, "is_failure", False):
            self.status = f"broker refused connection: {reason}"
            log.warning("broker refused connection", extra={"ctx": {"reason": str(reason)}})
            return
        self.connected = True
        self.connects += 1
        self.status = f"connected to {self.host}:{self.port}"
        for topic in self.subscriptions:
            client.subscribe(topic, qos=1)
        log.info("connected to broker", extra={"ctx": {"host": self.host, "port": self.port,
                                                       "connects": self.connects}})

    def _on_subscribe(self, _client: mqtt.Client, _userdata: object, _mid: int, reasons: list, _props: object = None) -> None:
        failed = [str(r) for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            log.error("broker refused a subscription", extra={"ctx": {"reasons": ",".join(failed)}})
            return
        if not self.subscribed:
            self.subscribed = True
            log.info("subscribed", extra={"ctx": {"topics": ",".join(self.subscriptions)}})

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                       _props: object = None) -> None:
        self.connected = False
        if not self._stopping:
            self.status = f"disconnected ({reason}); reconnecting with backoff"
            log.warning("lost broker connection; reconnecting", extra={"ctx": {"reason": str(reason)}})

    def _on_message(self, _client: mqtt.Client, _userdata: object, m: mqtt.MQTTMessage) -> None:
        msg = MqttMessage(m.topic, bytes(m.payload), m.mid, m.qos, bool(m.retain))
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # not acked: the broker redelivers after our restart
        fut = asyncio.run_coroutine_threadsafe(self.messages.put(msg), loop)
        while not self._stopping:
            try:
                fut.result(timeout=0.5)  # waits while the queue is full: back-pressure, not loss
                return
            except concurrent.futures.TimeoutError:
                continue
            except RuntimeError:  # loop shut down
                return
        fut.cancel()


def wait_connected(link: MqttLink, timeout_s: float = 10.0) -> bool:
    """For tests and tools: poll until connected (blocking)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if link.connected:
            return True
        time.sleep(0.02)
    return False
