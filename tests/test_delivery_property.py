"""The consent property, through the real delivery path (policy -> gate -> outbox rows -> notifier).

For ANY generated home (people, recipients, consents with random categories and quiet hours, an
escalation chain, privacy pauses, a timezone) and ANY alerts at any times, run the delivery service on a
simulated clock for a day and check every message that reached a notifier: the person consented to that
recipient receiving that category, no pause of the person covered the moment it was sent, and a
non-urgent one was not sent inside the recipient's quiet hours; and all of that holds for every other
recipient reading the same address (recipients may share an inbox). And, so the property is not
vacuous: an urgent alert reaches every first-step recipient whose address's readers all consented, at once.
"""

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.consent import quiet_until
from alerts.delivery import AlertDelivery
from alerts.notifiers.base import DeliveryResult, OutgoingMessage
from gateway.config import HomeConfig
from routines.alert import Alert, Audience, Severity

PEOPLE = ["p1", "p2"]
RECIPIENTS = ["r0", "r1", "r2", "r3"]
CATEGORIES = ["urgent", "concern", "digest", "trends", "technical"]
STEP = timedelta(minutes=10)


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.t = start
        self.start = start

    def now(self) -> datetime:
        return self.t

    def monotonic(self) -> float:
        return (self.t - self.start).total_seconds()


class Recorder:
    """Stands at the end of the real path: what a notifier was asked to send, and when."""

    def __init__(self, channel: str, clock: SimClock) -> None:
        self.channel, self.clock = channel, clock
        self.sent: list[tuple[OutgoingMessage, datetime]] = []

    async def send(self, msg: OutgoingMessage, recipient) -> DeliveryResult:
        self.sent.append((msg, self.clock.now()))
        return DeliveryResult.delivered()


hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
quiet = st.one_of(st.none(), st.tuples(hhmm, hhmm).filter(lambda w: w[0] != w[1]).map("-".join))
consent = st.fixed_dictionaries({
    "receives": st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=5),
    "quiet_hours": quiet,
})
homes = st.fixed_dictionaries({
    "timezone": st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
    "consents": st.dictionaries(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(RECIPIENTS)), consent, max_size=8),
    "urgent_chain": st.lists(st.sampled_from(RECIPIENTS), unique=True, max_size=4),
    "concern_chain": st.lists(st.sampled_from(RECIPIENTS), unique=True, max_size=4),
    # which inbox each recipient reads: some share one, and then each of them may read what the other gets
    "inbox": st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=len(RECIPIENTS), max_size=len(RECIPIENTS)),
})
pauses = st.lists(st.tuples(st.sampled_from(PEOPLE), st.integers(0, 24 * 60), st.integers(1, 12 * 60)), max_size=3)
alerts = st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(list(Severity)), st.sampled_from(list(Audience)),
                            st.integers(0, 24 * 6 - 1)), min_size=1, max_size=5)
starts = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, minute=d.minute // 10 * 10, tzinfo=UTC))


def build_config(h: dict) -> HomeConfig:
    return HomeConfig.model_validate({
        "timezone": h["timezone"],
        "people": [{"id": p, "name": p.upper()} for p in PEOPLE],
        "recipients": [{"id": r, "name": r.upper(), "group": "team", "email": f"{box}@example.org"}
                       for r, box in zip(RECIPIENTS, h["inbox"], strict=True)],
        "consent": [{"person": p, "recipient": r, **c} for (p, r), c in h["consents"].items()],
        "escalation": {"urgent": h["urgent_chain"], "concern": h["concern_chain"]},
    })


async def scenario(cfg: HomeConfig, pause_specs: list, alert_specs: list, start: datetime, db: Path):
    clock = SimClock(start)
    rec = Recorder("email", clock)
    delivery = AlertDelivery(cfg, db, {"email": rec}, clock)
    for person, at_min, dur_min in pause_specs:
        t = start + timedelta(minutes=at_min)
        delivery.pauses.start(person, t + timedelta(minutes=dur_min), by="test", now=t)
    submitted = []
    for i in range(26 * 6):  # a day and two hours in 10-minute ticks
        for n, (person, sev, aud, step) in enumerate(alert_specs):
            if step == i:
                a = Alert(clock.now(), person, "thing", sev, aud, f"alert {n}", key=f"{person}:thing:{n}")
                delivery.submit(a)
                submitted.append((a, clock.now()))
        await delivery.tick()
        clock.t += STEP
    rows = {r.message.message_id: r for r in delivery.outbox.all()}
    all_pauses = delivery.pauses.since(start - timedelta(days=1))
    delivery.close()
    return rec.sent, rows, all_pauses, submitted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=homes, pause_specs=pauses, alert_specs=alerts, start=starts)
def test_nothing_is_delivered_outside_consent_pauses_or_quiet_hours(h, pause_specs, alert_specs, start) -> None:
    cfg = build_config(h)
    tz = ZoneInfo(cfg.timezone)
    consents = {(c.person, c.recipient): c for c in cfg.consent}
    with tempfile.TemporaryDirectory() as d:
        sent, rows, all_pauses, submitted = asyncio.run(scenario(cfg, pause_specs, alert_specs, start, Path(d) / "h.db"))

    inbox = dict(zip(RECIPIENTS, h["inbox"], strict=True))
    for msg, at in sent:
        row = rows[msg.message_id]
        assert row.state == "sent" and row.sent_at == at
        # everyone who reads the inbox it landed in must have been allowed to receive it
        for reader in [r for r in RECIPIENTS if inbox[r] == inbox[msg.recipient]]:
            entry = consents.get((row.person, reader))
            assert entry is not None, f"{reader} could read it without consent: {msg}"
            assert msg.category in entry.receives, f"{msg.category} not consented by {reader}: {msg}"
            if msg.category != "urgent":
                assert quiet_until(entry.quiet_window, at, tz) is None, f"in {reader}'s quiet hours at {at}: {msg}"
        assert not any(p.person == row.person and p.covers(at) for p in all_pauses), f"sent during a pause: {msg}"

    # Liveness: an urgent alert reaches every consenting, unpaused first-step recipient in the same tick.
    chain = cfg.escalation.chain("urgent")
    first_step = [r for r in (*chain[:1], *RECIPIENTS) if r not in chain[1:]]
    for alert, at in submitted:
        if alert.severity != Severity.URGENT or alert.audience != Audience.CARE:
            continue
        if any(p.person == alert.person and p.covers(at) for p in all_pauses):
            continue
        if any(a.key == alert.key for a, t in submitted if t < at):
            continue
        for r in dict.fromkeys(first_step):
            readers = [x for x in RECIPIENTS if inbox[x] == inbox[r]]
            if all((c := consents.get((alert.person, x))) is not None and "urgent" in c.receives for x in readers):
                assert any(m.recipient == r and m.alert_key == alert.key and t == at for m, t in sent), \
                    f"urgent {alert.key} did not reach {r} at once"
