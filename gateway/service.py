"""`hearth run`: the running gateway. The only place where adapters, storage, the routine core and
alert delivery meet.

One message's trip::

    MQTT (paho thread) --bounded queue--> adapter.handle() -> SensorEvent / DeviceHealth / Rejection
        -> Store (one DB thread; committed in batches, then the MQTT message is acked)
        -> RoutineEngine.process() -> Alert -> Store + alerts log (+ delivery, when configured)
    a ticker calls RoutineEngine.tick(now) every ``tick_s`` so silences are noticed without events.

Bad input never stops it: every rejection is counted in the store and logged once per kind by the
adapter, and a message that makes the gateway itself fail is caught, logged with its error, counted as
rejected (``gateway/internal_error``) and acknowledged, so it cannot come back first after every restart.
Long-lived tasks are supervised (gateway/supervise.py): one that dies is logged and started again, and
the systemd watchdog is fed only while every task runs and nothing is stuck.

A full disk keeps what was handled in memory up to :data:`HOLD_MAX` items, then stops taking messages
(the broker holds the rest: back-pressure, not loss) and stops judging (a home whose events cannot come
in would look still); the backlog is committed in chunks once space returns, so a little freed space is
already progress.

One gateway per database (gateway/dblock.py). On start the routine core is brought up to date with
every event stored after its last checkpoint (gateway/checkpoint.py), so a crash forgets nothing.

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
import os
import time
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from paho.mqtt.client import topic_matches_sub as mqtt_topic_matches

from gateway import systemd
from gateway.checkpoint import pack, unpack
from gateway.clocktrust import ClockTrust
from gateway.config import HomeConfig
from gateway.dblock import DatabaseLock
from gateway.health import HEALTH_KEY  # what `hearth status` / `doctor` read
from gateway.mqtt import MqttLink, MqttMessage
from gateway.night_light_mqtt import STATE_KEY as NIGHT_LIGHT_KEY
from gateway.night_light_mqtt import NightLightLink
from gateway.privacy import PRIVACY_ROLES, apply_privacy_switch
from gateway.redelivery import KEEP, HandledMessages, digest
from gateway.storage import Store, file_identity
from gateway.storage_errors import StorageCorruptError, StorageError
from gateway.supervise import Supervisor, TaskRecord, describe_exception
from gateway.timebase import Clock
from routines.alert import Alert
from routines.engine import RoutineEngine
from routines.learning import weekly_note_lines
from sensors.ble import BleAdapter, BleDecoder, BleOutput, BleScanner, bindings_from_config
from sensors.ble_relay import BleRelay
from sensors.events import NOT_FAULTS, Rejection
from sensors.zigbee2mqtt import AdapterOutput, Zigbee2MqttAdapter, ZigbeeBinding

log = logging.getLogger("hearth.gateway")
T = TypeVar("T")
STATE_KEY = "routines"
BLE_COUNTERS_KEY = "ble_counters"
CLOCK_KEY = "clock_trust"
PRUNE_RETRY_S = 600.0  # the pruner waits this long for a trusted clock before looking again
HOLD_MAX = 20_000  # handled items waiting for the disk; past this, intake stops (the broker holds the rest)
CHUNK = 1_000  # items per transaction when a backlog is written: progress even with little space freed
STALL_S = 120.0  # messages waiting, or writes pending, this long with no progress: the gateway is stuck
HEALTH_EVERY_S = 600.0  # the saved health record is refreshed this often even when nothing changed
CATCH_UP_ALERTS_S = 3600.0  # catching up, an alert not stored before is raised only if this recent


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
    internal_errors: int = 0  # messages or events the gateway itself failed on (logged, counted, acked)
    redelivered: int = 0  # messages the broker sent again that were already stored (gateway/redelivery.py)
    checkpoint_checks: int = 0  # times the checkpointer looked
    checkpoints_written: int = 0  # times it found something changed and wrote it
    held_items: int = 0  # handled but not yet stored (the disk is full, or a batch is being written)
    intake_paused: bool = False  # the hold is full: no message is taken until the disk takes writes
    last_event: str = ""
    unjudged_events: int = 0  # stored but not given to the routine engine: the clock was not trusted
    prune_skipped: int = 0  # times the pruner waited for a trusted clock (an age from an unset clock is none)
    clock: str = ""  # gateway/clocktrust.py's line, e.g. "clock not synchronised: 3 events kept but not judged"

    def line(self) -> str:
        return (f"{self.messages} messages, {self.events} events, {self.rejections} rejected, "
                f"{self.alerts} alerts" + (f", last event {self.last_event}" if self.last_event else "")
                + (f"; {self.clock}" if self.clock else "")
                + (f"; STORAGE FULL: {self.held_items} items held, intake paused" if self.intake_paused else ""))


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
    # subscribed this long with not one message on zigbee2mqtt's base topic (it retains its bridge
    # state, so even an idle one answers at once): reported as a problem (see _watch_zigbee)
    zigbee_unheard_s: float = 600.0
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
        # lights switched for people who agreed to it (gateway/night_light.py); None: nobody has one
        self.night_light = NightLightLink.for_config(self.cfg, self.adapter, self.clock.monotonic)
        self.alerting: Any = None  # gateway.alerting.Alerting when the config has recipients
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-db")
        self.store: Store | None = None
        self.engine: RoutineEngine | None = None
        self.link: MqttLink | None = None
        self.handled = HandledMessages()  # QoS 1 messages handled: one sent again is not stored twice
        # What was handled and is not yet stored, in order: store writes, and the MQTT messages to ack
        # once the writes before them are committed.
        self._pending: list[Callable[[Store], None] | MqttMessage] = []
        self._pending_acks = 0  # MqttMessages in _pending
        self._acks_writing = 0  # messages of the batch the DB thread is writing now: not acked yet either
        # Every write or ack queued gets the next number; a committed chunk raises ``_committed`` to the
        # number its last item had. What is not written goes back in front, so this only grows.
        self._queued = 0
        self._committed = 0
        # set, and replaced by a fresh one, at each committed batch: waiters re-check and wait again
        # (an Event, not a Condition, so the committer never waits for a lock after its write)
        self._commit_seen = asyncio.Event()
        self.supervisor = Supervisor(self.clock.monotonic, on_failure=self._task_failed)
        self._lock: DatabaseLock | None = None
        self._last_take = self._last_tick = self._last_flush = 0.0  # monotonic: the watchdog's evidence
        self._checkpoint_written: bytes | None = None  # the last checkpoint bytes saved (none rewritten)
        # The newest event row id committed, and for a checkpoint waiting on item N, the newest event row
        # id once items 1..N are written: what the checkpoint of the core as it was at item N covers.
        self._event_id_committed = 0
        self._event_id_at: dict[int, int | None] = {}
        self._health_written: tuple[str, float] = ("", 0.0)  # last health record saved, and when
        self.restore_problem: str | None = None  # why learned routines could not be restored, if they were not
        self._pending_switches: list[tuple[str, str, Any]] = []  # privacy switch presses not yet applied
        self.ready = asyncio.Event()
        # the database file was deleted or replaced while running (Store.file_lost): the gateway stops,
        # writes what it holds back to the path (or beside a replacement) and exits 1 to be restarted
        self.db_lost: str | None = None
        self._db_sides: dict[Path, tuple[int, int] | None] = {}
        self._zigbee_heard = False  # any message on zigbee2mqtt's base topic since start
        self._clock_mark_saved = float("-inf")  # monotonic time the clock trust's mark was last saved
        self._store_failing: tuple[datetime, str] | None = None  # since when writes fail, and the last error
        self._subscribed_at: tuple[float, datetime] | None = None  # first seen subscribed (monotonic, wall)
        self._zigbee_problem: str | None = None
        self.config_problem: str | None = None  # why the config was not reloaded (SIGHUP, gateway/commands/run.py)
        self.reloading = False  # stopping to start again in the same process on a checked config
        self._stop: asyncio.Event | None = None
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
        return self._pending_acks + self._acks_writing

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
        self._pending.append(write)
        self.stats.held_items = len(self._pending)

    def _queue_ack(self, msg: MqttMessage) -> None:
        self._queued += 1
        self._pending.append(msg)
        self._pending_acks += 1
        self.stats.held_items = len(self._pending)

    def subscribed(self) -> bool:
        """The broker has the gateway's subscriptions (SUBACK): a sensor message published now reaches it."""
        return self.link is not None and self.link.subscribed

    def healthy(self) -> bool:
        """What the systemd watchdog is fed on: every task running (none restarting for long), messages
        being taken while any wait, the ticker judging, and pending writes being tried. A full disk is
        not a reason to restart (it is reported instead): the hold is bounded and the broker keeps the rest.
        """
        now = self.clock.monotonic()
        waiting = self.link is not None and self.link.messages.qsize() > 0
        return (self.supervisor.healthy()
                and not (waiting and not self.stats.intake_paused and now - self._last_take > STALL_S)
                and now - self._last_tick < max(3 * self.tick_s, STALL_S)
                and not (self._pending and now - self._last_flush > STALL_S))

    def problems(self) -> list[str]:
        """What is wrong with the gateway itself now, in words (console, status, doctor)."""
        out = self.supervisor.problems()
        if self._store_failing is not None and not self.stats.intake_paused:
            since, error = self._store_failing
            out.append(f"nothing stored since {since.astimezone(self.home.tz):%Y-%m-%d %H:%M}: "
                       f"{self.stats.held_items} handled items held in memory and retried (the broker keeps "
                       f"the messages until they are stored); last error: {error}")
        if self.stats.intake_paused:
            out.append(f"storage full: {self.stats.held_items} handled items held in memory, no new messages "
                       "taken (the broker keeps them) and no routine judged until space is freed")
        if self.restore_problem:
            out.append(self.restore_problem)
        if self.config_problem:
            out.append(self.config_problem)
        clock = self.trust.note()  # not synchronised, settling after a jump, or behind: nothing judged
        if clock and not clock.startswith("clock trusted"):
            out.append(f"{clock}: no alert can be raised until the clock can be trusted")
        if self._zigbee_problem and not self._zigbee_heard:
            out.append(self._zigbee_problem)
        if (since := self.adapter.bridge_offline_since) is not None:
            out.append(f"zigbee2mqtt reported itself offline at {since.astimezone(self.home.tz):%Y-%m-%d %H:%M}: no "
                       "Zigbee sensor reaches Hearth until it is back (check its service and radio adapter)")
        held = self.alerting.held_alerts if self.alerting is not None else 0
        if held:
            out.append(f"{held} alert(s) held in memory: the outbox cannot be written (disk full?); "
                       "they are queued as soon as it can")
        if self.alerting is not None:  # the hub uplink's own link (wrong CA, refused login, ...)
            out += self.alerting.uplink.problems()
        dropped = self.link.broker_dropped if self.link is not None else None
        if dropped:
            out.append(f"the broker dropped {dropped} message(s) it could not queue for Hearth "
                       "(raise max_queued_messages, or find what floods it)")
        return out

    def health_record(self) -> dict[str, Any]:
        """The gateway's own health, as the console shows it and `hearth status` / `doctor` read it."""
        link, alerting = self.link, self.alerting
        return {"pid": os.getpid(), "tasks": self.supervisor.report(), "problems": self.problems(),
                "internal_errors": self.stats.internal_errors, "held_items": self.stats.held_items,
                "intake_paused": self.stats.intake_paused, "storage_errors": self.stats.storage_errors,
                "held_alerts": alerting.held_alerts if alerting is not None else 0,
                "dropped_held_alerts": dict(alerting.dropped_held_alerts) if alerting is not None else {},
                "broker_dropped": link.broker_dropped if link is not None else None,
                "broker_disconnects": link.disconnects if link is not None else 0,
                "night_light": self.night_light.report() if self.night_light is not None else None}

    def _task_failed(self, rec: TaskRecord) -> None:
        self._health_written = ("", 0.0)  # the next health save writes at once

    # --- start / stop ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = DatabaseLock.acquire(self.db_path)  # DatabaseInUseError: another gateway has this home
        try:
            await self._run(stop)
        finally:
            self._lock.release()

    async def _run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        self.store = await self.in_db(self._open_store)
        self._db_sides = {}  # the -wal and -shm this store opened, by inode (see _put_back)
        for side in ("-wal", "-shm"):
            path = self.db_path.with_name(self.db_path.name + side)
            with contextlib.suppress(OSError):
                self._db_sides[path] = file_identity(path)
        self.engine, last_event_id = await self.in_db(self._load_engine)
        self.handled = HandledMessages(await self.in_db(self.store.handled_marks, KEEP))
        self.trust.restore_state(await self.in_db(self.store.load_state, CLOCK_KEY))
        counters = await self.in_db(self.store.load_state, BLE_COUNTERS_KEY)
        if counters:
            self.ble_decoder.restore_counters(json.loads(counters))
        if self.cfg.recipients:
            from gateway.alerting import Alerting

            engine = self.engine
            self.alerting = Alerting(self.cfg, self.db_path, self.clock, on_outcome=engine.record_outcome,
                                     summary_of=engine.day_summary)
            # the team's weekly note says which checks still use the starting limits
            self.alerting.delivery.learning_of = lambda pid, engine=engine: weekly_note_lines(engine, pid)
            self.extra_tasks = [*self.extra_tasks, *self.alerting.tasks()]
        if self.alerting is not None:  # the hub uplink reads the running gateway once store and core exist
            from gateway.uplink import UplinkView

            self.alerting.attach(UplinkView(self))
        await self._catch_up(last_event_id)
        self._event_id_committed = await self.in_db(self.store.last_event_id)
        # a repeat of the last stored state (e.g. a retained copy) after a restart is not a change
        last_values = await self.in_db(self.store.last_values)
        self.adapter.restore_last_values(last_values)
        broker = self.cfg.broker
        self.link = MqttLink(self.broker_host or broker.host, self.broker_port or broker.port,
                             self.adapter.subscriptions + self.ble_relay.topics, client_id=broker.client_id,
                             username=broker.username, password=broker.password_value(),
                             keepalive_s=broker.keepalive_s, tls=broker.tls)
        await self.link.start()
        if self.night_light is not None:
            self.night_light.attach(self.link, await self.in_db(self.store.load_state, NIGHT_LIGHT_KEY), last_values,
                                    lambda b: self._queue_write(lambda s: s.save_state(NIGHT_LIGHT_KEY, b)))
        now = self.clock.monotonic()
        self._last_take = self._last_tick = self._last_flush = now
        tasks: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [
            ("consume", self._consume), ("ticker", self._ticker), ("checkpointer", self._checkpointer),
            ("pruner", self._pruner), ("watchdog", lambda: systemd.watchdog_pinger(self.healthy))]
        tasks += [(getattr(make, "__name__", "extra").strip("_<>") or "extra", make) for make in self.extra_tasks]
        if self.ble_decoder.bindings and self.cfg.ble.enabled:
            tasks.append(("ble", self._ble))
        if self.night_light is not None:
            tasks.append(("night_light", self.night_light.run))
        for name, make in tasks:
            self.supervisor.start(name, make)
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
        if self.reloading:  # the same process starts again at once: systemd must not count it as stopped
            systemd.notify("RELOADING=1")
        else:
            systemd.notify_stopping()
        if self._console is not None:
            await self._console.cleanup()
        await self.supervisor.cancel_all()
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
            rescued = await self._copy_lost_db() if self.db_lost else None
            await self.in_db(self.store.close)
            if rescued is not None:
                self._put_back(rescued)
        self._db.shutdown(wait=True)
        log.info("gateway stopped", extra={"ctx": {"summary": self.stats.line()}})

    async def _copy_lost_db(self) -> Path | None:
        """Everything the open (nameless) database holds, copied to a new file beside its path."""
        assert self.store is not None
        tmp = self.db_path.with_name(self.db_path.name + ".rescue.partial")
        try:
            tmp.unlink(missing_ok=True)
            await self.in_db(self.store.copy_out, tmp)
            return tmp
        except (OSError, StorageError) as exc:
            log.error("could not write the lost database file back; its data is lost at this stop",
                      extra={"ctx": {"db": str(self.db_path), "error": str(exc)}})
            return None

    def _put_back(self, copy: Path) -> None:
        """Move the copy to the database's path, or beside a file someone put there (both kept). Only
        after the store is closed. The lost file's ``-wal`` and ``-shm`` (the very files opened at start,
        by inode) are left behind by SQLite, which cannot checkpoint into a file that moved; the copy
        holds all they did, and left beside the path they would be read as the next file's own."""
        for side, opened in self._db_sides.items():
            with contextlib.suppress(OSError):
                if opened is not None and file_identity(side) == opened:
                    side.unlink()
        if not self.db_path.exists():
            os.replace(copy, self.db_path)
            log.error("the database was written back to its path; the next start goes on from it",
                      extra={"ctx": {"db": str(self.db_path)}})
            return
        kept = self.db_path.with_name(f"{self.db_path.name}.kept-{self.clock.now():%Y%m%dT%H%M%S}")
        os.replace(copy, kept)
        log.error("the database this gateway was writing is kept beside the file now at its path, which "
                  "the next start uses; merge or restore it by hand", extra={"ctx": {"db": str(self.db_path),
                                                                                   "kept": str(kept)}})

    def _open_store(self) -> Store:
        """The store; a file SQLite cannot read (not a database, a malformed schema) is moved aside,
        kept for a backup restore or a rescue, and the home is watched on a new one: refused, the
        gateway exited at every start and systemd gave up after ten, the home unwatched."""
        try:
            return Store(self.db_path, self.cfg.storage.retention_days)
        except StorageCorruptError as exc:
            kept = self.db_path.with_name(f"{self.db_path.name}.corrupt-{self.clock.now():%Y%m%dT%H%M%S}")
            for side in ("", "-wal", "-shm"):
                src = self.db_path.with_name(self.db_path.name + side)
                if src.exists():
                    os.replace(src, kept.with_name(kept.name + side))
            self.restore_problem = (f"the database could not be read ({exc}); it is kept as {kept.name} and the "
                                    "home is watched on a new one, learning again from the start: restore a "
                                    "backup (hearth restore) to bring the history and learning back")
            log.error("%s", self.restore_problem)
            return Store(self.db_path, self.cfg.storage.retention_days)

    def _load_engine(self) -> tuple[RoutineEngine, int | None]:
        """The engine from its checkpoint (any known format), and the last stored event it had seen."""
        assert self.store is not None
        blob = self.store.load_state(STATE_KEY)
        if blob:
            try:
                ck = unpack(blob)
                engine = RoutineEngine.restore(self.home, ck.engine, self.cfg.routines)
                log.info("learned routines restored", extra={"ctx": {"bytes": len(blob), "format": ck.format}})
                self._checkpoint_written = blob
                return engine, ck.last_event_id
            except Exception as exc:  # noqa: BLE001 - an old/corrupt checkpoint must not stop the home
                self.restore_problem = (f"learned routines could not be restored ({describe_exception(exc)}); "
                                        f"learning again from the start; the old copy is kept as "
                                        f"'{STATE_KEY}.unreadable'")
                log.error(self.restore_problem)
                self.store.save_state(f"{STATE_KEY}.unreadable", blob)
                # committed now: left open, this write would hold the database's write lock, and the
                # outbox's own connection, opened next, would fail "database is locked" at every start
                self.store.commit()
        # no checkpoint (a first start, or an unreadable one): learn again from every stored event
        return RoutineEngine(self.home, self.cfg.routines), 0

    async def _catch_up(self, last_event_id: int | None) -> None:
        """Give the core every judged event stored after its checkpoint (a crash between checkpoints
        forgets nothing; with no checkpoint, all of them). An alert this raises again is raised only if
        it was not stored before and is recent: an old one is history, not news for a worker now."""
        assert self.store is not None and self.engine is not None
        if last_event_id is None:  # a format-1 checkpoint: what it covered is not known
            return
        store, engine, n, stale = self.store, self.engine, 0, 0
        recent = self.clock.now().timestamp() - CATCH_UP_ALERTS_S
        while batch := await self.in_db(store.judged_events_after, last_event_id):
            known = {a.key for a in await self.in_db(store.alerts, batch[0][1].time)}
            for row_id, event in batch:
                for a in engine.process(event):
                    if a.key in known:
                        continue
                    if a.time.timestamp() < recent:
                        stale += 1
                        continue
                    self.raise_alerts([a])
                last_event_id, n = row_id, n + 1
            await asyncio.sleep(0)  # a long catch-up must not starve the loop
        if n:
            log.info("routine core caught up with stored events",
                     extra={"ctx": {"events": n, "old_alerts_not_raised": stale}})

    # --- the event path --------------------------------------------------------------------------
    async def _consume(self) -> None:
        assert self.link is not None and self.engine is not None
        while True:
            if len(self._pending) >= HOLD_MAX:
                await self._wait_for_room()
            msg = await self.link.messages.get()
            self._last_take = self.clock.monotonic()
            self.handle_message(msg)

    async def _wait_for_room(self) -> None:
        """The disk takes no writes and the hold is full: take no message until half of it is stored."""
        self.stats.intake_paused = True
        log.error("storage full: no new messages taken until space is freed (the broker keeps them)",
                  extra={"ctx": {"held": len(self._pending)}})
        systemd.notify_status(f"STORAGE FULL: {len(self._pending)} items held, intake paused")
        while len(self._pending) >= HOLD_MAX // 2:
            await self._commit_seen.wait()
        self.stats.intake_paused = False
        log.warning("storage writable again: taking messages", extra={"ctx": {"held": len(self._pending)}})

    def handle_message(self, msg: MqttMessage) -> None:
        """Adapter -> store (queued) -> routine core -> alerts. Never raises: a message the gateway
        fails on is counted as rejected (``internal_error``), logged with its error, and acked."""
        self.stats.messages += 1
        self._zigbee_heard = self._zigbee_heard or msg.topic.startswith(self.adapter.base_topic + "/")
        if msg.qos and msg.dup and self.handled.seen(msg.mid, msg.topic, msg.payload):
            self._redelivered(msg)
            return
        if msg.qos:
            self.handled.note(msg.mid, msg.topic, msg.payload)
        try:
            now = self.clock.now()
            if self.night_light is not None and self.night_light.claims(msg.topic, msg.payload):
                pass  # a night light's own report: it is not a sensor
            elif any(mqtt_topic_matches(sub, msg.topic) for sub in self.ble_relay.topics):
                self._ingest(self.ble_relay.handle(msg.topic, msg.payload, now, self.clock.monotonic(),
                                                   retained=msg.retain))
            else:  # a retained copy (sent again at every subscribe) syncs state, it is not a new event
                self._ingest(self.adapter.handle(msg.topic, msg.payload, now, retained=msg.retain))
        except Exception as exc:  # noqa: BLE001 - one bad message must never end monitoring
            self._internal_error(exc, source="mqtt", device=msg.topic, payload=msg.payload)
        self._queue_ack(msg)
        if self._pending_acks >= self.flush_at:
            self._flush_soon.set()

    def _redelivered(self, msg: MqttMessage) -> None:
        """The broker sent a stored message again (the ack was lost to a crash or a dropped
        connection): recorded as the rejection ``redelivered`` (not a fault) and acked, not stored twice."""
        self.stats.redelivered += 1
        rejection = Rejection(self.clock.now(), "mqtt", "redelivered",
                              f"packet {msg.mid} sent again after it was stored; not stored twice", msg.topic[:200])
        self._queue_write(lambda s, r=rejection: s.add_rejection(r))
        self._queue_ack(msg)

    def _internal_error(self, exc: Exception, *, source: str, device: str, payload: bytes = b"") -> None:
        self.stats.internal_errors += 1
        self.stats.rejections += 1
        what = describe_exception(exc)
        log.error("gateway failed on input; counted as rejected and going on: %s", what, exc_info=exc,
                  extra={"ctx": {"source": source, "device": device}})
        detail = f"{what}; payload {payload[:120]!r}" if payload else what
        rejection = Rejection(self.clock.now(), source, "internal_error", detail[:500], device[:200])
        self._queue_write(lambda s, r=rejection: s.add_rejection(r))

    async def _ble(self) -> None:
        """The Pi's own radio: bleak scanning (with backoff when BlueZ is absent) into the same path."""
        queue: asyncio.Queue[BleOutput] = asyncio.Queue(maxsize=1000)
        self.ble_scanner = BleScanner(BleAdapter(self.ble_decoder), queue, hci=self.cfg.ble.adapter)
        scan = asyncio.create_task(self.ble_scanner.run())
        try:
            while True:
                out = await queue.get()
                try:
                    self._ingest(out)
                except Exception as exc:  # noqa: BLE001 - one bad advert must never end monitoring
                    self._internal_error(exc, source="ble", device="radio")
        finally:
            scan.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scan

    def _ingest(self, out: AdapterOutput | BleOutput) -> None:
        assert self.engine is not None
        judge = self._admit() if out.health or out.events else True
        for r in out.rejections:
            # keys zigbee2mqtt always sends that Hearth does not use, and repeats of a message already
            # handled, are recorded, but are not a fault
            self.stats.rejections += r.reason not in NOT_FAULTS
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
            if self.night_light is not None:
                self.night_light.events(events, trusted=judge)
            for e in events:
                if e.sensor_id in self._privacy_switches and self.alerting is not None:
                    self._pending_switches.append((self._privacy_switches[e.sensor_id], e.sensor_id, e))
                    self._apply_privacy_switches()
                self.stats.events += 1
                self.stats.last_event = f"{e.sensor_id}={e.value} at {e.time.astimezone(self.home.tz):%H:%M}"
                log.info("event", extra={"ctx": {"sensor": e.sensor_id, "value": e.value,
                                                 "time": e.time.astimezone(self.home.tz).isoformat(timespec="seconds")}})
                if judge:
                    self.raise_alerts(self.engine.process(e))
        for note in getattr(out, "notes", ()):
            log.info(note)

    def _apply_privacy_switches(self) -> None:
        """Presses of a privacy switch, in order. One that cannot be recorded (a full disk) stays first
        in line and is tried again each tick: the person asked for privacy, it must not be dropped."""
        assert self.alerting is not None
        while self._pending_switches:
            person, sensor_id, event = self._pending_switches[0]
            try:
                done = apply_privacy_switch(self.alerting.delivery.pauses, person, sensor_id, event,
                                            wake=self.alerting.delivery.wake)
            except Exception as exc:  # noqa: BLE001 - kept and retried, never lost
                log.error("privacy switch could not be applied yet; trying again: %s", describe_exception(exc),
                          extra={"ctx": {"sensor": sensor_id, "waiting": len(self._pending_switches)}})
                return
            self._pending_switches.pop(0)
            log.warning("privacy switch: %s", done, extra={"ctx": {"sensor": sensor_id}})

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
                try:
                    with self.alerts_jsonl.open("a", encoding="utf-8") as f:
                        f.write(json.dumps(a.to_json()) + "\n")
                except OSError as exc:  # the store and delivery still have it
                    log.error("could not append to the alerts log", extra={"ctx": {"error": str(exc)}})
            if self.alerting is not None:
                self.alerting.submit(a)
            if self.on_alert is not None:
                self.on_alert(a)

    # --- periodic work ---------------------------------------------------------------------------
    async def _ticker(self) -> None:
        assert self.engine is not None
        while True:
            await asyncio.sleep(self.clock.sleep_s(self.tick_s))
            self._last_tick = self.clock.monotonic()
            now = self.clock.now()
            if self._pending_switches:
                self._apply_privacy_switches()
            self._check_db_file()
            self._watch_zigbee()
            # while intake is paused the core would read the missing events as stillness: no judging
            if not self.stats.intake_paused and self._admit(now):
                self.raise_alerts(self.engine.tick(now))
            systemd.notify_status(self.stats.line())
            await self._save_health()
            await self._save_clock_mark()

    def _watch_zigbee(self) -> None:
        """Subscribed, yet not one message from zigbee2mqtt, not even its retained bridge state: a
        broker ACL that lets Hearth subscribe but not read (mosquitto grants the subscription and
        delivers nothing), a wrong base_topic, or zigbee2mqtt on another broker. The home is unwatched
        while the console says connected; told here, not hours later by every sensor going silent."""
        if not zigbee_bindings(self.cfg) or self._zigbee_heard:
            self._zigbee_problem = None
            return
        if not self.subscribed():
            return
        # real seconds, not the clock's: the broker answers in real time, however fast a demo clock runs
        if self._subscribed_at is None:
            self._subscribed_at = (time.monotonic(), self.clock.now())
        mono, wall = self._subscribed_at
        if time.monotonic() - mono >= self.zigbee_unheard_s and self._zigbee_problem is None:
            base, user = self.adapter.base_topic, self.cfg.broker.username
            self._zigbee_problem = (
                f"nothing heard from zigbee2mqtt on {base}/# since subscribing at "
                f"{wall.astimezone(self.home.tz):%Y-%m-%d %H:%M}, not even its retained bridge state: check that "
                f"zigbee2mqtt runs on this broker with base_topic {base!r}, and that the broker's ACL lets "
                + (f"user {user!r}" if user else "anonymous clients") + " read it")
            log.error("%s", self._zigbee_problem)

    def _check_db_file(self) -> None:
        """A database file deleted (or another moved over it) under the running gateway: SQLite goes on
        writing to a file with no name, and the next start would begin empty, every event and the
        day's learning gone. Stop now; :meth:`shutdown` writes it all back (:meth:`_rescue_db`)."""
        assert self.store is not None and self._stop is not None
        why = self.store.file_lost()
        if why is None or self.db_lost is not None:
            return
        self.db_lost = why
        log.error("the database file was %s while the gateway ran; stopping to write what it holds back "
                  "and be restarted on it", why, extra={"ctx": {"db": str(self.db_path)}})
        systemd.notify_status(f"DATABASE FILE {why.upper()}: writing it back and restarting")
        self._stop.set()

    async def _save_clock_mark(self) -> None:
        """Save the clock trust's mark (how far the engine has judged) every half ``min_gap_s``, not
        only with the checkpoint (every ``checkpoint_s``, 10 min): after a crash the restored mark is
        the start of the span read as unwatched, and a stale one turned a 15-s restart near the next
        checkpoint into an 'unwatched' span, every alert paused 30 min though the broker kept every
        event of the downtime. A few bytes, one write each 5 min."""
        assert self.store is not None
        mono = self.clock.monotonic()
        if mono - self._clock_mark_saved < self.trust.min_gap_s / 2:
            return
        blob, store = self.trust.state(), self.store
        try:
            await self.in_db(lambda: (store.save_state(CLOCK_KEY, blob), store.commit()))
            self._clock_mark_saved = mono
        except StorageError:
            pass  # the disk is full: reported by the flush; tried again next tick

    async def _save_health(self) -> None:
        """Keep the health record (``hearth status`` / ``doctor``) current: at once when it changed,
        else every :data:`HEALTH_EVERY_S` (so a reader can tell a live gateway from a dead one)."""
        assert self.store is not None
        record = self.health_record()
        # what changes with every message is saved with the periodic refresh, not on its own
        light = record.get("night_light") or {}
        text = json.dumps({**{k: record[k] for k in ("tasks", "problems", "intake_paused")},
                           "lights": light.get("problems")}, sort_keys=True, default=str)
        mono = self.clock.monotonic()
        if text == self._health_written[0] and mono - self._health_written[1] < HEALTH_EVERY_S:
            return
        record["saved_at"] = self.clock.now().isoformat(timespec="seconds")
        blob, store = json.dumps(record).encode(), self.store
        try:
            await self.in_db(lambda: (store.save_state(HEALTH_KEY, blob), store.commit()))
            self._health_written = (text, mono)
        except StorageError:
            pass  # the disk is full: that is reported by the flush, and this is tried again next tick

    async def _flush(self) -> None:
        """Store what is queued, in chunks of :data:`CHUNK` items each committed on its own, acking each
        chunk's MQTT messages once it is committed. On a storage error the rest goes back in front."""
        assert self.store is not None and self.link is not None
        self._last_flush = self.clock.monotonic()
        if not self._pending:
            return
        # Take the batch out first: messages handled while the DB thread writes start the next batch.
        batch, self._pending = self._pending, []
        self._acks_writing, self._pending_acks = self._pending_acks, 0
        base = self._queued - len(batch) - len(self._pending)  # the number before the batch's first item
        store, done, marks = self.store, 0, self._event_id_at

        def write_all(chunk: list[Callable[[Store], None] | MqttMessage], first: int) -> dict[int, int]:
            """Write one chunk (items numbered from ``first``) and commit; the newest event id after
            each marked item, and after the chunk (key 0)."""
            seen: dict[int, int] = {}
            handled: list[tuple[int, bytes]] = []
            for no, item in enumerate(chunk, first):
                if not isinstance(item, MqttMessage):
                    item(store)
                elif item.qos:
                    handled.append((item.mid, digest(item.topic, item.payload)))
                if no in marks:
                    seen[no] = store.last_event_id()
            store.note_handled(handled)  # with what they carried: a successor knows them if acks are lost
            seen[0] = store.last_event_id()
            store.commit()
            return seen

        try:
            while done < len(batch):
                chunk = batch[done:done + CHUNK]
                seen = await self.in_db(write_all, chunk, base + done + 1)
                self._event_id_committed = seen.pop(0)
                marks.update(seen)
                acks = [m for m in chunk if isinstance(m, MqttMessage)]
                for m in acks:
                    self.link.ack(m)
                self._acks_writing -= len(acks)
                done += len(chunk)
                self._committed = max(self._committed, base + done)
                self._commit_seen.set()
                self._commit_seen = asyncio.Event()
                self._store_failing = None
        except StorageError as exc:
            self._store_failing = (self._store_failing[0] if self._store_failing else self.clock.now(), str(exc))
            # the store rolled this chunk back: put the rest in front of what came meanwhile, retry later
            rest = batch[done:]
            self._pending = rest + self._pending
            self._pending_acks += sum(isinstance(m, MqttMessage) for m in rest)
            self.stats.storage_errors += 1
            if self.stats.storage_errors in (1, 10, 100) or self.stats.storage_errors % 1000 == 0:
                log.error("cannot store; keeping data in memory and retrying", extra={"ctx": {"error": str(exc)}})
            systemd.notify_status(f"STORAGE PROBLEM: {exc}")
        finally:  # written, rolled back or failed otherwise: this batch is no longer being written
            self._acks_writing = 0
            self.stats.held_items = len(self._pending)

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
            try:
                await self._flush()
            except Exception as exc:
                log.error("storing a batch failed unexpectedly; it is kept and tried again: %s",
                          describe_exception(exc), exc_info=exc)
                await asyncio.sleep(1)
            if self._stopping:
                return

    async def _save_checkpoint(self) -> None:
        """Learned routines, BLE counters and clock trust, in one transaction; nothing is rewritten when
        it has not changed since the last save (an SD card wears with every write)."""
        assert self.store is not None and self.engine is not None
        store = self.store
        # The core as it is now has seen items 1..n; the checkpoint must cover exactly the events among
        # them (on restart, the core is given every event stored after ``upto``, and none twice).
        engine_blob, n = self.engine.checkpoint(), self._queued
        if self._committed >= n:
            upto = self._event_id_committed
        else:
            self._event_id_at[n] = None
            try:
                await self.flushed(30)
            finally:
                found = self._event_id_at.pop(n, None)
            if found is None:
                return
            upto = found
        blob = pack(engine_blob, upto)
        counters = json.dumps(self.ble_decoder.counters()).encode()
        trust = self.trust.state()
        state = blob + b"\0" + counters + b"\0" + trust
        self.stats.checkpoint_checks += 1
        if state == self._checkpoint_written:
            return
        await self.in_db(lambda: (store.save_state(STATE_KEY, blob), store.save_state(BLE_COUNTERS_KEY, counters),
                                  store.save_state(CLOCK_KEY, trust), store.commit()))
        self._checkpoint_written = state
        self.stats.checkpoints_written += 1

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
            if not self.trust.watch.wall_trusted(self.clock.monotonic()):
                # an age from a clock not set yet, or just stepped, is no age: a clock set years ahead
                # would delete every event kept; look again soon
                self.stats.prune_skipped += 1
                await asyncio.sleep(PRUNE_RETRY_S)
                continue
            try:
                now = self.clock.now()
                # commit at once: an open write transaction would hold the database's write lock
                removed = await self.in_db(lambda now=now: (store.prune(now), store.commit())[0])
                if removed:
                    log.info("pruned old raw events", extra={"ctx": {"removed": removed}})
            except StorageError as exc:
                log.error("could not prune old events", extra={"ctx": {"error": str(exc)}})
            await asyncio.sleep(6 * 3600)
