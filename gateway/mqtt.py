"""The gateway's one MQTT connection: paho-mqtt in its own thread, bridged to asyncio.

Why this shape:
- a persistent session (fixed client id, clean_session False) and QoS 1 subscriptions, so the broker
  keeps messages for us across our restarts and its own;
- manual acknowledgement: a message is acked only after it is stored (see :meth:`MqttLink.ack`), so a
  killed gateway gets unacked messages again on reconnect instead of losing them;
- a bounded asyncio queue: when the gateway falls behind, paho's thread waits, TCP backs up and the
  broker holds the rest — memory stays bounded and nothing is dropped;
- paho reconnects by itself with exponential backoff (1 s .. 60 s);
- :attr:`MqttLink.status` says in a technician's words what is wrong while it is not connected (the
  console shows it, and each new problem is logged), e.g.
  ``cannot reach broker 127.0.0.1:1883: connection refused (is the broker running, on that port?);
  4 failed attempts, retrying in 16 s`` or ``broker 127.0.0.1:1883 refused the login as 'hearth': not
  authorised (wrong user name or password?); check broker.username and ...``.
  The password is never part of it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import math
import socket
import sys
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger("hearth.mqtt")

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 60
LOG_EVERY_ATTEMPTS = 10  # a lasting failure is logged again every so many attempts (~10 min at the cap)

# Why a TCP connection to the broker failed, in words (by exception type, then by errno).
OS_ERROR_WORDS: dict[type[OSError], str] = {
    ConnectionRefusedError: "connection refused (is the broker running, on that port?)",
    ConnectionResetError: "connection reset by the broker",
    TimeoutError: "no answer (timed out): wrong address, or a firewall?",
    socket.gaierror: "host name not found",
}
ERRNO_WORDS: dict[int, str] = {
    errno.EHOSTUNREACH: "host unreachable (is it on this network?)",
    errno.ENETUNREACH: "network unreachable (is the Pi's network up?)",
}
# Why the broker refused our CONNECT (paho reason-code names; MQTT 3.1.1 codes map onto these).
CONNACK_WORDS: dict[str, str] = {
    "Not authorized": "not authorised (wrong user name or password?)",
    "Bad user name or password": "bad user name or password",
    "Client identifier not valid": "client id rejected (is another client using it?)",
    "Server unavailable": "broker unavailable",
    "Unsupported protocol version": "the broker does not speak MQTT 3.1.1",
}
AUTH_REASONS = frozenset({"Not authorized", "Bad user name or password"})


def describe_os_error(exc: BaseException | None) -> str:
    """A failed TCP connect in words.

    >>> describe_os_error(ConnectionRefusedError(111, "Connection refused"))
    'connection refused (is the broker running, on that port?)'
    >>> describe_os_error(socket.gaierror(-2, "Name or service not known"))
    'host name not found (Name or service not known)'
    """
    if not isinstance(exc, OSError):
        return "connection failed"
    for kind, words in OS_ERROR_WORDS.items():
        if isinstance(exc, kind):
            return f"{words} ({exc.strerror})" if kind is socket.gaierror and exc.strerror else words
    if exc.errno in ERRNO_WORDS:
        return ERRNO_WORDS[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__


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
        self.connects = 0
        self.failed_attempts = 0  # consecutive, since the last accepted connection
        self._status = "not started"
        self._problem: str | None = None  # what is wrong while not connected (never holds the password)
        self._logged_problem: str | None = None
        self._retry_at: float | None = None  # monotonic time of paho's next attempt, while waiting
        self._backoff: float | None = None  # mirror of paho's own backoff step (None: reset)
        self._tries = 0  # attempts paho has started (on_pre_connect)
        self._refused = False  # the broker's CONNACK said no; the disconnect that follows keeps that reason
        self._username = username
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                   clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)
        if username:
            self._client.username_pw_set(username, password)
        self._client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
        self._client.max_inflight_messages_set(100)
        self._client.on_pre_connect = self._on_pre_connect
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self.subscribed = False
        self._keepalive = keepalive_s

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def status(self) -> str:
        """One line for technicians; while failing it counts down to paho's next attempt."""
        if self._problem is None:
            return self._status
        n = self.failed_attempts
        tries = f"{n} failed attempt{'s' if n != 1 else ''}, " if n else ""
        retry_at = self._retry_at
        if retry_at is None:
            return f"{self._problem}; {tries}retrying now"
        return f"{self._problem}; {tries}retrying in {max(0, math.ceil(retry_at - time.monotonic()))} s"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._status = f"connecting to {self.where}"
        # connect_async never blocks; the network thread connects and keeps reconnecting.
        self._client.connect_async(self.host, self.port, keepalive=self._keepalive)
        self._client.loop_start()

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.to_thread(self._client.disconnect)
        await asyncio.to_thread(self._client.loop_stop)
        self.connected = False
        self._problem = None
        self._status = "stopped"

    def ack(self, msg: MqttMessage) -> None:
        """Acknowledge a QoS 1 message once what it carried is safely stored."""
        if msg.qos > 0:
            with contextlib.suppress(Exception):  # a lost connection: the broker will redeliver, harmless
                self._client.ack(msg.mid, msg.qos)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=qos, retain=retain)

    # --- paho's thread ---------------------------------------------------------------------------
    def _wait_ahead(self, waits: int) -> float:
        """Seconds until paho's next attempt, mirroring its backoff (paho 2.x ``_reconnect_wait``): each
        wait is the minimum after a reset, else double the last, capped; a successful CONNACK resets it.
        ``waits`` is how many of those waits paho makes before trying again (see the callers)."""
        total = 0.0
        for _ in range(waits):
            self._backoff = RECONNECT_MIN_S if self._backoff is None else min(self._backoff * 2, RECONNECT_MAX_S)
            total += self._backoff
        return total

    def _failing(self, problem: str, delay: float) -> None:
        self._problem = problem
        self._retry_at = time.monotonic() + delay
        ctx = {"broker": self.where, "problem": problem, "failed_attempts": self.failed_attempts,
               "retry_in_s": round(delay)}
        # logged when the problem is new or changes, then now and then while it lasts: not once a minute
        if problem != self._logged_problem or self.failed_attempts % LOG_EVERY_ATTEMPTS == 0:
            self._logged_problem = problem
            log.warning("%s; retrying in %.0f s", problem, delay, extra={"ctx": ctx})
        else:
            log.debug("%s; retrying in %.0f s", problem, delay, extra={"ctx": ctx})

    def _on_pre_connect(self, _client: mqtt.Client, _userdata: object) -> None:
        self._tries += 1
        self._retry_at = None

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        # paho calls this from inside its `except OSError:` and passes no error: the one being handled
        # is still sys.exc_info()'s, and it is what says refused / unreachable / unknown host.
        self.connected = False
        self.failed_attempts += 1
        # the very first attempt (connect_async's, in loop_forever's first loop) is followed by two
        # backoff waits before the next (measured on paho 2.2: 0 s, then 3 s, 7 s, 15 s ...); later ones by one
        delay = self._wait_ahead(2 if self._tries <= 1 else 1)
        self._failing(f"cannot reach broker {self.where}: {describe_os_error(sys.exc_info()[1])}", delay)

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                    _props: object = None) -> None:
        if getattr(reason, "is_failure", False):
            # paho disconnects right after this and waits its backoff there (see _on_disconnect)
            self.failed_attempts += 1
            self._refused = True
            name = reason.getName() if isinstance(reason, ReasonCode) else str(reason)
            words = CONNACK_WORDS.get(name, str(reason))
            if name in AUTH_REASONS:
                who = f"as {self._username!r}" if self._username else "without a user name"
                hint = ("check broker.username and broker.password_file / password_env" if self._username
                        else "it wants a login: set broker.username and broker.password_file")
                self._problem = f"broker {self.where} refused the login {who}: {words}; {hint}"
            else:
                self._problem = f"broker {self.where} refused the connection: {words}"
            return
        self.connected = True
        self.connects += 1
        self._backoff = None  # paho resets its own backoff on an accepted CONNACK
        if self._problem is not None:
            log.info("connected to broker after %d failed attempt(s)", self.failed_attempts,
                     extra={"ctx": {"broker": self.where, "last_problem": self._problem}})
        self._problem = self._logged_problem = self._retry_at = None
        self.failed_attempts = 0
        self._status = f"connected to {self.where}"
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
        was_connected, self.connected = self.connected, False
        if self._stopping:
            return
        refused, self._refused = self._refused, False
        delay = self._wait_ahead(1)  # paho waits once, then tries again
        if refused and self._problem is not None:
            problem = self._problem
        elif was_connected:
            problem = f"lost the connection to broker {self.where} ({reason})"
        else:
            self.failed_attempts += 1
            problem = f"broker {self.where} closed the connection before accepting it ({reason})"
        self._failing(problem, delay)

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
