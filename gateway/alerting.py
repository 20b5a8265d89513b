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
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.ack import Acknowledgement, AckSigner, AckVerifier, SeenNonces, load_home_secret
from alerts.delivery import AlertDelivery
from alerts.notifiers import build_notifiers, close_notifiers
from alerts.notifiers.mqtt import MqttAckListener
from alerts.notifiers.ntfy import NtfyAckListener
from gateway.config import HomeConfig
from gateway.digests import DigestScheduler, SummaryOf, closed_days
from routines.alert import Alert

log = logging.getLogger("hearth.alerting")


class Alerting:
    def __init__(self, cfg: HomeConfig, db_path: Path, clock: Any,
                 on_outcome: Callable[[str, str], None] | None = None, summary_of: SummaryOf | None = None):
        self.cfg = cfg
        data_dir = db_path.parent
        data_dir.mkdir(parents=True, exist_ok=True)
        self.signer = AckSigner(load_home_secret(data_dir / "ack.secret"))
        self.seen = SeenNonces(db_path)
        self.verifier = AckVerifier(self.signer, self.seen)
        self.notifiers = build_notifiers(home=cfg.name, smtp=cfg.smtp, signer=self.signer)
        self.delivery = AlertDelivery(cfg, db_path, self.notifiers, clock, on_outcome=on_outcome)
        self.dropped = 0
        # the daily digest and weekly trends, when the routine core can summarise days
        self.digests: DigestScheduler | None = None
        if summary_of is not None and cfg.digests.enabled:
            self.digests = DigestScheduler(cfg.digests, ZoneInfo(cfg.timezone), [p.id for p in cfg.people],
                                           self.delivery, closed_days(summary_of), clock,
                                           cfg.routines.day_start_hour)

    def submit(self, alert: Alert) -> None:
        """Hand an alert over without waiting (the event path must not block on delivery)."""
        try:
            self.delivery.queue.put_nowait(alert)
        except asyncio.QueueFull:
            # The bounded queue is full only if delivery is stuck; submit directly so the alert is
            # still written to the outbox (durable) rather than lost.
            self.dropped += 1
            self.delivery.submit(alert)

    def acknowledged(self, ack: Acknowledgement) -> None:
        self.delivery.acknowledge(ack.alert_key, ack.recipient, datetime.fromtimestamp(ack.received_at, UTC))

    def tasks(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """Coroutines the gateway runs (and cancels on shutdown): delivery, the digest scheduler and
        each ack listener."""
        out: list[Callable[[], Coroutine[Any, Any, None]]] = [self.delivery.run]
        if self.digests is not None:
            out.append(self.digests.run)
        by_server: dict[tuple[str, str | None], list[str]] = {}
        for r in self.cfg.recipients:
            if r.ntfy is not None:
                by_server.setdefault((r.ntfy.server, r.ntfy.token_value()), []).append(r.ntfy.ack_topic)
        for (server, token), topics in by_server.items():
            listener = NtfyAckListener(server, sorted(set(topics)), self.verifier, token=token)
            out.append(lambda listener=listener: self._consume(listener.acks()))
        seen_brokers: set[tuple[str, int, str]] = set()
        for r in self.cfg.recipients:
            if r.mqtt is not None and (r.mqtt.host, r.mqtt.port, r.mqtt.ack_topic(self.cfg.name)) not in seen_brokers:
                seen_brokers.add((r.mqtt.host, r.mqtt.port, r.mqtt.ack_topic(self.cfg.name)))
                out.append(lambda ch=r.mqtt: self._mqtt_acks(ch))
        return out

    async def _consume(self, acks: AsyncIterator[Acknowledgement]) -> None:
        async for ack in acks:
            self.acknowledged(ack)

    async def _mqtt_acks(self, ch: Any) -> None:
        async with MqttAckListener(ch, self.cfg.name, self.verifier) as listener:
            await self._consume(listener.acks())

    async def close(self) -> None:
        await close_notifiers(self.notifiers)
        with contextlib.suppress(Exception):
            self.delivery.close()
        self.seen.close()
