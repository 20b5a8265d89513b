"""The consent property for digests and trends notes, through the real path (gate -> outbox -> notifier).

For ANY generated home (consents with random categories and quiet hours, shared inboxes, pauses, a timezone) and digests
and trends notes handed over at any times of a day, every message that reached a notifier was one the
person agreed that recipient may receive, was not sent during a pause of that person, and not inside the
recipient's quiet hours. Not vacuous: each note reaches (is queued for) every recipient who consented to
its category and was not paused when it was handed over (and whose inbox's other readers may read it too),
once per channel, and never twice.
"""

import asyncio
import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.consent import quiet_until
from alerts.delivery import AlertDelivery
from tests.test_delivery_property import (
    PEOPLE,
    RECIPIENTS,
    STEP,
    Recorder,
    SimClock,
    build_config,
    homes,
    pauses,
    starts,
)
from tests.test_digest_schedule import summary

notes = st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(["digest", "trends"]),
                           st.integers(0, 24 * 6 - 1)), min_size=1, max_size=4)


async def scenario(cfg, pause_specs, note_specs, start: datetime, db: Path):
    clock = SimClock(start)
    rec = Recorder("email", clock)
    delivery = AlertDelivery(cfg, db, {"email": rec}, clock)
    for person, at_min, dur_min in pause_specs:
        t = start + timedelta(minutes=at_min)
        delivery.pauses.start(person, t + timedelta(minutes=dur_min), by="test", now=t)
    handed = []
    for i in range(26 * 6):  # a day and two hours in 10-minute ticks
        for n, (person, kind, step) in enumerate(note_specs):
            if step == i:
                day = replace(summary(date(2026, 1, 1) + timedelta(days=n)), person=person)
                if kind == "digest":
                    delivery.submit_digest(day)
                else:
                    delivery.submit_trends(person, [day])
                handed.append((person, kind, day.date, clock.now()))
        await delivery.tick()
        clock.t += STEP
    rows = delivery.outbox.all()
    all_pauses = delivery.pauses.since(start - timedelta(days=1))
    delivery.close()
    return rec.sent, rows, all_pauses, handed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=homes, pause_specs=pauses, note_specs=notes, start=starts)
def test_digests_and_trends_go_only_where_consented_unpaused_and_out_of_quiet_hours(
        h, pause_specs, note_specs, start) -> None:
    cfg = build_config(h)
    tz = ZoneInfo(cfg.timezone)
    consents = {(c.person, c.recipient): c for c in cfg.consent}
    with tempfile.TemporaryDirectory() as d:
        sent, rows, all_pauses, handed = asyncio.run(scenario(cfg, pause_specs, note_specs, start, Path(d) / "h.db"))
    by_id = {r.message.message_id: r for r in rows}

    for msg, at in sent:
        row = by_id[msg.message_id]
        entry = consents.get((row.person, msg.recipient))
        assert entry is not None and msg.category in entry.receives, f"sent without consent: {msg.message_id}"
        assert not any(p.person == row.person and p.covers(at) for p in all_pauses), f"sent in a pause: {msg}"
        assert quiet_until(entry.quiet_window, at, tz) is None, f"sent in quiet hours at {at}: {msg.message_id}"
    assert len(sent) == len({m.message_id for m, _ in sent}), "a note reached a notifier twice"

    inbox = dict(zip(RECIPIENTS, h["inbox"], strict=True))

    def allowed(person: str, r: str, kind: str) -> bool:
        return (c := consents.get((person, r))) is not None and kind in c.receives

    for person, kind, day, at in handed:
        paused = any(p.person == person and p.covers(at) for p in all_pauses)
        # queued for a recipient only when everyone reading that recipient's inbox may receive it
        expected = set() if paused else {r for (p, r) in consents if p == person and all(
            allowed(person, x, kind) for x in RECIPIENTS if inbox[x] == inbox[r])}
        queued = {r.message.recipient for r in rows if r.message.category == kind and r.person == person
                  and f"/{person}/{day.isoformat()}/" in r.message.message_id}
        assert queued == expected
