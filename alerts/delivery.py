"""The delivery service: alert policy -> consent gate -> outbox -> notifiers, as one asyncio service.

An alert from the routine core is submitted (directly, or through the bounded queue with :meth:`put`);
the policy says whom to address; the consent gate (:func:`alerts.consent.decide`) says whether and when
for each recipient; allowed messages are written to the outbox (one per channel of the recipient) before
anything is sent; the sender picks due rows, asks the gate again (a pause may have started), claims the
row, calls the channel's notifier, and records the result. Every withholding is logged and kept.

Message ids derive from the alert itself: its key, the episode of that key (:meth:`Outbox.episode`: the
same until the alert is resolved), the category, the escalation step, the recipient and the channel. So
the same alert raised again after a crash (even one that lost the policy's state) carries the same
idempotency key to receivers, and the same ntfy sequence id; a new episode gets new ids.

A write that fails because of the storage (a full disk) loses nothing: the policy is put back as it was,
the alert is held in memory (:class:`alerts.hold.HeldAlerts`, bounded and counted) and submitted again by
the next pass that can write.

Wiring in the gateway::

    delivery = AlertDelivery(cfg, db_path, {"ntfy": ntfy, "email": smtp}, clock,
                             on_outcome=engine.record_outcome)
    task = asyncio.create_task(delivery.run())
    await delivery.put(alert)                       # from the detectors
    delivery.acknowledge(key, by="sam", at=now)     # from a verified acknowledgement
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.consent import Decision, category_of, decide, log_withheld
from alerts.digest import DAY_START_HOUR, digest_message, weekly_trends
from alerts.hold import HeldAlerts, could_not_store
from alerts.notifiers.base import DeliveryResult, Notifier, OutgoingMessage
from alerts.outbox import Outbox, OutboxRow
from alerts.pause import PauseStore
from alerts.policy import AlertPolicy, AlertState, Notify, Submitted, alert_key
from routines.alert import Alert, Audience, Severity
from routines.kinds import words
from routines.summary import DaySummary

log = logging.getLogger("hearth.delivery")

PRIORITY = {"urgent": "urgent", "concern": "high", "technical": "default", "digest": "low", "trends": "low"}
TAGS = {"urgent": ("rotating_light",), "concern": ("warning",), "technical": ("wrench",)}


def message_id(*parts: object) -> str:
    """A stable idempotency key from the parts that make a message what it is."""
    return "hm-" + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


class AlertDelivery:
    """Policy, consent and the outbox, tied together. ``clock`` has ``now()`` and ``monotonic()``."""

    def __init__(self, config: Any, db_path: Path | str, notifiers: dict[str, Notifier], clock: Any,
                 on_outcome: Callable[[str, str], None] | None = None, *, queue_size: int = 256,
                 max_parallel_sends: int = 4, idle_s: float = 5.0):
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        # where the person's day starts (the chart's first hour): the home's routine setting
        routines = getattr(config, "routines", None)
        self.day_start_hour = getattr(routines, "day_start_hour", DAY_START_HOUR)
        # person -> what each routine check watches with, while still learning (the gateway sets it)
        self.learning_of: Callable[[str], list[str]] | None = None
        self.recipients = {r.id: r for r in config.recipients}
        self.people = {p.id: p.name for p in config.people}
        self.notifiers = notifiers
        self.clock = clock
        self.outbox = Outbox(db_path)
        self.pauses = PauseStore(db_path)
        self.policy = AlertPolicy(config.escalation, list(self.recipients), clock, on_outcome)
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(queue_size)
        self.idle_s = idle_s
        self._send_slots = asyncio.Semaphore(max_parallel_sends)
        self._dest_slots: dict[tuple[str, str], asyncio.Lock] = {}
        self._sending: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._reviews_flagged: set[str] = set()
        self.hold = HeldAlerts()
        self._unrecorded: dict[str, tuple[DeliveryResult, datetime]] = {}  # sent, result not yet stored

    # ---- intake ----------------------------------------------------------------------------------

    def wake(self) -> None:
        """Make the running sender loop look at the outbox now instead of after its idle wait.

        Everything here that writes outbox rows calls it; code that changes what is due by other means
        (rows or pauses written elsewhere) may call it so the change is acted on at once rather than
        within ``idle_s``. Harmless when :meth:`run` is not running: the next pass looks anyway.

            delivery.outbox.enqueue(msg, person="p1", now=now)
            delivery.wake()  # sent now, not up to idle_s later
        """
        self._wake.set()

    async def put(self, alert: Alert) -> None:
        """Queue an alert for the running service (waits when the bounded queue is full)."""
        await self.queue.put(alert)

    def submit(self, alert: Alert) -> Submitted:
        """Run an alert through the policy and queue what the gate allows. Durable when it returns, or
        held (``action == "held"``) when the outbox cannot be written: the policy is left as it was and
        the next pass that can write submits it again. Never raises for a full disk."""
        key = alert_key(alert)
        try:
            result = self._submit_now(alert)
        except Exception as exc:
            if not could_not_store(exc):
                raise
            category = category_of(alert) or "technical"
            self.hold.keep(("alert", key), category, alert)
            log.warning("alert %s could not be stored (%s); held in memory (%d held) until writes succeed",
                        key, exc, self.hold.count)
            return Submitted("held", None)
        self.hold.release(("alert", key))  # a newer copy went through: the held one is superseded
        return result

    def _submit_now(self, alert: Alert) -> Submitted:
        key = alert_key(alert)
        before = self.policy.snapshot(key)
        result = self.policy.submit(alert)
        if result.notify is not None:
            try:
                self._address(result.notify, self.clock.now())
            except BaseException:
                self.policy.restore(key, before)  # not opened until it is really queued
                raise
        return result

    def _retry_held(self) -> None:
        """Submit again what could not be stored, oldest first; stop at the first that still cannot be."""
        for hkey, item in self.hold.items():
            try:
                if isinstance(item, Alert):
                    self._submit_now(item)
                else:
                    state = self.policy.alerts.get(item.key)
                    if state is not None and state.is_open and state.acknowledged_at is None:
                        self._address(item, self.clock.now())
            except Exception as exc:
                if not could_not_store(exc):
                    raise
                return
            self.hold.release(hkey)
            log.info("held alert %s stored at last (%d still held)", hkey[1], self.hold.count)

    def _address(self, notify: Notify, now: datetime) -> int:
        pauses = self.pauses.active(now)
        # open and raise at step 0 of one category are one message: the kind stays out of the id
        episode = self.outbox.episode(notify.key)
        queued = reached = 0  # reached: recipients allowed (rows may exist already after a restart)
        for rid in notify.targets:
            recipient = self.recipients.get(rid)
            if recipient is None:
                continue
            decision = decide(self.config, notify.alert.person, rid, notify.category, now, pauses)
            if not decision.allow:
                self._withhold(notify.alert.person, rid, notify.category, notify.key, decision, now)
                continue
            allowed = self._per_address(notify.alert.person, rid, notify.category, notify.key, now, pauses)
            reached += bool(allowed)
            for channel, decision in allowed:
                msg = OutgoingMessage(
                    message_id(notify.key, episode, notify.category, notify.step, rid, channel),
                    rid, channel, notify.category, self._title(notify), self._body(notify),
                    PRIORITY[notify.category], alert_key=notify.key, tags=TAGS.get(notify.category, ()))
                queued += self.outbox.enqueue(msg, person=notify.alert.person, now=now,
                                              deliver_at=decision.deliver_at)
        if not reached:
            log.warning("nobody could be told about %s at step %d; escalating at once", notify.key, notify.step)
            self.policy.skip_wait(notify.key)
        self.wake()
        return queued

    def _per_address(self, person: str, rid: str, category: str, key: str | None, now: datetime,
                     pauses: list[Any]) -> list[tuple[str, Decision]]:
        """The recipient's channels whose address the gate allows (others reading it may see it too);
        each one withheld is logged and kept."""
        allowed = []
        for channel in self.recipients[rid].channels:
            decision = decide(self.config, person, rid, category, now, pauses, channel)
            if decision.allow:
                allowed.append((channel, decision))
            else:
                self._withhold(person, rid, category, key, decision, now)
        return allowed

    def _withhold(self, person: str | None, recipient: str, category: str, key: str | None,
                  decision: Decision, now: datetime, msg_id: str | None = None) -> None:
        log_withheld(person or "?", recipient, category, decision.reason, key)
        self.outbox.record_withheld(person=person, recipient=recipient, category=category, alert_key=key,
                                    reason=decision.reason, now=now, message_id=msg_id)

    def _title(self, notify: Notify) -> str:
        who = self.people.get(notify.alert.person, notify.alert.person)
        what = words(notify.alert.kind)  # one table of kinds and their words (routines/kinds.py)
        return f"{who}: {what}" if notify.kind != "raise" else f"{who}: {what} (now {notify.category})"

    def _body(self, notify: Notify) -> str:
        if notify.kind == "escalate":
            mins = self.config.escalation.after_minutes * notify.step
            return f"{notify.alert.message}\nNobody has acknowledged this for {mins:.0f} minutes."
        return notify.alert.message

    # ---- the daily digest and the weekly trends note ---------------------------------------------

    def submit_digest(self, summary: DaySummary) -> int:
        """Queue the day's digest (chart attached) for every recipient who consented to ``digest`` about
        this person, one per channel, through the consent gate. Returns how many new messages were
        queued: ids are stable per person, day, recipient and channel, so a second call queues none.
        """
        name = self.people.get(summary.person, summary.person)
        first: list[OutgoingMessage] = []

        def build(rid: str, channel: str) -> OutgoingMessage:
            if not first:  # the chart is drawn once (tens of ms on a Pi), then shared by every copy
                first.append(digest_message(summary, name, rid, channel, self.tz, self.day_start_hour))
            stem = first[0].message_id.rsplit("/", 2)[0]  # digest/PERSON/DATE
            return replace(first[0], message_id=f"{stem}/{rid}/{channel}", recipient=rid, channel=channel)

        return self._address_note(summary.person, "digest", f"{summary.person}:digest:{summary.date}", build)

    def submit_trends(self, person: str, days: list[DaySummary]) -> int:
        """Queue the weekly trends note (from up to seven summaries) for those who consented to ``trends``."""
        if not days:
            return 0
        name = self.people.get(person, person)
        last = max(d.date for d in days)
        title = f"{name}'s week to {last.strftime('%A')} {last.day} {last.strftime('%B')}"
        body = weekly_trends(days, name, self.learning_of(person) if self.learning_of is not None else ())

        def build(rid: str, channel: str) -> OutgoingMessage:
            return OutgoingMessage(f"trends/{person}/{last.isoformat()}/{rid}/{channel}", rid, channel, "trends",
                                   title, body, PRIORITY["trends"], tags=("bar_chart",))

        return self._address_note(person, "trends", f"{person}:trends:{last}", build)

    def _address_note(self, person: str, category: str, key: str,
                      build: Callable[[str, str], OutgoingMessage]) -> int:
        """A note (not an alert) to everyone the gate allows; every withholding logged and kept."""
        now = self.clock.now()
        pauses = self.pauses.active(now)
        queued = 0
        for rid in self.recipients:
            decision = decide(self.config, person, rid, category, now, pauses)
            if not decision.allow:
                self._withhold(person, rid, category, key, decision, now)
                continue
            for channel, by_address in self._per_address(person, rid, category, key, now, pauses):
                queued += self.outbox.enqueue(build(rid, channel), person=person, now=now,
                                              deliver_at=by_address.deliver_at)
        self.wake()
        return queued

    # ---- people acting on an alert ---------------------------------------------------------------

    def acknowledge(self, alert_key: str, by: str, at: datetime) -> AlertState | None:
        """``by`` has it in hand: stop escalating and update every phone ("Handled by Sam 07:42")."""
        before = self.policy.alerts.get(alert_key)
        already = before is not None and before.acknowledged_at is not None
        state = self.policy.acknowledge(alert_key, by, at)
        if state is None or already:
            return state
        name = self.recipients[by].name if by in self.recipients else by
        note = f"Handled by {name} {at.astimezone(self.tz):%H:%M}"
        now = self.clock.now()
        pauses = self.pauses.active(now)
        for row in self.outbox.for_alert(alert_key):
            msg = row.message
            if msg.replaces is not None or row.state not in ("sent", "pending", "sending"):
                continue
            decision = decide(self.config, state.alert.person, msg.recipient, msg.category, now, pauses,
                              msg.channel)
            if not decision.allow:
                self._withhold(state.alert.person, msg.recipient, msg.category, alert_key, decision, now)
                continue
            update = OutgoingMessage(message_id("ack", msg.message_id), msg.recipient, msg.channel, msg.category,
                                     msg.title, f"{note}.\n{msg.body}", "default", alert_key=alert_key,
                                     tags=("white_check_mark",), replaces=msg.message_id)
            self.outbox.enqueue(update, person=state.alert.person, now=now, deliver_at=decision.deliver_at)
        self.wake()
        return state

    def resolve(self, alert_key: str, by: str, at: datetime, outcome: str | None = None) -> AlertState | None:
        """Close the alert (who, when, optionally real / false_alarm); held messages are cancelled."""
        state = self.policy.resolve(alert_key, by, at, outcome)
        if state is not None:
            self.outbox.close_episode(alert_key)
            n = self.outbox.cancel_for_alert(alert_key, f"resolved by {by}")
            if n:
                log.info("cancelled %d held message(s) of resolved alert %s", n, alert_key)
        return state

    def record_outcome(self, alert_key: str, outcome: str) -> None:
        self.policy.record_outcome(alert_key, outcome)

    # ---- who would hear of it --------------------------------------------------------------------

    def recipients_for(self, alert: Alert, now: datetime) -> list[str]:
        """Everyone who would receive ``alert`` at ``now`` under consent and pauses, escalation included
        (queued later because of quiet hours still counts)."""
        category = category_of(alert)
        if category is None:
            return []
        pauses = self.pauses.active(now)
        out: list[str] = []
        for targets in self.policy.chain_targets(category):
            for rid in targets:
                if rid not in out and rid in self.recipients and any(
                        decide(self.config, alert.person, rid, category, now, pauses, ch).allow
                        for ch in self.recipients[rid].channels):
                    out.append(rid)
        return out

    # ---- the service -----------------------------------------------------------------------------

    async def tick(self, *, wait_sends: bool = True) -> None:
        """One pass: due escalations, ended pauses, consent reviews, then due sends."""
        now = self.clock.now()
        self._record_unrecorded()
        self._retry_held()
        for notify in self.policy.due():
            try:
                self._address(notify, now)
            except Exception as exc:
                if not could_not_store(exc):
                    raise
                self.hold.keep(("escalate", notify.key, str(notify.step)), notify.category, notify)
                log.warning("escalation of %s could not be stored (%s); held (%d held)", notify.key, exc,
                            self.hold.count)
        self._report_pause_ends(now)
        self._flag_reviews(now)
        self.outbox.expire_due(now)
        for row in self.outbox.due(now):
            if row.message.message_id not in self._sending:
                task = asyncio.create_task(self._send_one(row), name=f"send {row.message.message_id}")
                self._sending[row.message.message_id] = task
                task.add_done_callback(lambda t, mid=row.message.message_id: self._sending.pop(mid, None))
        if wait_sends and self._sending:
            await asyncio.gather(*list(self._sending.values()))

    async def run(self) -> None:
        """Run until cancelled: take queued alerts, escalate, send. Every task is cancelled on the way out."""
        intake = asyncio.create_task(self._intake(), name="alert intake")
        self._tasks.add(intake)
        try:
            while True:
                try:
                    await self.tick(wait_sends=False)
                except Exception as exc:  # a full disk must not end delivery: try again after the wait
                    if not could_not_store(exc):
                        raise
                    log.warning("delivery pass could not write: %s", exc)
                self._wake.clear()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
                # arrives as the wake-up does, and shutdown would then wait for this task forever
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_for()):
                        await self._wake.wait()
        finally:
            for task in [*self._tasks, *self._sending.values()]:
                task.cancel()
            await asyncio.gather(*self._tasks, *self._sending.values(), return_exceptions=True)
            self._tasks.clear()

    def _idle_for(self) -> float:
        """Real seconds until something is due (never more than ``idle_s``, so pauses set from the CLI
        and outbox rows written by others are seen promptly)."""
        waits = [self.idle_s]
        nxt = self.outbox.next_due_at()
        if nxt is not None:
            waits.append((nxt - self.clock.now()).total_seconds())
        mono = self.policy.next_due_mono()
        if mono is not None:
            waits.append(mono - self.clock.monotonic())
        speed = getattr(self.clock, "speed", 1.0) or 1.0
        return max(0.01, min(waits) / speed)

    async def _intake(self) -> None:
        while True:
            alert = await self.queue.get()
            try:
                self.submit(alert)
            except Exception:
                log.exception("could not handle alert %s", alert_key(alert))
            finally:
                self.queue.task_done()

    async def _send_one(self, row: OutboxRow) -> None:
        msg = row.message
        # one send at a time per address: a receiver that hangs until its timeout holds one of the shared
        # slots at most, and every other recipient's messages go on being sent
        dest = self._dest_slots.setdefault((msg.recipient, msg.channel), asyncio.Lock())
        async with dest, self._send_slots:
            now = self.clock.now()
            recipient = self.recipients.get(msg.recipient)
            if recipient is None or row.person is None:
                reason = "unknown_recipient" if recipient is None else "no_person"
                self._withhold(row.person, msg.recipient, msg.category, msg.alert_key,
                               Decision(False, now, reason), now, msg.message_id)
                return
            decision = decide(self.config, row.person, msg.recipient, msg.category, now, self.pauses.active(now),
                              msg.channel)
            if not decision.allow:
                self._withhold(row.person, msg.recipient, msg.category, msg.alert_key, decision, now, msg.message_id)
                return
            if decision.deliver_at > now:
                self.outbox.reschedule(msg.message_id, decision.deliver_at)
                return
            notifier = self.notifiers.get(msg.channel)
            if not self.outbox.mark_sending(msg.message_id, now):
                return
            if notifier is None:
                result = DeliveryResult.failed(f"no {msg.channel} notifier is configured", retryable=False)
            else:
                try:
                    result = await notifier.send(msg, recipient)
                except Exception as exc:  # a notifier should never raise; if one does, retry later
                    log.exception("%s notifier raised", msg.channel)
                    result = DeliveryResult.failed(f"notifier raised {type(exc).__name__}", retryable=True)
            try:
                state = self.outbox.mark_result(msg.message_id, result, self.clock.now())
            except Exception as exc:
                if not could_not_store(exc):
                    raise
                # sent but not recorded: keep the result and record it on the next pass, so the row is
                # not left 'sending' (and resent, same id) until a restart
                self._unrecorded[msg.message_id] = (result, self.clock.now())
                return
            if state == "failed":
                self._refused(row, result)
            if state != "pending":
                self.wake()

    def _refused(self, row: OutboxRow, result: DeliveryResult) -> None:
        """A permanent refusal (a 4xx: a wrong URL, an expired token) is never only a log line: the
        technicians get a technical alert naming the address and what to fix, and an urgent alert goes
        to its next escalation step at once instead of after the wait."""
        msg = row.message
        if msg.category == "urgent" and msg.alert_key:
            self.policy.skip_wait(msg.alert_key)
        who = self.recipients[msg.recipient].name if msg.recipient in self.recipients else msg.recipient
        # one alert per refusing address (a refusal of this alert itself updates it, never loops)
        self.submit(Alert(self.clock.now(), row.person or "?", "delivery_refused", Severity.WARNING,
                          Audience.TECHNICAL,
                          f"{who}'s {msg.channel} refused a {msg.category} message, which was not delivered: "
                          f"{result.detail}. Check that address and its token or secret in the config.",
                          key=f"{row.person}:delivery_refused:{msg.recipient}:{msg.channel}",
                          evidence={"recipient": msg.recipient, "channel": msg.channel,
                                    "message_id": msg.message_id, "category": msg.category}))

    def _record_unrecorded(self) -> None:
        for mid, (result, at) in list(self._unrecorded.items()):
            self.outbox.mark_result(mid, result, at)
            del self._unrecorded[mid]

    # ---- notes to the team -----------------------------------------------------------------------

    def _report_pause_ends(self, now: datetime) -> None:
        for pause in self.pauses.unreported_ends(now):
            end = pause.end if pause.ended_at is None else min(pause.end, pause.ended_at)
            held = self.outbox.withheld(person=pause.person, reason="paused", category="urgent",
                                        start=pause.start, end=end)
            log.warning("privacy pause for %s is over (%s); %d urgent message(s) were held during it",
                        pause.person, "ended early" if pause.ended_at else "ran out", len(held))
            keys = list(dict.fromkeys(h["alert_key"] for h in held))
            if keys:
                local = f"{pause.start.astimezone(self.tz):%H:%M}-{end.astimezone(self.tz):%H:%M}"
                name = self.people.get(pause.person, pause.person)
                self.submit(Alert(now, pause.person, "held_during_pause", Severity.URGENT, Audience.CARE,
                                  f"While {name} had paused sharing ({local}), {len(keys)} urgent alert(s) "
                                  "were held. Please check in.", key=f"{pause.person}:held_during_pause:{pause.id}",
                                  evidence={"held_alerts": keys, "pause_id": pause.id}))
            self.pauses.mark_end_reported(pause.id, now)

    def _flag_reviews(self, now: datetime) -> None:
        today = now.astimezone(self.tz).date()
        for c in self.config.consent:
            key = f"{c.person}:consent_review:{c.recipient}:{c.review_on}"
            if c.review_on is None or c.review_on >= today or key in self._reviews_flagged:
                continue
            self._reviews_flagged.add(key)
            who = self.recipients[c.recipient].name if c.recipient in self.recipients else c.recipient
            self.submit(Alert(now, c.person, "consent_review_due", Severity.WARNING, Audience.TECHNICAL,
                              f"{self.people.get(c.person, c.person)}'s consent for {who} was due for review "
                              f"on {c.review_on:%d %b %Y}. Please review it with them.", key=key))

    def close(self) -> None:
        self.outbox.close()
        self.pauses.close()



