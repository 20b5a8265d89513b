"""The digest scheduler: each day at ``digests.daily_at`` (the home's local time) the family's digest of
the day that last ended, and on ``digests.weekly_on`` the team's trends note of the last seven days.

The scheduler only decides *when* and *which day*; who receives what is the consent gate's business
(:meth:`alerts.delivery.AlertDelivery.submit_digest` / ``submit_trends``), and "never twice" is the
outbox's: message ids are stable per person, day, recipient and channel, so the catch-up a restart does
(the most recent send time, if it is less than ``CATCH_UP`` ago) queues nothing already queued.

Times follow the gateway's clock (``now()`` for the wall clock, ``sleep_s()`` to turn its seconds into
real ones, so the demo's sped-up clock works). Send times are local wall-clock times computed per date,
so a DST change moves them with the clock on the wall: a time that does not exist that night (spring
forward) is taken with the offset before the change, one that occurs twice (fall back) the first time.

A person day runs from ``routines.day_start_hour`` to the same hour next morning (the night belongs to
the day before), so the day digested is the last one that has *ended* by the send time:

>>> from datetime import UTC
>>> from alerts.config import DigestSchedule
>>> tz = ZoneInfo("Europe/London")
>>> s = DigestPlan(DigestSchedule(daily_at="09:00", weekly_on="monday"), tz, day_start_hour=4)
>>> fire = s.next_fire(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
>>> fire.astimezone(tz).isoformat(), s.day_for(fire), s.is_weekly(fire)
('2026-03-29T09:00:00+01:00', datetime.date(2026, 3, 28), False)
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerts.config import DigestSchedule
from routines.summary import DaySummary

log = logging.getLogger("hearth.digests")

CATCH_UP = timedelta(hours=12)  # after a restart, a send time missed by less than this is made up
SETTLE = timedelta(minutes=10)  # a send time this close after the day's end waits so the day is closed
STARTUP_WAIT = timedelta(minutes=2)  # several of the gateway's ticks (every 30 s)
MAX_SLEEP_S = 3600.0  # clock seconds between re-checks, so a wall-clock step is noticed within the hour
WEEK = 7

RETRY = timedelta(minutes=10)  # a day not yet closed by the routine core is asked for again this often
SummaryOf = Callable[[str, date], DaySummary]


def closed_days(day_summary: SummaryOf) -> SummaryOf:
    """Only days the routine core has closed: ``engine.day_summary`` also answers for the day still
    running (a half day), so a day counts as closed once the day after it is known to the engine.

    The engine is not ticked while the wall clock is untrusted (gateway/clocktrust.py), so at the send
    time the day may still be open; the scheduler then asks again every ``RETRY``.
    """

    def summary_of(person: str, day: date) -> DaySummary:
        day_summary(person, day + timedelta(days=1))  # KeyError while ``day`` is the current day
        return day_summary(person, day)

    return summary_of


class DigestPlan:
    """Pure time arithmetic of the schedule (no clock, no I/O), so it is tested on its own."""

    def __init__(self, schedule: DigestSchedule, tz: ZoneInfo, day_start_hour: int = 4):
        self.schedule = schedule
        self.tz = tz
        self.day_start_hour = day_start_hour

    def fire_on(self, day: date) -> datetime:
        """The send instant (UTC) on local date ``day``; DST-safe (see the module docstring)."""
        at = self.schedule.daily_time
        day_start = time(self.day_start_hour)
        start_dt, at_dt = datetime.combine(day, day_start), datetime.combine(day, at)
        if start_dt <= at_dt < start_dt + SETTLE:
            at_dt = start_dt + SETTLE
        return at_dt.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC"))

    def next_fire(self, after: datetime) -> datetime:
        """The first send instant strictly after ``after``."""
        local = after.astimezone(self.tz).date()
        for d in range(3):
            fire = self.fire_on(local + timedelta(days=d - 1))
            if fire > after:
                return fire
        raise AssertionError("unreachable: a send time exists every day")

    def last_fire(self, at_or_before: datetime) -> datetime:
        """The latest send instant at or before ``at_or_before``."""
        local = at_or_before.astimezone(self.tz).date()
        for d in range(3):
            fire = self.fire_on(local - timedelta(days=d - 1))
            if fire <= at_or_before:
                return fire
        raise AssertionError("unreachable: a send time exists every day")

    def day_for(self, fire: datetime) -> date:
        """The person day that last ended by ``fire``: the one the digest is about."""
        local = fire.astimezone(self.tz)
        current = local.date() if local.hour >= self.day_start_hour else local.date() - timedelta(days=1)
        return current - timedelta(days=1)

    def is_weekly(self, fire: datetime) -> bool:
        return fire.astimezone(self.tz).weekday() == self.schedule.weekday


class DigestScheduler:
    """Runs the plan on the gateway's clock and hands each day's summaries to the delivery service.

    ``delivery`` has ``submit_digest(summary)`` and ``submit_trends(person, summaries)``;
    ``summary_of(person, day)`` returns a :class:`DaySummary` of a finished day or raises ``KeyError``
    (not closed yet, or not kept): that person's notes are then asked for again every ``RETRY`` until
    ``CATCH_UP`` after the send time.
    """

    def __init__(self, schedule: DigestSchedule, tz: ZoneInfo, people: Sequence[str], delivery: Any,
                 summary_of: SummaryOf, clock: Any, day_start_hour: int = 4):
        self.plan = DigestPlan(schedule, tz, day_start_hour)
        self.people = list(people)
        self.delivery = delivery
        self.summary_of = summary_of
        self.clock = clock
        # what was handed over, for the console and tests: (fire, person, day, kind, new messages)
        self.sent: deque[tuple[datetime, str, date, str, int]] = deque(maxlen=200)

    def _summary(self, person: str, day: date) -> DaySummary | None:
        try:
            return self.summary_of(person, day)
        except KeyError:
            return None

    def send_for(self, fire: datetime, people: Sequence[str] | None = None) -> list[str]:
        """Queue the digests (and, on the weekly day, the trends notes) due at ``fire``; return the people
        whose day is not available (yet): the routine core may not have closed it, or never saw it."""
        day = self.plan.day_for(fire)
        queued, missing = 0, []
        for person in self.people if people is None else people:
            summary = self._summary(person, day)
            if summary is None:
                missing.append(person)
                continue
            n = self.delivery.submit_digest(summary)
            self.sent.append((fire, person, day, "digest", n))
            queued += n
            if self.plan.is_weekly(fire):
                days = [s for k in range(WEEK - 1, -1, -1)
                        if (s := self._summary(person, day - timedelta(days=k))) is not None]
                if days:
                    n = self.delivery.submit_trends(person, days)
                    self.sent.append((fire, person, day, "trends", n))
                    queued += n
        # a retry that still finds nothing (every RETRY for up to CATCH_UP while a day is not closed) is not
        # news for the journal: said once at the send time, then only when something was queued
        level = logging.DEBUG if people is not None and not queued else logging.INFO
        log.log(level, "digests for %s queued", day, extra={"ctx": {"day": day.isoformat(), "new_messages": queued,
                                                                    "waiting_for": ",".join(missing)}})
        return missing

    async def run(self) -> None:
        """Until cancelled. First makes up a send time missed by less than ``CATCH_UP`` (a restart),
        after ``STARTUP_WAIT`` so the gateway's ticker has brought a restored routine core up to date
        (a checkpoint from before the day ended would otherwise give a half day)."""
        await asyncio.sleep(self.clock.sleep_s(STARTUP_WAIT.total_seconds()))
        now = self.clock.now()
        last = self.plan.last_fire(now)
        retry: tuple[datetime, list[str], datetime] | None = None  # (send time, people, when to ask again)
        if now - last < CATCH_UP:
            retry = self._send_or_retry(last, None, now)
        fire = self.plan.next_fire(now)
        while True:
            now = self.clock.now()
            due = fire if retry is None else min(fire, retry[2])
            remaining = (due - now).total_seconds()
            if remaining > 0:
                await asyncio.sleep(self.clock.sleep_s(min(remaining, MAX_SLEEP_S)))
                continue
            if retry is not None and retry[2] <= now:
                retry = self._send_or_retry(retry[0], retry[1], now)
                continue
            if now - fire > CATCH_UP:
                # the wall clock stepped forward (a Pi setting its time at boot): a stale note misleads,
                # so carry on as after a restart, from the latest send time
                log.warning("skipped the digests due at %s: the clock is %s past it", fire.isoformat(), now - fire)
                latest = self.plan.last_fire(now)
                fire = latest if now - latest <= CATCH_UP else self.plan.next_fire(now)
                continue
            retry = self._send_or_retry(fire, None, now)
            fire = self.plan.next_fire(max(fire, now))

    def _send_or_retry(self, fire: datetime, people: list[str] | None,
                       now: datetime) -> tuple[datetime, list[str], datetime] | None:
        try:
            missing = self.send_for(fire, people)
        except Exception:  # one bad day must not stop every later digest
            log.exception("could not queue the digests due at %s", fire.isoformat())
            return None
        if not missing:
            return None
        if now + RETRY - fire > CATCH_UP:
            log.info("no digest of %s for %s: the routine core has no finished summary of that day",
                     self.plan.day_for(fire), ", ".join(missing))
            return None
        return fire, missing, now + RETRY
