"""Wiring of alert delivery into the gateway: notifiers, the delivery service, acknowledgements back,
and the digest scheduler (:mod:`gateway.digests`) when the routine core is given (``summary_of``).

Built only when the home's config has recipients. The outbox, the privacy pauses and the used
acknowledgement nonces live in the gateway's own SQLite file (their own tables): `hearth pause` writes
where the running gateway reads, and one consistent backup holds everything. The event store only holds
its write lock for the moment of a batched commit, so a delivery, committed before it is sent, never
waits long.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import pickle
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.ack import Acknowledgement, AckSigner, AckVerifier, SeenNonces, load_home_secret
from alerts.delivery import AlertDelivery
from alerts.notifiers import build_notifiers, close_notifiers
from alerts.notifiers.ntfy import NtfyAckListener
from alerts.outbox import connect
from gateway.config import HomeConfig
from gateway.digests import DigestScheduler, SummaryOf, closed_days
from gateway.uplink import GatewayView, Uplink
from routines.alert import Alert

log = logging.getLogger("hearth.alerting")


class Alerting:
    def __init__(self, cfg: HomeConfig, db_path: Path, clock: Any,
                 on_outcome: Callable[[str, str], None] | None = None, summary_of: SummaryOf | None = None):
        self.cfg = cfg
        self.clock = clock
        data_dir = db_path.parent
        data_dir.mkdir(parents=True, exist_ok=True)
        self._since_file = data_dir / "ntfy-ack-since.json"
        self.signer = AckSigner(load_home_secret(data_dir / "ack.secret"))
        self.seen = SeenNonces(db_path)
        self.verifier = AckVerifier(self.signer, self.seen)
        self.notifiers = build_notifiers(home=cfg.name, smtp=cfg.smtp, signer=self.signer)
        self.delivery = AlertDelivery(cfg, db_path, self.notifiers, clock, on_outcome=on_outcome)
        self.dropped = 0
        self.policy_writes = 0  # times the open alerts were written (only when they changed)
        self._saved_fingerprint: bytes | None = None
        self._state_db = self._open_state_db(db_path)
        self.restore_policy()
        # the daily digest and weekly trends, when the routine core can summarise days
        self.digests: DigestScheduler | None = None
        if summary_of is not None and cfg.digests.enabled:
            self.digests = DigestScheduler(cfg.digests, ZoneInfo(cfg.timezone), [p.id for p in cfg.people],
                                           self.delivery, closed_days(summary_of), clock,
                                           cfg.routines.day_start_hour)
        # the team's hub, for recipients with an mqtt channel: heartbeat, events, its actions back
        self.uplink = Uplink(cfg, self.delivery, clock, self.verifier, self._policy_dirty)

    def attach(self, view: GatewayView) -> None:
        """Give the uplink the running gateway's status and outcome store (once both exist)."""
        self.uplink.view = view

    # ---- open alerts survive a restart ----------------------------------------------------------
    # The policy keeps open alerts and their escalation timers in memory; a restart in the middle of an
    # urgent situation must not forget to escalate. Timers are monotonic, so they are kept as "seconds
    # left" and the wall time spent down is taken off when they come back.

    def _open_state_db(self, db_path: Path) -> Any:
        con = connect(db_path)
        con.execute("CREATE TABLE IF NOT EXISTS policy_state (id INTEGER PRIMARY KEY CHECK (id = 1), "
                    "saved_at REAL NOT NULL, blob BLOB NOT NULL)")
        return con

    def save_policy(self) -> bool:
        """Write the open alerts if they changed since the last write; True when written.

        Called every 15 s and after every alert: an unchanged policy is not rewritten (each write is a
        forced sync of the SD card). "Changed" is judged on the states with their absolute monotonic
        timers, which only move when the policy moves them; the seconds-left written with them stay right
        because a restore takes off the wall time since ``saved_at``. A failed write (a full disk) is
        logged and tried again at the next call."""
        fingerprint = pickle.dumps(list(self.delivery.policy.alerts.values()), protocol=pickle.HIGHEST_PROTOCOL)
        if fingerprint == self._saved_fingerprint:
            return False
        now_m, states = self.clock.monotonic(), []
        for st in self.delivery.policy.alerts.values():
            copy = dataclasses.replace(st)
            copy.next_step_mono = None if st.next_step_mono is None else st.next_step_mono - now_m
            copy.resolved_mono = None if st.resolved_mono is None else st.resolved_mono - now_m
            states.append(copy)
        blob = pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._state_db.execute("INSERT OR REPLACE INTO policy_state (id, saved_at, blob) VALUES (1, ?, ?)",
                                   (self.clock.now().timestamp(), blob))
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not save open alerts; will retry", extra={"ctx": {"error": str(exc)}})
            return False
        self._saved_fingerprint = fingerprint
        self.policy_writes += 1
        return True

    def restore_policy(self) -> int:
        row = self._state_db.execute("SELECT saved_at, blob FROM policy_state WHERE id = 1").fetchone()
        if row is None:
            return 0
        try:
            states = pickle.loads(row[1])  # written by this gateway only
        except Exception as exc:  # noqa: BLE001 - an unreadable old state must not stop alerting
            log.error("could not restore open alerts", extra={"ctx": {"error": repr(exc)}})
            return 0
        down_s = max(0.0, self.clock.now().timestamp() - row[0])
        now_m = self.clock.monotonic()
        for st in states:
            if st.next_step_mono is not None:
                st.next_step_mono = now_m + st.next_step_mono - down_s
            if st.resolved_mono is not None:
                st.resolved_mono = now_m + st.resolved_mono - down_s
            self.delivery.policy.alerts.setdefault(st.key, st)
        # what was just read is what is stored: no need to write it back until it changes
        self._saved_fingerprint = pickle.dumps(list(self.delivery.policy.alerts.values()),
                                               protocol=pickle.HIGHEST_PROTOCOL)
        log.info("open alerts restored", extra={"ctx": {"alerts": len(states), "down_s": round(down_s)}})
        return len(states)

    async def _keep_policy(self) -> None:
        while True:
            await asyncio.sleep(self.clock.sleep_s(15.0) if hasattr(self.clock, "sleep_s") else 15.0)
            self.save_policy()

    def submit(self, alert: Alert) -> None:
        """Hand an alert over without waiting (the event path must not block on delivery)."""
        try:
            self.delivery.queue.put_nowait(alert)
        except asyncio.QueueFull:
            # The bounded queue is full only if delivery is stuck; submit directly so the alert is
            # still written to the outbox (durable, or held in memory if the disk is full) rather than lost.
            self.dropped += 1
            self.delivery.submit(alert)
        self._policy_dirty()

    @property
    def held_alerts(self) -> int:
        """Alerts (and escalation steps) that could not be stored yet (a full disk), for status and the
        console; they are stored and sent once writes succeed again."""
        return self.delivery.hold.count

    @property
    def dropped_held_alerts(self) -> dict[str, int]:
        """Per category, held alerts dropped because the hold reached its bound (logged when it happens)."""
        return dict(self.delivery.hold.dropped)

    def acknowledged(self, ack: Acknowledgement) -> None:
        state = self.delivery.acknowledge(ack.alert_key, ack.recipient, datetime.fromtimestamp(ack.received_at, UTC))
        if state is not None:
            self.uplink.publish_event(state, "acknowledged")
        self._policy_dirty()

    def resolve(self, key: str, by: str, at: datetime, outcome: str) -> bool:
        """Resolved from the console (or a tool): as the hub's "Resolved" does, all-clear included.
        False when the alert was not open here (the caller tells the routine core itself)."""
        state = self.delivery.resolve(key, by, at, outcome)
        if state is None:
            return False
        self.uplink.all_clear(state, by, at, outcome)
        self.uplink.publish_event(state, "resolved")
        self._policy_dirty()
        return True

    def _policy_dirty(self) -> None:
        # the queue is taken by the delivery loop: save once it has run (soon), and on every tick
        try:
            asyncio.get_running_loop().call_later(0.2, self.save_policy)
        except RuntimeError:  # used outside the gateway's loop (tools, tests): save now
            self.save_policy()

    def tasks(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """Coroutines the gateway runs (and cancels on shutdown): delivery, the digest scheduler and
        each ack listener."""
        out: list[Callable[[], Coroutine[Any, Any, None]]] = [self.delivery.run, self._keep_policy]
        if self.digests is not None:
            out.append(self.digests.run)
        by_server: dict[tuple[str, str | None], list[str]] = {}
        for r in self.cfg.recipients:
            if r.ntfy is not None:
                by_server.setdefault((r.ntfy.server, r.ntfy.token_value()), []).append(r.ntfy.ack_topic)
        since = self._load_since()
        for (server, token), topics in by_server.items():
            # ask for what was published while the gateway was down: an Acknowledge pressed during a
            # restart still counts (a replay of one already used is refused by its nonce)
            listener = NtfyAckListener(server, sorted(set(topics)), self.verifier, token=token,
                                       since=since.get(server))
            out.append(lambda listener=listener: self._consume(listener.acks(), listener))
        out += self.uplink.tasks()  # one per team broker: the hub's actions come back on it
        return out

    async def _consume(self, acks: AsyncIterator[Acknowledgement], ntfy: NtfyAckListener | None = None) -> None:
        async for ack in acks:
            self.acknowledged(ack)
            if ntfy is not None and ntfy.last_id:
                self._save_since(ntfy.server, ntfy.last_id)

    def _load_since(self) -> dict[str, str]:
        try:
            data = json.loads(self._since_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save_since(self, server: str, last_id: str) -> None:
        data = self._load_since()
        data[server] = last_id
        tmp = self._since_file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self._since_file)
        except OSError as exc:  # a full disk: acks still work, a restart may just miss older ones
            log.warning("could not save the ntfy acknowledgement position", extra={"ctx": {"error": exc.strerror}})

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.save_policy()
            self._state_db.close()
        await close_notifiers(self.notifiers)
        with contextlib.suppress(Exception):
            self.delivery.close()
        self.seen.close()
