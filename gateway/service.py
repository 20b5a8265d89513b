"""`hearth run`: the running gateway. The only place where adapters, storage, the routine core and
alert delivery meet.

One message's trip::

    MQTT (paho thread) --bounded queue--> adapter.handle() -> SensorEvent / DeviceHealth / Rejection
        -> Store (one DB thread; committed in batches, then the MQTT message is acked)
        -> RoutineEngine.process() -> Alert -> Store + alerts log (+ delivery, when configured)
    a ticker calls RoutineEngine.tick(now) every ``tick_s`` so silences are noticed without events.

Bad input never stops it: every rejection is counted in the store and logged once per kind by the
adapter. A full disk keeps events in memory (bounded) and leaves MQTT messages unacked, so the broker
holds the rest until space is freed.

What a technician's tool (or a test) may use of a running gateway, without reaching into it:
``await gw.flushed()`` (all handled so far is committed and acked), ``gw.unacked_messages`` (how many
MQTT messages the broker still holds for us), ``gw.raise_alerts([...])`` (the one alert path the routine
core's alerts take too) and ``await gw.in_db(fn, ...)`` (run ``fn`` on the database thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from paho.mqtt.client import topic_matches_sub as mqtt_topic_matches

from gateway import systemd
from gateway.clocktrust import ClockTrust
from gateway.config import HomeConfig
from gateway.mqtt import MqttLink, MqttMessage
from gateway.privacy import PRIVACY_ROLES, apply_privacy_switch
from gateway.storage import Store
from gateway.storage_errors import StorageError
from gateway.timebase import Clock
from routines.alert import Alert
from routines.engine import RoutineEngine
from sensors.ble import BleAdapter, BleDecoder, BleOutput, BleScanner, bindings_from_config
from sensors.ble_relay import BleRelay
from sensors.zigbee2mqtt import AdapterOutput, Zigbee2MqttAdapter, ZigbeeBinding

log = logging.getLogger("hearth.gateway")
T = TypeVar("T")
STATE_KEY = "routines"
BLE_COUNTERS_KEY = "ble_counters"
CLOCK_KEY = "clock_trust"


def zigbee_bindings(cfg: HomeConfig) -> list[ZigbeeBinding]:
    return [ZigbeeBinding(s.id, s.kind, s.zigbee.friendly_name, s.zigbee.ieee_address,
                          s.power.on_above_w, s.power.off_below_w)
            for s in cfg.sensors if s.zigbee is not None]


@dataclass
class GatewayStats:
    messages: int = 0
    events: int = 0
    health_updates: int = 0
    rejections: int = 0
    alerts: int = 0
    storage_errors: int = 0
    last_event: str = ""
    unjudged_events: int = 0  # stored but not given to the routine engine: the clock was not trusted
    clock: str = ""  # gateway/clocktrust.py's line, e.g. "clock not synchronised: 3 events kept but not judged"

    def line(self) -> str:
        return (f"{self.messages} messages, {self.events} events, {self.rejections} rejected, "
                f"{self.alerts} alerts" + (f", last event {self.last_event}" if self.last_event else "")
                + (f"; {self.clock}" if self.clock else ""))


@dataclass
class Gateway:
    cfg: HomeConfig
    db_path: Path
    clock: Clock = field(default_factory=Clock)
    broker_host: str | None = None
    broker_port: int | None = None
    alerts_jsonl: Path | None = None
    tick_s: float = 30.0
    commit_s: float = 1.0
    flush_at: int = 15  # below the broker's in-flight window (mosquitto's default is 20)
    checkpoint_s: float = 600.0
    extra_tasks: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    on_alert: Callable[[Alert], None] | None = None
    console_port: int | None = None  # None: from the config; 0: any free port
    clock_trust: ClockTrust | None = None  # None: ClockTrust.for_clock(clock)

    def __post_init__(self) -> None:
        self.stats = GatewayStats()
        self.trust = self.clock_trust or ClockTrust.for_clock(self.clock, self.cfg.clock.require_sync)
        self.home = self.cfg.to_home()
        self._privacy_switches = {s.id: s.person for s in self.cfg.sensors if s.role in PRIVACY_ROLES}
        self.adapter = Zigbee2MqttAdapter(zigbee_bindings(self.cfg), self.cfg.zigbee2mqtt.base_topic)
        self.ble_decoder = BleDecoder(bindings_from_config(self.cfg.sensors))
        self.ble_relay = BleRelay(self.ble_decoder, self.cfg.ble.relay_topics)
        self.ble_scanner: BleScanner | None = None
        self.alerting: Any = None  # gateway.alerting.Alerting when the config has recipients
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-db")
        self.store: Store | None = None
        self.engine: RoutineEngine | None = None
        self.link: MqttLink | None = None
        self._unacked: list[MqttMessage] = []
        self._unstored: list[Callable[[Store], None]] = []
        self._acks_writing = 0  # messages of the batch the DB thread is writing now: not acked yet either
        # Every write or ack queued gets the next number; a committed batch raises ``_committed`` to the
        # number its last item had. Batches are taken whole and put back whole, so this only grows.
        self._queued = 0
        self._committed = 0
        # set, and replaced by a fresh one, at each committed batch: waiters re-check and wait again
        # (an Event, not a Condition, so the committer never waits for a lock after its write)
        self._commit_seen = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()
        self._flush_soon = asyncio.Event()
        self._stopping = False
        self._committer_task: asyncio.Task[None] | None = None
        self.console_url = ""
        self._console: Any = None

    async def in_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the gateway's one database thread (SQLite connections are not shared
        across threads, and the event loop must never block on the card), e.g.
        ``await gw.in_db(gw.store.count_events)``."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    # --- what a technician's tool or a test may wait for ------------------------------------------
    @property
    def unacked_messages(self) -> int:
        """MQTT messages handled but not yet acknowledged to the broker, including a batch being
        written now: they are acked only once stored, so on a full disk this grows and the broker keeps
        the rest."""
        return len(self._unacked) + self._acks_writing

    async def flushed(self, timeout_s: float = 30.0) -> None:
        """Return once everything handled before this call is committed to the database and its MQTT
        messages acked. Event-driven (woken by each committed batch), not polled.

        Raises ``TimeoutError`` after ``timeout_s`` (the disk may be full, or the gateway not running)::

            gw.handle_message(msg)
            await gw.flushed()  # msg's events are in SQLite now, and the broker has its ack
        """
        target = self._queued
        async with asyncio.timeout(timeout_s):
            while self._committed < target:
                await self._commit_seen.wait()

    def _queue_write(self, write: Callable[[Store], None]) -> None:
        self._queued += 1
        self._unstored.append(write)

    def _queue_ack(self, msg: MqttMessage) -> None:
        self._queued += 1
        self._unacked.append(msg)

    # --- start / stop ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.store = await self.in_db(Store, self.db_path, self.cfg.storage.retention_days)
        self.engine = await self.in_db(self._load_engine)
        self.trust.restore_state(await self.in_db(self.store.load_state, CLOCK_KEY))
        counters = await self.in_db(self.store.load_state, BLE_COUNTERS_KEY)
        if counters:
            self.ble_decoder.restore_counters(json.loads(counters))
        broker = self.cfg.broker
        self.link = MqttLink(self.broker_host or broker.host, self.broker_port or broker.port,
                             self.adapter.subscriptions + self.ble_relay.topics, client_id=broker.client_id,
                             username=broker.username, password=broker.password_value(),
                             keepalive_s=broker.keepalive_s)
        await self.link.start()
        if self.cfg.recipients:
            from gateway.alerting import Alerting

            engine = self.engine
            self.alerting = Alerting(self.cfg, self.db_path, self.clock, on_outcome=engine.record_outcome,
                                     summary_of=engine.day_summary)
            self.extra_tasks = [*self.extra_tasks, *self.alerting.tasks()]
        coros = [self._consume(), self._ticker(), self._checkpointer(), self._pruner(),
                 systemd.watchdog_pinger()] + [make() for make in self.extra_tasks]
        if self.ble_decoder.bindings and self.cfg.ble.enabled:
            coros.append(self._ble())
        self._tasks = [asyncio.create_task(c) for c in coros]
        self._committer_task = asyncio.create_task(self._committer())
        await self._start_console()
        systemd.notify_ready(f"{len(self.cfg.sensors)} sensors; broker {self.link.host}:{self.link.port}")
        log.info("gateway running", extra={"ctx": {"home": self.cfg.name, "sensors": len(self.cfg.sensors),
                                                   "db": str(self.db_path)}})
        self.ready.set()
        try:
            await stop.wait()
        finally:
            await self.shutdown()

    async def _start_console(self) -> None:
        from gateway.console import start_console

        port = self.cfg.console.port if self.console_port is None else self.console_port
        try:
            self._console = await start_console(self, self.cfg.console.host, port)
        except OSError as exc:  # a port in use must not keep the home unwatched
            log.error("web console could not start; the gateway runs without it",
                      extra={"ctx": {"host": self.cfg.console.host, "port": port, "error": exc.strerror}})

    async def shutdown(self) -> None:
        systemd.notify_stopping()
        if self._console is not None:
            await self._console.cleanup()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self._committer_task is not None:  # let it write what was handled, then it returns
            self._stopping = True
            self._flush_soon.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._committer_task, 30)
        if self.link is not None:
            await self.link.stop()
        if self.alerting is not None:
            await self.alerting.close()
        if self.store is not None:
            with contextlib.suppress(StorageError):
                await self._flush()
                await self._save_checkpoint()
            await self.in_db(self.store.close)
        self._db.shutdown(wait=True)
        log.info("gateway stopped", extra={"ctx": {"summary": self.stats.line()}})

    def _load_engine(self) -> RoutineEngine:
        assert self.store is not None
        blob = self.store.load_state(STATE_KEY)
        if blob:
            try:
                engine = RoutineEngine.restore(self.home, blob, self.cfg.routines)
                log.info("learned routines restored", extra={"ctx": {"bytes": len(blob)}})
                return engine
            except Exception as exc:  # noqa: BLE001 - an old/corrupt checkpoint must not stop the home
                log.error("could not restore learned routines; starting fresh and keeping the old copy",
                          extra={"ctx": {"error": repr(exc)}})
                self.store.save_state(f"{STATE_KEY}.unreadable", blob)
        return RoutineEngine(self.home, self.cfg.routines)

    # --- the event path --------------------------------------------------------------------------
    async def _consume(self) -> None:
        assert self.link is not None and self.engine is not None
        while True:
            msg = await self.link.messages.get()
            self.handle_message(msg)

    def handle_message(self, msg: MqttMessage) -> None:
        """Adapter -> store (queued) -> routine core -> alerts. Never raises on bad input."""
        now = self.clock.now()
        self.stats.messages += 1
        if any(mqtt_topic_matches(sub, msg.topic) for sub in self.ble_relay.topics):
            self._ingest(self.ble_relay.handle(msg.topic, msg.payload, now, self.clock.monotonic()))
        else:
            self._ingest(self.adapter.handle(msg.topic, msg.payload, now))
        self._queue_ack(msg)
        if len(self._unacked) >= self.flush_at:
            self._flush_soon.set()

    async def _ble(self) -> None:
        """The Pi's own radio: bleak scanning (with backoff when BlueZ is absent) into the same path."""
        queue: asyncio.Queue[BleOutput] = asyncio.Queue(maxsize=1000)
        self.ble_scanner = BleScanner(BleAdapter(self.ble_decoder), queue, hci=self.cfg.ble.adapter)
        scan = asyncio.create_task(self.ble_scanner.run())
        try:
            while True:
                self._ingest(await queue.get())
        finally:
            scan.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scan

    def _ingest(self, out: AdapterOutput | BleOutput) -> None:
        assert self.engine is not None
        judge = self._admit() if out.health or out.events else True
        for r in out.rejections:
            # keys zigbee2mqtt always sends that Hearth does not use are recorded, but are not a fault
            self.stats.rejections += r.reason != "ignored_key"
            self._queue_write(lambda s, r=r: s.add_rejection(r))
        for h in out.health:
            self.stats.health_updates += 1
            self._queue_write(lambda s, h=h: (s.update_health(h), s.mark_seen(h.sensor_id, h.time)))
            if judge:
                self.raise_alerts(self.engine.observe_health(h))
        if out.events:
            events = list(out.events if judge else self.trust.keep_unjudged(out.events))
            self.stats.unjudged_events = self.trust.unjudged
            self._queue_write(lambda s, ev=events, j=judge: (s.add_events(ev, clock_trusted=j),
                                                             [s.mark_seen(e.sensor_id, e.time) for e in ev]))
            for e in events:
                if e.sensor_id in self._privacy_switches and self.alerting is not None:
                    done = apply_privacy_switch(self.alerting.delivery.pauses, self._privacy_switches[e.sensor_id],
                                                e.sensor_id, e, wake=self.alerting.delivery.wake)
                    log.warning("privacy switch: %s", done, extra={"ctx": {"sensor": e.sensor_id}})
                self.stats.events += 1
                self.stats.last_event = f"{e.sensor_id}={e.value} at {e.time.astimezone(self.home.tz):%H:%M}"
                log.info("event", extra={"ctx": {"sensor": e.sensor_id, "value": e.value,
                                                 "time": e.time.astimezone(self.home.tz).isoformat(timespec="seconds")}})
                if judge:
                    self.raise_alerts(self.engine.process(e))
        for note in getattr(out, "notes", ()):
            log.info(note)

    def _admit(self, now: datetime | None = None) -> bool:
        """May the routine engine be given the clock's time now? (gateway/clocktrust.py)"""
        ok = self.trust.admit(self.engine, self.clock.monotonic(), now or self.clock.now())
        self.stats.clock = self.trust.note()
        return ok

    def raise_alerts(self, alerts: Iterable[Alert]) -> None:
        """The one path every alert takes, whoever raised it (routine core, health, ticker, a
        technician's tool): counted, logged, stored with the next batch, appended to the alerts log, and
        handed to delivery (consent gate, outbox, escalation) when recipients are configured.

        ``gw.raise_alerts([Alert(gw.clock.now(), "p1", "sensor_silent", ...)])``"""
        for a in alerts:
            self.stats.alerts += 1
            log.warning("ALERT %s", a.message, extra={"ctx": {"person": a.person, "kind": a.kind,
                                                             "severity": str(a.severity)}})
            self._queue_write(lambda s, a=a: s.add_alert(a))
            if self.alerts_jsonl is not None:
                with self.alerts_jsonl.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(a.to_json()) + "\n")
            if self.alerting is not None:
                self.alerting.submit(a)
            if self.on_alert is not None:
                self.on_alert(a)

    # --- periodic work ---------------------------------------------------------------------------
    async def _ticker(self) -> None:
        assert self.engine is not None
        while True:
            await asyncio.sleep(self.clock.sleep_s(self.tick_s))
            now = self.clock.now()
            if self._admit(now):
                self.raise_alerts(self.engine.tick(now))
            systemd.notify_status(self.stats.line())

    async def _flush(self) -> None:
        """Store everything queued in one transaction, then ack the MQTT messages it came from."""
        assert self.store is not None and self.link is not None
        if not self._unstored and not self._unacked:
            return
        # Take the batch out first: messages handled while the DB thread writes start the next batch.
        writes, acks, upto = self._unstored, self._unacked, self._queued
        self._unstored, self._unacked = [], []
        self._acks_writing = len(acks)
        store = self.store

        def write_all() -> None:
            for w in writes:
                w(store)
            store.commit()

        try:
            await self.in_db(write_all)
        except StorageError as exc:
            # the store rolled the whole batch back: put it in front of what came meanwhile, retry later
            self._unstored, self._unacked = writes + self._unstored, acks + self._unacked
            self.stats.storage_errors += 1
            if self.stats.storage_errors in (1, 10, 100) or self.stats.storage_errors % 1000 == 0:
                log.error("cannot store; keeping data in memory and retrying", extra={"ctx": {"error": str(exc)}})
            systemd.notify_status(f"STORAGE PROBLEM: {exc}")
            return
        finally:  # written, rolled back or failed otherwise: this batch is no longer being written
            self._acks_writing = 0
        for m in acks:
            self.link.ack(m)
        self._committed = max(self._committed, upto)
        self._commit_seen.set()
        self._commit_seen = asyncio.Event()

    async def _committer(self) -> None:
        """The only place that flushes while running; on shutdown it flushes once more and returns
        (it is never cancelled mid-write, so a batch is never half-known)."""
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
            # arrives as the event is set, and shutdown would then wait for ever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.commit_s):
                    await self._flush_soon.wait()
            self._flush_soon.clear()
            await self._flush()
            if self._stopping:
                return

    async def _save_checkpoint(self) -> None:
        assert self.store is not None and self.engine is not None
        blob = self.engine.checkpoint()
        counters = json.dumps(self.ble_decoder.counters()).encode()
        store = self.store
        trust = self.trust.state()
        await self.in_db(lambda: (store.save_state(STATE_KEY, blob), store.save_state(BLE_COUNTERS_KEY, counters),
                                  store.save_state(CLOCK_KEY, trust), store.commit()))

    async def _checkpointer(self) -> None:
        while True:
            await asyncio.sleep(self.checkpoint_s)
            try:
                await self._save_checkpoint()
            except StorageError as exc:
                log.error("could not save learned routines", extra={"ctx": {"error": str(exc)}})

    async def _pruner(self) -> None:
        assert self.store is not None
        store = self.store
        while True:
            try:
                now = self.clock.now()
                # commit at once: an open write transaction would hold the database's write lock
                removed = await self.in_db(lambda now=now: (store.prune(now), store.commit())[0])
                if removed:
                    log.info("pruned old raw events", extra={"ctx": {"removed": removed}})
            except StorageError as exc:
                log.error("could not prune old events", extra={"ctx": {"error": str(exc)}})
            await asyncio.sleep(6 * 3600)
