"""The gateway's side of the hub uplink: heartbeat, alert events, and the hub's actions carried out.

Every recipient with an ``mqtt`` channel is a hub (the team's broker): one lasting connection per
broker and home (:class:`alerts.notifiers.mqtt.MqttUplink`). What goes up passes the consent gate for
that recipient like any other message (``docs/uplink.md``):

- **status** (retained, every ``heartbeat_s``): who the hub may hear about and what each Circle member
  was given (the hub enforces it on its Circle pages), the open alerts it was told of, and, when every
  person consented to ``technical`` for it, device health, the gateway's own health and
  ``engine.status()``. A paused person is left out of it.
- **events**: an alert acknowledged or resolved, to hubs that were allowed that alert's category.
- the hub's **actions** come back verified: "I'm on it" acknowledges (escalation stops), "Resolved"
  resolves with an outcome (fed to the routine core, kept in the alert history), and everyone told of
  the alert who is not the hub gets an all-clear naming who checked and when.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from alerts.ack import Acknowledgement
from alerts.consent import decide
from alerts.delivery import AlertDelivery, message_id
from alerts.digest import day_facts
from alerts.notifiers.base import OutgoingMessage
from alerts.notifiers.mqtt import MqttNotifier, MqttUplink
from alerts.policy import AlertState
from alerts.uplink import EVENTS, STATUS, HubAction, envelope, topic
from routines.summary import DaySummary

log = logging.getLogger("hearth.uplink")

# a device's last_seen stays home too: a door or bed sensor's is when the person last moved (the hub's
# pages need only whether it is available and its battery)
# what of the routine core's status goes up as ``technical``: whether each check is learning, blind or
# unwell, never the person's usual times, whether they are out now, or the day's context (a visitor, a
# holiday) the console shows at home; a field the core adds later stays at home until it is listed here
TECHNICAL_ROUTINE_FIELDS = frozenset({"name", "days_learned", "confidence", "learning", "degraded", "blind",
                                      "unhealthy_sensors", "checks", "prior", "unwatched"})
ALL_CLEAR = {  # outcome -> what everyone who was told hears
    "false_alarm": "{by} checked on {name} at {at}: all is well.",
    "real": "{by} checked on {name} at {at}: {name} needed help, and the wellbeing team is with them.",
}


class GatewayView(Protocol):
    """What the uplink needs from the running gateway (set once the gateway is up)."""

    async def status(self) -> dict[str, Any]: ...

    async def record_outcome(self, key: str, outcome: str, by: str, at: datetime) -> None: ...

    def day(self, person: str, day: date) -> DaySummary: ...  # KeyError: the core has no such day


class Uplink:
    def __init__(self, cfg: Any, delivery: AlertDelivery, clock: Any, verifier: Any,
                 on_change: Callable[[], None], heartbeat_s: float = 60.0):
        self.cfg = cfg
        self.delivery = delivery
        self.clock = clock
        self.verifier = verifier
        self.on_change = on_change
        self.heartbeat_s = heartbeat_s
        self.view: GatewayView | None = None
        self.links: list[tuple[MqttUplink, list[str]]] = []  # a connection and the hub recipients on it
        self.sent = {"status": 0, "events": 0}
        self.actions_done = 0
        mqtt = getattr(delivery, "notifiers", {}).get("mqtt")
        if isinstance(mqtt, MqttNotifier):  # a digest to the hub carries its day's facts (uplink v2)
            mqtt.day_of = self.day_of

    def tasks(self) -> list[Callable[[], Awaitable[None]]]:
        by_broker: dict[tuple[str, int, str], list[Any]] = {}
        for r in self.cfg.recipients:
            if r.mqtt is not None:
                by_broker.setdefault((r.mqtt.host, r.mqtt.port, r.mqtt.ack_topic(self.cfg.name)), []).append(r)
        return [lambda rs=rs: self._run(rs) for rs in by_broker.values()]

    async def _run(self, recipients: list[Any]) -> None:
        ch = recipients[0].mqtt
        # tokens are issued and checked on the wall clock (as the notifier signs them), whatever the home's clock
        async with MqttUplink(ch, self.cfg.name, self.verifier) as link:
            entry = (link, [r.id for r in recipients])
            self.links.append(entry)
            beat = asyncio.create_task(self._heartbeat(link, entry[1]), name="uplink heartbeat")
            try:
                async for ack, action in link.actions():
                    await self.carry_out(ack, action)
            finally:
                beat.cancel()
                self.links.remove(entry)
                await asyncio.gather(beat, return_exceptions=True)

    # ---- going up ---------------------------------------------------------------------------------

    async def _heartbeat(self, link: MqttUplink, rids: list[str]) -> None:
        while True:
            try:
                for rid in rids:
                    body = await self.status_for(rid)
                    link.publish(topic(link.ch.topic_prefix, self.cfg.name, STATUS),
                                 envelope("status", self.cfg.name, self.clock.now().timestamp(), body), retain=True)
                    self.sent["status"] += 1
            except Exception:  # a failing status read must not end the heartbeat
                log.exception("heartbeat could not be built")
            await asyncio.sleep(self.heartbeat_s)

    def _allowed(self, person: str, rid: str, category: str, now: datetime) -> bool:
        return decide(self.cfg, person, rid, category, now, self.delivery.pauses.active(now), "mqtt").allow

    async def status_for(self, rid: str) -> dict[str, Any]:
        now = self.clock.now()
        people = [p for p in self.cfg.people
                  if any(self._allowed(p.id, rid, c, now) for c in ("urgent", "concern", "digest", "technical"))]
        shared = {p.id: [c for c in ("urgent", "concern", "digest", "trends", "technical")
                         if self._allowed(p.id, rid, c, now)] for p in people}
        circle = [{"id": c.recipient, "name": self.delivery.recipients[c.recipient].name, "person": c.person,
                   "receives": [k for k in c.receives if k in shared.get(c.person, ())]}
                  for c in self.cfg.consent if c.person in shared and c.recipient in self.delivery.recipients
                  and self.delivery.recipients[c.recipient].group == "circle"]
        body: dict[str, Any] = {
            "interval_s": self.heartbeat_s, "timezone": self.cfg.timezone,
            "people": [{"id": p.id, "name": p.name, "shared": shared[p.id]} for p in people],
            "circle": circle,
            "open_alerts": [_state_json(s) | {"told": self.told(s.key)} for s in self.delivery.policy.alerts.values()
                            if s.alert.person in shared and s.category in shared[s.alert.person]],
        }
        # the day so far: the daily note's facts, sooner. It goes to a hub given the daily note, and
        # otherwise only while the hub was told of an alert of the person's still open (the chart on its
        # page): given urgent alerts alone, the team is not sent the person's every day, minute by minute
        alerted = {a["person"] for a in body["open_alerts"] if a["open"]}
        for entry in body["people"]:
            if "digest" in entry["shared"] or entry["id"] in alerted:
                today = self.day_of(entry["id"], self.today())
                if today is not None:
                    entry["today"] = today
        technical = bool(self.cfg.people) and all("technical" in shared.get(p.id, ()) for p in self.cfg.people)
        if technical and self.view is not None:
            body["health"] = await self.view.status()
        return body

    def problems(self) -> list[str]:
        """Each hub link that is down, in words a technician acts on (for the gateway's status)."""
        from gateway.mqtt import CONNACK_WORDS, TLS_CLOSED, describe_os_error, describe_tls_error

        out = []
        for link, rids in self.links:
            if link.connected.is_set() or link.failed_attempts == 0:
                continue
            ch, where = link.ch, f"{link.ch.host}:{link.ch.port}"
            field = f"recipient {rids[0]}'s mqtt"
            err = link.last_error
            if link.refused is not None:
                why = f"it refused the login as {ch.username!r}: {CONNACK_WORDS.get(link.refused, link.refused)}"
            elif ch.tls and isinstance(err, ConnectionResetError | ssl.SSLEOFError):
                why = f"TLS handshake failed: {TLS_CLOSED}"
            elif isinstance(err, ssl.SSLError):
                why = "TLS handshake failed: " + describe_tls_error(err, ch.host).replace("broker.tls.", f"{field}.")
            else:
                why = f"cannot connect: {describe_os_error(err)}"
            out.append(f"team hub broker {where} ({', '.join(rids)}): {why}; {link.failed_attempts} failed "
                       f"attempt{'s' if link.failed_attempts != 1 else ''}, retrying")
        return out

    def today(self) -> date:
        """The person day now running on the home's clock (it starts at ``day_start_hour``)."""
        local = self.clock.now().astimezone(self.delivery.tz)
        return (local - timedelta(hours=self.delivery.day_start_hour)).date()

    def day_of(self, person: str, day: date) -> dict[str, Any] | None:
        """A day's facts from the routine core (``DaySummary`` only: never raw sensor data), or None
        while the gateway is not up or the core has no such day (not reached yet, or no longer kept)."""
        if self.view is None:
            return None
        try:
            summary = self.view.day(person, day)
        except KeyError:
            return None
        return day_facts(summary, self.delivery.tz, self.delivery.day_start_hour)

    def told(self, key: str) -> list[dict[str, Any]]:
        """Who was sent the alert (not the hubs), on which channel and when, for the hub's "who was told"."""
        out = []
        for row in self.delivery.outbox.for_alert(key):
            msg = row.message
            if msg.replaces is None and msg.channel != "mqtt" and row.sent_at is not None:
                r = self.delivery.recipients.get(msg.recipient)
                out.append({"name": r.name if r else msg.recipient, "group": r.group if r else None,
                            "channel": msg.channel, "at": _iso(row.sent_at)})
        return out

    def publish_event(self, state: AlertState, event: str) -> None:
        """An alert acknowledged or resolved, to each hub allowed to hear of that alert."""
        now = self.clock.now()
        for link, rids in self.links:
            if not any(self._allowed(state.alert.person, rid, state.category, now) for rid in rids):
                continue
            link.publish(topic(link.ch.topic_prefix, self.cfg.name, EVENTS),
                         envelope(event, self.cfg.name, now.timestamp(),
                                  _state_json(state) | {"told": self.told(state.key)}))
            self.sent["events"] += 1

    # ---- the hub's actions -------------------------------------------------------------------------

    async def carry_out(self, ack: Acknowledgement, action: HubAction) -> None:
        at = self.clock.now()  # the home's own time (a sped-up demo clock included), as its other records
        by = action.by or ack.recipient
        if action.action == "ack":
            state = self.delivery.acknowledge(ack.alert_key, by, at)
            if state is not None:
                self.publish_event(state, "acknowledged")
        else:
            assert action.outcome is not None
            state = self.delivery.resolve(ack.alert_key, by, at, action.outcome)
            if state is None and self.delivery.policy.on_outcome is not None:
                self.delivery.policy.on_outcome(ack.alert_key, action.outcome)  # no longer open: tell the core
            if self.view is not None:
                await self.view.record_outcome(ack.alert_key, action.outcome, by, at)
            if state is not None:
                self.all_clear(state, by, at, action.outcome)
                self.publish_event(state, "resolved")
        self.actions_done += 1
        log.info("hub action carried out", extra={"ctx": {"alert_key": ack.alert_key, "action": action.action,
                                                          "by": by, "outcome": action.outcome}})
        self.on_change()

    def all_clear(self, state: AlertState, by: str, at: datetime, outcome: str) -> int:
        """Tell everyone who was sent the alert (not the hubs: they get the event) who checked and how
        it was, replacing the alert on their phone; through the consent gate like the alert was."""
        name = self.delivery.people.get(state.alert.person, state.alert.person)
        text = ALL_CLEAR[outcome].format(by=by, name=name, at=f"{at.astimezone(self.delivery.tz):%H:%M}")
        now = self.clock.now()
        pauses = self.delivery.pauses.active(now)
        queued = 0
        for row in self.delivery.outbox.for_alert(state.key):
            msg = row.message
            if msg.replaces is not None or msg.channel == "mqtt" or row.state != "sent":
                continue
            decision = decide(self.cfg, state.alert.person, msg.recipient, msg.category, now, pauses, msg.channel)
            if not decision.allow:
                continue
            note = OutgoingMessage(message_id("all-clear", msg.message_id), msg.recipient, msg.channel, msg.category,
                                   f"{name}: all clear" if outcome == "false_alarm" else f"{name}: helped",
                                   text, "default", alert_key=state.key, tags=("white_check_mark",),
                                   replaces=msg.message_id)
            queued += self.delivery.outbox.enqueue(note, person=state.alert.person, now=now,
                                                   deliver_at=decision.deliver_at)
        self.delivery.wake()
        return queued


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(timespec="seconds") if t is not None else None


def _state_json(s: AlertState) -> dict[str, Any]:
    return {"alert_key": s.key, "person": s.alert.person, "kind": s.alert.kind, "category": s.category,
            "raised_at": _iso(s.alert.time), "message": s.alert.message,
            "acknowledged_by": s.acknowledged_by, "acknowledged_at": _iso(s.acknowledged_at),
            "resolved_by": s.resolved_by, "resolved_at": _iso(s.resolved_at), "outcome": s.outcome,
            "open": s.is_open}


class UplinkView:
    """What the hub uplink reads from the running gateway: the technicians' status, and the outcome
    store the console's own "what happened" writes to."""

    def __init__(self, gw: Any):  # gateway.service.Gateway (not imported: it imports this module's users)
        self.gw = gw

    async def status(self) -> dict[str, Any]:
        gw = self.gw
        from gateway.console import status_snapshot

        data = await gw.in_db(status_snapshot, gw)
        disk = await asyncio.to_thread(shutil.disk_usage, gw.db_path.parent)  # a stalled card must not stall the loop
        devices = [{k: v for k, v in d.items() if k != "last_seen"} for d in data["health"]]
        return {"devices": devices, "rejected": sum(r["count"] for r in data["rejections"]),
                "gateway": gw.health_record(), "broker_connected": bool(gw.link and gw.link.connected),
                "clock": gw.trust.note(), "disk_free_mb": disk.free // 2**20,
                "disk_used_pct": round(100 * disk.used / disk.total, 1) if disk.total else None,
                "routines": {pid: {k: v for k, v in st.items() if k in TECHNICAL_ROUTINE_FIELDS}
                             for pid, st in (gw.engine.status() if gw.engine is not None else {}).items()}}

    def day(self, person: str, day: date) -> DaySummary:
        if self.gw.engine is None:
            raise KeyError(person)
        return self.gw.engine.day_summary(person, day)

    async def record_outcome(self, key: str, outcome: str, by: str, at: datetime) -> None:
        store = self.gw.store
        if store is not None:
            await self.gw.in_db(lambda: (store.record_outcome(key, outcome, by, at), store.commit()))
