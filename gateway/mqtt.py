"""The gateway's one MQTT connection: paho-mqtt in its own thread, bridged to asyncio.

Why this shape:
- a persistent session (fixed client id, clean_session False) and QoS 1 subscriptions, so the broker
  keeps messages for us across our restarts and its own;
- manual acknowledgement: a message is acked only after it is stored (see :meth:`MqttLink.ack`), so a
  killed gateway gets unacked messages again on reconnect instead of losing them;
- a bounded asyncio queue: when the gateway falls behind, paho's thread waits, TCP backs up and the
  broker holds the rest (up to its max_queued_messages; what it drops beyond that is counted, below);
- paho reconnects by itself with exponential backoff (1 s .. 60 s);
- :attr:`MqttLink.status` says in a technician's words what is wrong while it is not connected (the
  console shows it, and each new problem is logged), e.g.
  ``cannot reach broker 127.0.0.1:1883: connection refused (is the broker running, on that port?);
  4 failed attempts, retrying in 16 s`` or ``broker 127.0.0.1:1883 refused the login as 'hearth': not
  authorised (wrong user name or password?); check broker.username and ...``.
  The password is never part of it; a failed TLS handshake is worded too (wrong CA, name mismatch);
- TLS when ``tls`` is given (see :class:`gateway.config.BrokerTls`: always verifying, no insecure mode);
- what the broker itself drops is counted here, not only in mosquitto's log: a second, clean-session
  connection (``<client_id>-sys``) reads ``$SYS/broker/publish/messages/dropped``. A connection of
  its own because the main one stops reading while the gateway is behind (back-pressure), which is
  exactly when the broker drops; and so ``$SYS`` messages never come near the adapters' queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import math
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

if TYPE_CHECKING:
    from gateway.config import BrokerTls

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
# Why the broker's certificate was not trusted (OpenSSL X509_V_ERR_* codes); {name} is the name checked.
_WRONG_CA = "its certificate is not signed by the CA in broker.tls.ca_file (wrong CA file?)"
_MISMATCH = ("its certificate is not for {name} (name mismatch: set broker.tls.server_name to the name "
             "in its certificate, or connect by that name)")
TLS_VERIFY_WORDS: dict[int, str] = {
    2: _WRONG_CA,   # unable to get issuer certificate
    18: _WRONG_CA,  # self-signed certificate
    19: _WRONG_CA,  # self-signed certificate in chain
    20: _WRONG_CA,  # unable to get local issuer certificate
    9: "its certificate is not valid yet (is this Pi's clock right?)",
    10: "its certificate has expired (or this Pi's clock is wrong)",
    62: _MISMATCH,  # hostname mismatch
    64: _MISMATCH,  # IP address mismatch
}
# Other handshake failures, by OpenSSL's reason name.
TLS_REASON_WORDS: dict[str, str] = {
    "WRONG_VERSION_NUMBER": "it did not answer in TLS (is broker.port its plain port? TLS is usually 8883)",
    "RECORD_LAYER_FAILURE": "it did not answer in TLS (is broker.port its plain port? TLS is usually 8883)",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "it wants a client certificate: set broker.tls.cert_file and key_file",
    "SSLV3_ALERT_BAD_CERTIFICATE": "it refused our client certificate (broker.tls.cert_file)",
    "TLSV1_ALERT_UNKNOWN_CA": "it does not trust the CA of our client certificate (broker.tls.cert_file)",
}
TLS_CLOSED = ("the broker closed the connection: it did not answer in TLS (is broker.port its plain port? "
              "TLS is usually 8883)")
SYS_DROPPED = "$SYS/broker/publish/messages/dropped"  # mosquitto: dropped for queue / inflight limits


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


def describe_tls_error(exc: ssl.SSLError, name: str) -> str:
    """A failed TLS handshake in words; ``name`` is the name the certificate had to carry.

    >>> e = ssl.SSLCertVerificationError(1, "certificate verify failed")
    >>> e.verify_code, e.reason = 62, "CERTIFICATE_VERIFY_FAILED"
    >>> describe_tls_error(e, "broker.lan")[:33]
    'its certificate is not for broker'
    """
    code = getattr(exc, "verify_code", None)
    if code in TLS_VERIFY_WORDS:
        return TLS_VERIFY_WORDS[code].format(name=name)
    if exc.reason in TLS_REASON_WORDS:
        return TLS_REASON_WORDS[exc.reason]
    return getattr(exc, "verify_message", None) or exc.reason or str(exc)


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool
    dup: bool = False  # the broker sends it again (it may already be stored: gateway/redelivery.py)


class MqttLink:
    def __init__(self, host: str, port: int, subscriptions: list[str], *, client_id: str = "hearth-gateway",
                 username: str | None = None, password: str | None = None, keepalive_s: int = 30,
                 queue_size: int = 1000, tls: BrokerTls | None = None, watch_broker: bool = True):
        self.host, self.port = host, port
        self.subscriptions = list(subscriptions)
        self.messages: asyncio.Queue[MqttMessage] = asyncio.Queue(maxsize=queue_size)
        self.connected = False
        self.connects = 0
        self.disconnects = 0  # connections lost once accepted (not our own stop)
        self.failed_attempts = 0  # consecutive, since the last accepted connection
        # messages the broker dropped (all clients: on a Hearth Pi they are ours) since we first read
        # its counter; None until then (never, if the broker keeps $SYS from us)
        self.broker_dropped: int | None = None
        self._dropped_seen: int | None = None  # the broker's own running total, last read
        self._status = "not started"
        self._problem: str | None = None  # what is wrong while not connected (never holds the password)
        self._logged_problem: str | None = None
        self._retry_at: float | None = None  # monotonic time of paho's next attempt, while waiting
        self._backoff: float | None = None  # mirror of paho's own backoff step (None: reset)
        self._tries = 0  # attempts paho has started (on_pre_connect)
        self._refused = False  # the broker's CONNACK said no; the disconnect that follows keeps that reason
        self._username = username
        self._tls = tls is not None
        self._tls_name = (tls.server_name if tls is not None else None) or host
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

        def client(cid: str, persistent: bool) -> mqtt.Client:
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=not persistent,
                            protocol=mqtt.MQTTv311, manual_ack=persistent)
            if username:
                c.username_pw_set(username, password)
            if tls is not None:
                c.tls_set_context(tls.context())
            c.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
            return c

        self._client = client(client_id, persistent=True)
        self._client.max_inflight_messages_set(100)
        self._client.on_pre_connect = self._on_pre_connect
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._sys: mqtt.Client | None = None
        if watch_broker:
            self._sys = client(f"{client_id}-sys", persistent=False)
            self._sys.on_connect = self._on_sys_connect
            self._sys.on_subscribe = self._on_sys_subscribe
            self._sys.on_message = lambda _c, _u, m: self._count_dropped(m.payload)
        self.subscribed = False
        self._keepalive = keepalive_s

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def status(self) -> str:
        """One line for technicians; while failing it counts down to paho's next attempt."""
        if self._problem is None:
            dropped = self.broker_dropped
            if dropped and self.connected:
                return (f"{self._status}; the broker dropped {dropped} message(s) since Hearth started "
                        "(its queue was full: the gateway fell behind or was away too long)")
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
        if self._sys is not None:
            self._sys.connect_async(self.host, self.port, keepalive=self._keepalive)
            self._sys.loop_start()

    async def stop(self) -> None:
        self._stopping = True
        for c in (self._client, self._sys):
            if c is not None:
                await asyncio.to_thread(c.disconnect)
                await asyncio.to_thread(c.loop_stop)
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
        exc = sys.exc_info()[1]
        if self._tls and isinstance(exc, ConnectionResetError | ssl.SSLEOFError):
            # a plain MQTT listener drops a TLS hello as garbage: the likeliest cause by far
            self._failing(f"TLS handshake with broker {self.where} failed: {TLS_CLOSED}", delay)
        elif isinstance(exc, ssl.SSLError):
            self._failing(f"TLS handshake with broker {self.where} failed: "
                          f"{describe_tls_error(exc, self._tls_name)}", delay)
        else:
            self._failing(f"cannot reach broker {self.where}: {describe_os_error(exc)}", delay)

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
            self.disconnects += 1
            problem = f"lost the connection to broker {self.where} ({reason})"
        else:
            self.failed_attempts += 1
            problem = f"broker {self.where} closed the connection before accepting it ({reason})"
        self._failing(problem, delay)

    # the $SYS watcher's own connection (paho's other thread)
    def _on_sys_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                        _props: object = None) -> None:
        if not getattr(reason, "is_failure", False):
            client.subscribe(SYS_DROPPED, qos=0)  # QoS 0: nothing queued for it while we are away

    def _on_sys_subscribe(self, _client: mqtt.Client, _userdata: object, _mid: int, reasons: list,
                          _props: object = None) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons) and self._dropped_seen is None:
            log.info("the broker does not let us read %s: messages it drops cannot be counted", SYS_DROPPED,
                     extra={"ctx": {"broker": self.where}})

    def _count_dropped(self, payload: bytes) -> None:
        try:
            total = int(payload)
        except ValueError:
            return  # not mosquitto's counter: nothing to count
        last, self._dropped_seen = self._dropped_seen, total
        if last is None:
            self.broker_dropped = 0  # what it dropped before we looked is its history, not a new loss
            return
        step = total - last if total >= last else total  # a restarted broker counts from 0 again
        if step > 0:
            self.broker_dropped = (self.broker_dropped or 0) + step
            log.warning("the broker dropped %d message(s) (its queue was full); %d since Hearth started",
                        step, self.broker_dropped, extra={"ctx": {"broker": self.where, "dropped": step,
                                                                  "dropped_total": self.broker_dropped}})

    def _on_message(self, _client: mqtt.Client, _userdata: object, m: mqtt.MQTTMessage) -> None:
        if m.topic.startswith("$SYS/"):  # a broker counter (a configured topic matched it): never an event
            if m.topic == SYS_DROPPED and self._sys is None:
                self._count_dropped(m.payload)
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)
            return
        msg = MqttMessage(m.topic, bytes(m.payload), m.mid, m.qos, bool(m.retain), bool(m.dup))
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
