"""The delivery service end to end: escalation and acknowledgement on a simulated clock, quiet hours,
reviews, recipients_for, and the running service posting to a real webhook receiver on loopback."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from alerts.delivery import AlertDelivery
from alerts.notifiers.base import DeliveryResult, OutgoingMessage
from alerts.notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookNotifier, verify_signature
from gateway.config import parse_config_text
from routines.alert import Alert, Audience, Severity
from tests.conftest import PATIENCE_S

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)  # London = UTC in January
SECRET = "delivery-test-secret"

CONFIG = """\
timezone: Europe/London
people: [{id: p1, name: Ann}]
recipients:
  - {id: sam, name: Sam Okafor, group: team, email: sam@example.org}
  - {id: jo, name: Jo, group: circle, email: jo@example.org}
consent:
  - {person: p1, recipient: sam, receives: [urgent, concern, trends, technical]}
  - {person: p1, recipient: jo, receives: [urgent, concern, digest], quiet_hours: "21:30-08:00"}
escalation:
  urgent: [sam, jo]
"""


class SimClock:
    def __init__(self, start: datetime = T0) -> None:
        self.t, self.start = start, start

    def now(self) -> datetime:
        return self.t

    def monotonic(self) -> float:
        return (self.t - self.start).total_seconds()


class Inbox:
    channel = "email"

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.got: list[tuple[OutgoingMessage, datetime]] = []

    async def send(self, msg: OutgoingMessage, recipient) -> DeliveryResult:
        self.got.append((msg, self.clock.now()))
        return DeliveryResult.delivered()

    def take(self) -> list[tuple[str, str]]:
        out = [(m.recipient, m.body.splitlines()[0]) for m, _ in self.got]
        self.got.clear()
        return out


def make(tmp_path: Path, config: str = CONFIG, start: datetime = T0, **kw):
    clock = SimClock(start)
    inbox = Inbox(clock)
    cfg = parse_config_text(config, "home.yaml")
    return AlertDelivery(cfg, tmp_path / "hearth.sqlite3", {"email": inbox}, clock, **kw), clock, inbox


def urgent(key: str = "p1:not_up", msg: str = "Ann is usually up by 08:10; no movement since 22:40.") -> Alert:
    return Alert(T0, "p1", "not_up", Severity.URGENT, Audience.CARE, msg, key=key)


async def test_escalation_then_acknowledgement_updates_every_phone(tmp_path: Path) -> None:
    delivery, clock, inbox = make(tmp_path)
    delivery.submit(urgent())
    for _ in range(5):
        delivery.submit(urgent(msg="Still no movement."))  # the same situation: updated, not re-sent
    await delivery.tick()
    assert inbox.take() == [("sam", "Ann is usually up by 08:10; no movement since 22:40.")]
    clock.t += timedelta(minutes=9, seconds=59)
    await delivery.tick()
    assert inbox.take() == []
    clock.t += timedelta(seconds=1)
    await delivery.tick()
    ((msg, _),) = inbox.got
    assert msg.recipient == "jo" and msg.body.endswith("Nobody has acknowledged this for 10 minutes.")
    assert msg.body.startswith("Still no movement.") and msg.priority == "urgent" and msg.title == "Ann: not up by the usual time"
    inbox.take()
    clock.t += timedelta(minutes=2)
    delivery.acknowledge("p1:not_up", "jo", clock.now())
    await delivery.tick()
    updates = {m.recipient: m for m, _ in inbox.got}
    assert set(updates) == {"sam", "jo"}
    assert updates["sam"].body.startswith("Handled by Jo 09:42.") and updates["sam"].replaces is not None
    originals = {r.message.message_id: r.message.recipient for r in delivery.outbox.for_alert("p1:not_up")
                 if r.message.replaces is None}
    assert {originals[m.replaces] for m in updates.values()} == {"sam", "jo"}
    inbox.take()
    delivery.acknowledge("p1:not_up", "sam", clock.now())  # a second acknowledgement changes nothing
    clock.t += timedelta(hours=1)
    await delivery.tick()
    assert inbox.take() == []
    delivery.close()


async def test_resolve_records_outcome_and_cancels_held_messages(tmp_path: Path) -> None:
    outcomes = []
    late = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
    delivery, clock, inbox = make(tmp_path, start=late, on_outcome=lambda k, o: outcomes.append((k, o)))
    concern = Alert(late, "p1", "door_open", Severity.WARNING, Audience.CARE, "Front door open at night.", key="p1:door")
    delivery.submit(concern)
    await delivery.tick()
    assert inbox.take() == [("sam", "Front door open at night.")]  # jo is in quiet hours until 08:00
    clock.t = datetime(2026, 1, 6, 7, 59, tzinfo=UTC)
    await delivery.tick()
    assert inbox.take() == []
    clock.t = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    await delivery.tick()
    assert inbox.take() == [("jo", "Front door open at night.")]
    # Another night: resolved before the morning, so Jo's held copy is cancelled.
    clock.t = datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
    delivery.submit(Alert(clock.t, "p1", "door_open", Severity.WARNING, Audience.CARE, "Door again.", key="p1:door2"))
    await delivery.tick()
    assert inbox.take() == [("sam", "Door again.")]
    state = delivery.resolve("p1:door2", "sam", clock.t, outcome="false_alarm")
    assert (state.resolved_by, state.outcome) == ("sam", "false_alarm")
    assert outcomes == [("p1:door2", "false_alarm")]
    clock.t = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
    await delivery.tick()
    assert inbox.take() == []
    assert {r.message.recipient: r.state for r in delivery.outbox.for_alert("p1:door2")} == {
        "sam": "sent", "jo": "cancelled"}
    delivery.close()


async def test_recipients_for_follows_consent_escalation_and_pauses(tmp_path: Path) -> None:
    delivery, _clock, _inbox = make(tmp_path)
    assert delivery.recipients_for(urgent(), T0) == ["sam", "jo"]
    concern = Alert(T0, "p1", "no_kettle", Severity.WARNING, Audience.CARE, "No kettle today.")
    assert delivery.recipients_for(concern, T0) == ["sam", "jo"]
    assert delivery.recipients_for(concern, datetime(2026, 1, 5, 23, 0, tzinfo=UTC)) == ["sam", "jo"]  # held, not lost
    info = Alert(T0, "p1", "slept_late", Severity.INFO, Audience.CARE, "")
    assert delivery.recipients_for(info, T0) == []
    battery = Alert(T0, "p1", "battery_low", Severity.WARNING, Audience.TECHNICAL, "Bed sensor battery 8%.")
    assert delivery.recipients_for(battery, T0) == ["sam"]
    delivery.pauses.start("p1", T0 + timedelta(hours=1), by="Ann", now=T0)
    assert delivery.recipients_for(urgent(), T0) == []
    delivery.close()


async def test_a_passed_review_date_is_flagged_to_the_team_once(tmp_path: Path) -> None:
    config = CONFIG.replace("trends, technical]}", "trends, technical], review_on: 2026-01-01}")
    delivery, _clock, inbox = make(tmp_path, config)
    await delivery.tick()
    await delivery.tick()
    ((msg, _),) = inbox.got
    assert (msg.recipient, msg.category) == ("sam", "technical")
    assert msg.body == "Ann's consent for Sam Okafor was due for review on 01 Jan 2026. Please review it with them."
    delivery.close()


async def test_the_running_service_posts_to_a_real_webhook_and_retries_a_500(tmp_path: Path, monkeypatch) -> None:
    got: list[dict] = []
    statuses = [500, 200, 200]

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        assert verify_signature(SECRET.encode(), body, request.headers[TIMESTAMP_HEADER],
                                request.headers[SIGNATURE_HEADER], now=datetime.now(UTC).timestamp())
        status = statuses.pop(0)
        if status == 200:
            got.append(json.loads(body) | {"key": request.headers["Idempotency-Key"]})
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HEARTH_DELIVERY_TEST", SECRET)
    config = CONFIG.replace("email: sam@example.org",
                            f'webhook: {{url: "http://127.0.0.1:{port}/hook", secret_env: HEARTH_DELIVERY_TEST}}')

    class Clock:  # real time, sped up so the 5 s backoff passes quickly
        speed = 50.0

        def __init__(self) -> None:
            self.t0 = asyncio.get_running_loop().time()

        def now(self) -> datetime:
            return T0 + timedelta(seconds=self.monotonic())

        def monotonic(self) -> float:
            return (asyncio.get_running_loop().time() - self.t0) * self.speed

    notifier = WebhookNotifier(home="test")
    delivery = AlertDelivery(parse_config_text(config, "home.yaml"), tmp_path / "h.sqlite3",
                             {"webhook": notifier}, Clock(), idle_s=0.5)
    task = asyncio.create_task(delivery.run())
    await delivery.put(urgent())
    for _ in range(int(PATIENCE_S / 0.05)):
        if got:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await notifier.close()
    await runner.cleanup()
    (first,) = got
    assert (first["recipient"], first["category"], first["title"]) == ("sam", "urgent", "Ann: not up by the usual time")
    (row,) = [r for r in delivery.outbox.all() if r.message.recipient == "sam"]
    assert (row.state, row.attempts, row.message.message_id) == ("sent", 2, first["key"])
    assert not delivery._sending and all(t.done() for t in delivery._tasks | {task})
    delivery.close()


async def test_restart_resubmission_queues_nothing_new_and_does_not_skip_the_wait(tmp_path: Path) -> None:
    delivery, _clock, inbox = make(tmp_path)
    delivery.submit(urgent())
    await delivery.tick()
    assert inbox.take() == [("sam", "Ann is usually up by 08:10; no movement since 22:40.")]
    delivery.close()
    again, clock, inbox = make(tmp_path)  # the gateway restarted; the detector reports the alert again
    again.submit(urgent())
    await again.tick()
    assert inbox.take() == [] and len(again.outbox.all()) == 1
    clock.t += timedelta(minutes=5)
    await again.tick()
    assert inbox.take() == []  # still waiting for sam, not escalated at once
    clock.t += timedelta(minutes=5)
    await again.tick()
    assert [r for r, _ in inbox.take()] == ["jo"]
    again.close()


async def test_a_chain_step_nobody_may_hear_is_skipped_at_once(tmp_path: Path) -> None:
    config = CONFIG.replace("receives: [urgent, concern, trends, technical]", "receives: [concern, trends]")
    delivery, _clock, inbox = make(tmp_path, config)
    delivery.submit(urgent())
    await delivery.tick()
    await delivery.tick()
    assert [r for r, _ in inbox.take()] == ["jo"]  # sam never agreed to urgent: no 10-minute wait
    (w,) = delivery.outbox.withheld()
    assert (w["recipient"], w["reason"], w["category"]) == ("sam", "category_not_consented", "urgent")
    delivery.close()
