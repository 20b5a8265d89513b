"""The hub's one MQTT connection: takes every home's uplink in, stores it in batches, and sends the
workers' actions back to each home.

A persistent session (fixed client id, ``clean_session`` off) with QoS 1: the broker keeps what
arrives while the hub is down. Messages are acknowledged to the broker only once their batch is
committed (paho's manual acks), so a killed hub loses nothing; a full inbox blocks paho's thread,
which leaves the rest with the broker rather than in memory. Messages cross from paho's thread to the
loop through a deque with one wake-up per batch, not one hand-over per message (that halved the rate). Malformed, oversized or misaddressed
messages are dropped, counted per reason and home (``refused`` table, ``stats``) and logged.

The link to the broker is said in words (:attr:`Intake.status`, on the technicians' page and in the
log): a refused login, a wrong CA, a plain port given for TLS, a broker down, with the failed attempts
and the time it started, logged when it starts or changes and then every ``LOG_EVERY`` attempts.

Several hub processes on one PostgreSQL split the uplink with an MQTT shared subscription
(``share_group``: ``$share/GROUP/PREFIX/+/KIND``): the broker hands each message to one of them, so it is
stored once. Each process needs its own ``client_id``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import paho.mqtt.client as mqtt

from hub import store
from hub.db import Db
from hub.linkwords import describe, refused
from hub.schema import Refused, Uplinked, parse
from hub.topics import ACTION_VERSION, reply_topic, subscriptions

log = logging.getLogger("hearth.hub.intake")
BATCH = 500
LOG_EVERY = 10  # a lasting broker problem is logged again every so many failed attempts


class Intake:
    def __init__(self, host: str, port: int, prefix: str, writer: ThreadPoolExecutor, db: Db, *,
                 username: str | None = None, password: str | None = None, tls: bool = False,
                 ca_file: str | None = None, client_id: str = "hearth-hub", queue_size: int = 5000,
                 share_group: str | None = None, clock: Callable[[], float] = time.time):
        self.host, self.port, self.prefix, self.share_group = host, port, prefix, share_group
        self.username, self.tls = username, tls
        self.where = f"{host}:{port}"
        self.problem: str | None = None  # why the hub is not connected, in words
        self.problem_since: float | None = None
        self.failed_attempts = 0
        self.connects = self.disconnects = 0
        self.writer, self.db, self.clock = writer, db, clock
        self.connected = asyncio.Event()
        # the broker confirmed the subscriptions (SUBACK) on this connection: until then a share group
        # hands this hub nothing, and on the first connection the broker keeps nothing for it
        self.subscribed = asyncio.Event()
        self.stats: Counter[str] = Counter()
        self._inbox: deque[mqtt.MQTTMessage] = deque()
        self._room = threading.Semaphore(queue_size)
        self._wake = asyncio.Event()
        self._flagged = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                   manual_ack=True)
        self._client.max_inflight_messages_set(200)
        if username:
            self._client.username_pw_set(username, password)
        if tls:
            self._client.tls_set(ca_certs=ca_file)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.reconnect_delay_set(1, 30)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()

    async def stop(self) -> None:
        self._stop.set()
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    @property
    def status(self) -> str:
        """The broker link in one line, for technicians."""
        if self.problem is None:
            return f"connected to {self.where}" if self.connected.is_set() else f"connecting to {self.where}"
        n = self.failed_attempts
        since = time.strftime("%H:%M", time.localtime(self.problem_since)) if self.problem_since else "?"
        return f"{self.problem}; {n} failed attempt{'s' if n != 1 else ''} since {since}, retrying"

    def report(self) -> dict[str, Any]:
        """The link and the intake's counts, as the technicians' page and /api/homes show them."""
        stats = dict(self.stats)  # one copy (made in C, under the GIL): the writer thread adds keys meanwhile
        refused_n = {k.split(":", 1)[1]: n for k, n in stats.items() if k.startswith("refused:")}
        return {"broker": self.where, "connected": self.connected.is_set(), "subscribed": self.subscribed.is_set(),
                "status": self.status,
                "failed_attempts": self.failed_attempts, "problem_since": self.problem_since,
                "connects": self.connects, "disconnects": self.disconnects,
                "share_group": self.share_group,
                "taken": {k: n for k, n in stats.items() if not k.startswith("refused:")},
                "dropped": refused_n}

    def _failing(self, problem: str, attempt: bool = True) -> None:
        self.failed_attempts += attempt
        if self.problem_since is None:
            self.problem_since = self.clock()
        if problem != self.problem or self.failed_attempts % LOG_EVERY == 0:
            log.warning("hub broker link: %s", problem, extra={"ctx": {"broker": self.where, "problem": problem,
                                                                       "failed_attempts": self.failed_attempts}})
        self.problem = problem

    def _on_connect_fail(self, _client: mqtt.Client, _u: Any) -> None:
        # paho calls this inside its ``except OSError``: the error being handled says why
        self._failing(f"cannot connect to broker {self.where}: {describe(sys.exc_info()[1], tls=self.tls)}")

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: mqtt.ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            who = f"as {self.username!r}" if self.username else "without a user name"
            self._failing(f"broker {self.where} refused the hub's login {who}: {refused(reason.getName())}")
            return
        client.subscribe([(t, 1) for t in subscriptions(self.prefix, self.share_group)])
        if self.problem is not None:
            log.info("hub broker link back", extra={"ctx": {"broker": self.where, "after_failed_attempts":
                                                            self.failed_attempts, "last_problem": self.problem}})
        else:
            log.info("hub connected to its broker", extra={"ctx": {"broker": self.where,
                                                                   "share_group": self.share_group}})
        self.problem, self.problem_since, self.failed_attempts = None, None, 0
        self.connects += 1
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self._stop.is_set():
            return
        if self.connected.is_set() and self.problem is None:
            self.disconnects += 1
            self._failing(f"lost the connection to broker {self.where} (it stopped, or the network dropped: "
                          f"{reason})", attempt=False)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.connected.clear)
            self._loop.call_soon_threadsafe(self.subscribed.clear)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list, _p: Any) -> None:
        if self._loop is not None and not any(getattr(r, "is_failure", False) for r in reasons):
            self._loop.call_soon_threadsafe(self.subscribed.set)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        # blocks this (paho's) thread while the inbox is full: the broker keeps the rest, nothing is lost
        while not self._room.acquire(timeout=1.0):
            if self._stop.is_set():
                return
        self._inbox.append(message)
        if not self._flagged:
            self._flagged = True
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Take, check, store in batches, then acknowledge the batch to the broker."""
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._flagged = False  # before draining: a message appended from now on wakes the loop again
            while self._inbox:
                batch = [self._inbox.popleft() for _ in range(min(BATCH, len(self._inbox)))]
                await loop.run_in_executor(self.writer, self._store, batch)
                for m in batch:
                    if m.qos > 0:
                        self._client.ack(m.mid, m.qos)
                self._room.release(len(batch))

    def _store(self, batch: list[mqtt.MQTTMessage]) -> None:
        now = self.clock()
        good: list[Uplinked] = []
        # counted into self.stats only once the batch is committed: whoever sees a count (the pages, a
        # test) can then read its rows, and a batch that fails to commit is not counted as taken
        counts: Counter[str] = Counter()
        for m in batch:
            r = parse(self.prefix, m.topic, m.payload)
            if isinstance(r, Refused):
                self._refuse(r, now, counts)
            else:
                good.append(r)
                counts[r.type] += 1
                for what in r.dropped:
                    self._refuse(Refused("bad_day", f"{what} was malformed and left out", r.home), now, counts)
        try:
            store.apply(self.db, good, now)
        except Exception:  # one bad row must not stop the intake: store one by one, count the rest
            self.db.rollback()
            log.exception("batch could not be stored; storing one by one")
            for r in good:
                try:
                    store.apply(self.db, [r], now)
                except Exception as exc:  # noqa: BLE001 - counted and logged, the intake goes on
                    self.db.rollback()
                    self._refuse(Refused("not_stored", f"{type(exc).__name__}: {exc}", r.home), now, counts)
        self.db.commit()
        self.stats.update(counts)

    def _refuse(self, r: Refused, now: float, counts: Counter[str]) -> None:
        counts[f"refused:{r.reason}"] += 1
        n = self.stats[f"refused:{r.reason}"] + counts[f"refused:{r.reason}"]
        if n in (1, 10) or n % 1000 == 0:  # a flood of junk must not flood the log
            log.warning("uplink message dropped", extra={"ctx": {"reason": r.reason, "home": r.home,
                                                                 "detail": r.detail, "count": n}})
        store.count_refusal(self.db, r.reason, r.home or "?", r.detail, now)

    def reply(self, home: str, action: str, token: str, by: str, outcome: str | None = None) -> bool:
        """Send a worker's action to the home (QoS 1; paho resends it after a reconnect)."""
        body = {"v": ACTION_VERSION, "action": action, "token": token, "by": by} | ({"outcome": outcome} if outcome else {})
        info = self._client.publish(reply_topic(self.prefix, home), json.dumps(body), qos=1)
        return info.rc == mqtt.MQTT_ERR_SUCCESS
