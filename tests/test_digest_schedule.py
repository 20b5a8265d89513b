"""Digests and weekly trends are sent: the schedule's time arithmetic (DST), the consent gate on digests
(quiet hours delay, pauses withhold, no consent sends nothing), and the running scheduler with the real
delivery service posting to a real webhook receiver on loopback, across a restart without a duplicate."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from alerts.config import DigestSchedule
from alerts.delivery import AlertDelivery
from alerts.digest import digest_text, weekly_trends
from alerts.notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from gateway.alerting import Alerting
from gateway.config import ConfigError, parse_config_text
from gateway.digests import DigestPlan
from routines.summary import DaySummary
from tests.conftest import PATIENCE_S
from tests.held_clock import HeldClock

LONDON = ZoneInfo("Europe/London")
SECRET = "digest-schedule-test-secret"


def summary(d: date, wake: time = time(7, 40)) -> DaySummary:
    return DaySummary("p1", d, wake, time(7, 35), time(22, 15), time(22, 30), {"kettle": 4}, 30,
                      [(datetime.combine(d, time(14, 10), LONDON), datetime.combine(d, time(15, 30), LONDON))],
                      0, (0, 0, 0, 0, 0, 0, 0, 5, 9, 4) + (2,) * 14, (0.5,) * 24, [], [])


def local(t: datetime) -> str:
    return t.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")


# ---- the plan: time arithmetic ----------------------------------------------------------------------

def test_send_times_stay_at_the_wall_clock_time_across_both_dst_changes() -> None:
    plan = DigestPlan(DigestSchedule(daily_at="09:00"), LONDON, day_start_hour=4)
    for start in (datetime(2026, 3, 25, tzinfo=UTC), datetime(2026, 10, 21, tzinfo=UTC)):
        fires, t = [], start
        for _ in range(8):
            t = plan.next_fire(t)
            fires.append(t)
        assert [f.astimezone(LONDON).strftime("%H:%M") for f in fires] == ["09:00"] * 8
        days = [f.astimezone(LONDON).date() for f in fires]
        assert days == [days[0] + timedelta(days=i) for i in range(8)]
        gaps = {(b - a).total_seconds() / 3600 for a, b in itertools.pairwise(fires)}
        assert gaps == {24.0, 23.0} if start.month == 3 else gaps == {24.0, 25.0}


def test_a_missing_or_doubled_local_time_fires_exactly_once_that_day() -> None:
    plan = DigestPlan(DigestSchedule(daily_at="01:30"), LONDON, day_start_hour=4)
    # 29 March 2026: 01:30 does not exist in London (clocks go 01:00 -> 02:00); it is taken as 02:30 BST
    spring = plan.next_fire(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local(spring) == "2026-03-29 02:30"
    # 25 October 2026: 01:30 happens twice (BST then GMT); only the first one is used
    autumn = plan.next_fire(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert plan.next_fire(autumn) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    assert plan.last_fire(datetime(2026, 10, 25, 1, 45, tzinfo=UTC)) == autumn


def test_the_day_digested_is_the_last_person_day_that_has_ended() -> None:
    plan = DigestPlan(DigestSchedule(daily_at="09:00", weekly_on="monday"), LONDON, day_start_hour=4)
    fire = plan.next_fire(datetime(2026, 1, 4, 12, 0, tzinfo=UTC))  # Monday 5 January 09:00
    assert (local(fire), plan.day_for(fire), plan.is_weekly(fire)) == ("2026-01-05 09:00", date(2026, 1, 4), True)
    assert not plan.is_weekly(plan.next_fire(fire))
    # sent before the person day starts (03:00 < 04:00): yesterday has not ended yet, so the day before
    early = DigestPlan(DigestSchedule(daily_at="03:00"), LONDON, day_start_hour=4)
    assert early.day_for(early.fire_on(date(2026, 1, 5))) == date(2026, 1, 3)
    # a send time right at the day's end waits a little, so the routine core has closed the day
    edge = DigestPlan(DigestSchedule(daily_at="04:00"), LONDON, day_start_hour=4)
    assert local(edge.fire_on(date(2026, 1, 5))) == "2026-01-05 04:10"


def test_the_schedule_is_strict_config_with_defaults() -> None:
    base = "timezone: Europe/London\npeople: [{id: p1, name: Ann}]\n"
    assert parse_config_text(base, "home.yaml").digests == DigestSchedule(daily_at="09:00", weekly_on="monday")
    cfg = parse_config_text(base + "digests: {daily_at: '18:30', weekly_on: friday}\n", "home.yaml")
    assert (cfg.digests.daily_time, cfg.digests.weekday) == (time(18, 30), 4)
    for bad, field_name in (("{daily_at: '25:00'}", "digests.daily_at"), ("{weekly_on: someday}", "digests.weekly_on"),
                            ("{daily: '09:00'}", "digests.daily")):
        try:
            parse_config_text(base + f"digests: {bad}\n", "home.yaml")
        except ConfigError as exc:
            (problem,) = exc.problems
            assert problem.startswith(f"home.yaml:3: {field_name}:"), problem
        else:
            raise AssertionError(f"{bad} was accepted")


# ---- the consent gate on digests --------------------------------------------------------------------

CONFIG = """\
timezone: Europe/London
people: [{id: p1, name: Ann}]
recipients:
  - {id: sam, name: Sam Okafor, group: team, email: sam@example.org}
  - {id: jo, name: Jo, group: circle, email: jo@example.org, webhook: {url: "http://127.0.0.1:9/hook"}}
  - {id: kim, name: Kim, group: circle, email: kim@example.org}
  - {id: pat, name: Pat, group: circle, email: pat@example.org}
consent:
  - {person: p1, recipient: sam, receives: [urgent, concern, trends, technical]}
  - {person: p1, recipient: jo, receives: [urgent, digest], quiet_hours: "21:30-08:00"}
  - {person: p1, recipient: kim, receives: [digest]}
"""


class FixedClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t

    def monotonic(self) -> float:
        return self.t.timestamp()


def test_digests_pass_the_consent_gate_once_per_recipient_channel_and_day(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 1, 6, 7, 0, tzinfo=UTC))  # 07:00 in London: inside Jo's quiet hours
    delivery = AlertDelivery(parse_config_text(CONFIG, "home.yaml"), tmp_path / "a.sqlite3", {}, clock)
    assert delivery.submit_digest(summary(date(2026, 1, 5))) == 3  # Jo by email and webhook, Kim by email
    assert delivery.submit_digest(summary(date(2026, 1, 5))) == 0  # same day again: nothing new
    rows = {(r.message.recipient, r.message.channel): r for r in delivery.outbox.all()}
    assert sorted(rows) == [("jo", "email"), ("jo", "webhook"), ("kim", "email")]
    assert all(r.message.message_id == f"digest/p1/2026-01-05/{rid}/{ch}" and r.message.recipient == rid
               and r.message.channel == ch for (rid, ch), r in rows.items())
    assert local(rows["jo", "email"].deliver_at) == "2026-01-06 08:00"  # quiet hours delay it
    assert local(rows["kim", "email"].deliver_at) == "2026-01-06 07:00"
    msg = rows["jo", "webhook"].message
    assert (msg.message_id, msg.category, msg.body) == ("digest/p1/2026-01-05/jo/webhook", "digest",
                                                       digest_text(summary(date(2026, 1, 5)), "Ann", LONDON))
    assert msg.attachments[0][1].startswith(b"\x89PNG")  # the chart is kept in the outbox with it
    held = {(w["recipient"], w["reason"]) for w in delivery.outbox.withheld(category="digest")}
    assert held == {("sam", "category_not_consented"), ("pat", "no_consent")}

    # the person pauses sharing: the next day's digest is withheld for everyone, and that is kept
    delivery.pauses.start("p1", clock.t + timedelta(days=1, hours=4), by="p1", now=clock.t)
    clock.t += timedelta(days=1)
    assert delivery.submit_digest(summary(date(2026, 1, 6))) == 0
    paused = {w["recipient"] for w in delivery.outbox.withheld(category="digest", reason="paused")}
    assert paused == {"jo", "kim"}
    assert not [r for r in delivery.outbox.all() if "2026-01-06" in r.message.message_id]
    delivery.close()


def test_the_weekly_trends_note_goes_only_to_those_who_agreed_to_trends(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    delivery = AlertDelivery(parse_config_text(CONFIG, "home.yaml"), tmp_path / "a.sqlite3", {}, clock)
    week = [summary(date(2026, 1, 5) + timedelta(days=i), wake=time(7, 40 + i)) for i in range(7)]
    assert delivery.submit_trends("p1", week) == 1
    assert delivery.submit_trends("p1", week) == 0
    (row,) = delivery.outbox.all()
    m = row.message
    assert (m.message_id, m.recipient, m.category, m.priority) == ("trends/p1/2026-01-11/sam/email", "sam",
                                                                  "trends", "low")
    assert (m.title, m.body) == ("Ann's week to Sunday 11 January", weekly_trends(week, "Ann"))
    assert {w["recipient"] for w in delivery.outbox.withheld(category="trends")} == {"jo", "kim", "pat"}
    delivery.close()


def test_the_first_weekly_notes_say_which_checks_still_use_the_starting_limits(tmp_path: Path) -> None:
    """A newly installed person: the team's weekly note ends with the learning status, in the words
    `hearth status` uses (routines.learning), from the running engine."""
    from routines.engine import RoutineEngine
    from routines.learning import weekly_note_lines

    cfg = parse_config_text(CONFIG, "home.yaml")
    engine = RoutineEngine(cfg.to_home(), cfg.routines)
    lines = weekly_note_lines(engine, "p1")
    assert lines and any("starting" in line for line in lines)
    clock = FixedClock(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    delivery = AlertDelivery(cfg, tmp_path / "a.sqlite3", {}, clock)
    delivery.learning_of = lambda pid: weekly_note_lines(engine, pid)
    week = [summary(date(2026, 1, 5) + timedelta(days=i), wake=time(7, 40 + i)) for i in range(7)]
    assert delivery.submit_trends("p1", week) == 1
    (row,) = delivery.outbox.all()
    assert row.message.body == weekly_trends(week, "Ann") + "\n" + "\n".join(lines)
    delivery.close()


# ---- the running scheduler against a real webhook receiver ------------------------------------------

@dataclass
class Receiver:
    """A real aiohttp webhook receiver on loopback that checks every signature; ``clock`` stamps arrivals."""

    secret: bytes
    clock: object | None = None
    got: list[dict] = field(default_factory=list)
    refused: int = 0
    url: str = ""

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(self.secret, body, request.headers.get(TIMESTAMP_HEADER),
                                request.headers.get(SIGNATURE_HEADER), now=datetime.now(UTC).timestamp()):
            self.refused += 1
            return web.Response(status=401)
        data = json.loads(body)
        data["key"] = request.headers["Idempotency-Key"]
        data["arrived"] = self.clock.now() if self.clock is not None else datetime.now(UTC)
        self.got.append(data)
        return web.Response(text="ok")

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()

    def of(self, recipient: str, category: str | None = None) -> list[dict]:
        return [g for g in self.got if g["recipient"] == recipient and category in (None, g["category"])]


def scheduled_config(url: str, secret_file: Path) -> str:
    hook = f'{{url: "{url}", secret_file: "{secret_file}"}}'
    return f"""\
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - {{id: sam, name: Sam Okafor, group: team, webhook: {hook}}}
  - {{id: jo, name: Jo, group: circle, webhook: {hook}}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent, concern, trends, technical]}}
  - {{person: p1, recipient: jo, receives: [urgent, digest], quiet_hours: "21:30-08:00"}}
digests: {{daily_at: "07:00", weekly_on: tuesday}}
"""


async def wait_until(pred, within: float = PATIENCE_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not pred():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# held demo time (tests/held_clock.py): sped up 40 000x, a scheduler waking 90 real ms late on a busy machine
# would be past Jo's quiet hours (queued at 08:10, not held to 08:00); held, each send is at its due time
HELD_SPEED = 40_000.0


Step = tuple[datetime, Callable[[Alerting], object]]


async def run_alerting(cfg, data_dir: Path, clock: HeldClock, summaries: dict,
                       steps: list[Step]) -> tuple[Alerting, dict]:
    """Run the gateway's Alerting (delivery + digest scheduler) on a held clock: for each step, move the
    clock to its time and wait until its condition holds; then until every message due by the last
    time has been sent. Return it (closed) and its outbox rows by message id."""
    alerting = Alerting(cfg, data_dir / "hearth.sqlite3", clock, summary_of=lambda person, day: summaries[(person, day)])
    alerting.delivery.idle_s = 3600.0  # clock seconds; wakes earlier for anything due
    tasks = [asyncio.create_task(make()) for make in alerting.tasks()]
    try:
        for at, done in steps:
            clock.to(at)
            await wait_until(lambda done=done: done(alerting))
        await wait_until(lambda: not alerting.delivery.outbox.due(clock.now()) and
                         not {"sending"} & set(alerting.delivery.outbox.counts()))
        rows = {r.message.message_id: r for r in alerting.delivery.outbox.all()}
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await alerting.close()
    return alerting, rows


async def test_one_digest_a_day_after_quiet_hours_weekly_trends_and_no_duplicate_after_restart(
        tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET + "\n")
    summaries = {("p1", date(2026, 1, 1) + timedelta(days=i)): summary(date(2026, 1, 1) + timedelta(days=i))
                 for i in range(6)}
    async with Receiver(SECRET.encode()) as rx:
        cfg = parse_config_text(scheduled_config(rx.url, secret_file), "home.yaml")
        # Monday 5 January 06:00 to Tuesday 6 January 10:00, moved on at each send time and the end of
        # Jo's quiet hours (London is on UTC in January)
        clock = rx.clock = HeldClock(datetime(2026, 1, 5, 6, 0, tzinfo=UTC), HELD_SPEED)

        def sent(n: int) -> Callable[[Alerting], bool]:
            return lambda a: a.digests is not None and len(a.digests.sent) >= n
        _first, rows = await run_alerting(cfg, tmp_path, clock, summaries, [
            (datetime(2026, 1, 5, 7, 0, tzinfo=UTC), sent(1)),  # Sunday's digest, queued for Jo
            (datetime(2026, 1, 5, 8, 0, tzinfo=UTC), lambda _a: rx.of("jo", "digest")),  # ...and sent at 08:00
            (datetime(2026, 1, 6, 7, 0, tzinfo=UTC), sent(3)),  # Monday's digest and the weekly trends
            (datetime(2026, 1, 6, 10, 0, tzinfo=UTC), lambda _a: True)])
        digests = rx.of("jo", "digest")
        assert [(d["title"], d["key"]) for d in digests] == [
            ("Ann's day: Sunday 4 January", "digest/p1/2026-01-04/jo/webhook"),
            ("Ann's day: Monday 5 January", "digest/p1/2026-01-05/jo/webhook")]
        assert all(d["attachments"][0]["mime_type"] == "image/png" for d in digests)
        # queued at 07:00, inside Jo's quiet hours: held to 08:00 (arrival is a little after, never before)
        assert [local(rows[d["key"]].deliver_at) for d in digests] == ["2026-01-05 08:00", "2026-01-06 08:00"]
        assert all(d["arrived"] >= rows[d["key"]].deliver_at for d in digests)
        # Tuesday is the weekly day: Sam gets the trends of the five days there are, and no digest
        (trends,) = rx.of("sam")
        assert (trends["category"], trends["key"]) == ("trends", "trends/p1/2026-01-05/sam/webhook")
        assert trends["body"] == weekly_trends([summaries["p1", date(2026, 1, d)] for d in range(1, 6)], "Ann")
        assert rx.of("jo", "trends") == [] and rx.refused == 0

        # restart at 10:30 the same morning: the 07:00 send is made up, and nothing goes twice
        before = len(rx.got)
        clock = rx.clock = HeldClock(datetime(2026, 1, 6, 10, 30, tzinfo=UTC), HELD_SPEED)
        second, rows = await run_alerting(cfg, tmp_path, clock, summaries, [
            (datetime(2026, 1, 6, 10, 30, tzinfo=UTC), sent(2)),  # made up after the start-up wait
            (datetime(2026, 1, 6, 11, 0, tzinfo=UTC), lambda _a: True)])
        assert second.digests is not None
        assert [(person, day, kind) for _f, person, day, kind, _n in second.digests.sent] == [
            ("p1", date(2026, 1, 5), "digest"), ("p1", date(2026, 1, 5), "trends")]
        assert [n for *_rest, n in second.digests.sent] == [0, 0]
        assert len(rx.got) == before
        assert sorted(r.state for r in rows.values()) == ["sent"] * 3


async def test_a_wall_clock_step_skips_a_stale_send_instead_of_sending_an_old_day(tmp_path: Path) -> None:
    from gateway.digests import DigestScheduler

    clock = HeldClock(datetime(2026, 1, 5, 6, 0, tzinfo=UTC), HELD_SPEED)
    cfg = parse_config_text(CONFIG, "home.yaml")
    delivery = AlertDelivery(cfg, tmp_path / "a.sqlite3", {}, clock)
    summaries = {date(2026, 1, 1) + timedelta(days=i): summary(date(2026, 1, 1) + timedelta(days=i))
                 for i in range(10)}
    scheduler = DigestScheduler(DigestSchedule(daily_at="12:00", weekly_on="sunday"), LONDON, ["p1"], delivery,
                                lambda _p, d: summaries[d], clock)
    task = asyncio.create_task(scheduler.run())
    try:
        clock.to(datetime(2026, 1, 5, 6, 30, tzinfo=UTC))
        clock.t += timedelta(days=3)  # 06:30 on the 5th is really 06:30 on the 8th (a wall step only)
        for n, at in ((1, datetime(2026, 1, 8, 12, 0, tzinfo=UTC)), (2, datetime(2026, 1, 9, 12, 0, tzinfo=UTC))):
            clock.to(at)
            await wait_until(lambda n=n: len(scheduler.sent) >= n)
        clock.to(datetime(2026, 1, 9, 13, 0, tzinfo=UTC))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # the noon send of the 5th (about the 4th) is three days stale when the loop sees it: skipped;
    # the 8th's, due just then, and the 9th's go out as usual
    assert [(local(f), day) for f, _p, day, _k, _n in scheduler.sent] == [
        ("2026-01-08 12:00", date(2026, 1, 7)), ("2026-01-09 12:00", date(2026, 1, 8))]
    assert not [r for r in delivery.outbox.all() if "2026-01-04" in r.message.message_id]
    delivery.close()


async def test_a_day_the_routine_core_has_not_closed_is_asked_for_again_not_sent_half_done(tmp_path: Path) -> None:
    """At the send time the routine core still has the day open (its clock was not trusted, so it was not
    ticked): the digest waits, and goes once the day is closed, with the finished day's summary."""
    from gateway.digests import DigestScheduler, closed_days

    class Engine:  # answers like RoutineEngine.day_summary: closed days, and the current one (live)
        def __init__(self) -> None:
            self.current = date(2026, 1, 4)
            self.asked = 0

        def day_summary(self, person: str, d: date) -> DaySummary:
            self.asked += 1
            if d == self.current:
                return summary(d, wake=time(5, 0))  # a half day: what a live summary would say
            if date(2026, 1, 1) <= d < self.current:
                return summary(d)
            raise KeyError(d)

    engine = Engine()
    clock = HeldClock(datetime(2026, 1, 5, 11, 0, tzinfo=UTC), HELD_SPEED)
    delivery = AlertDelivery(parse_config_text(CONFIG, "home.yaml"), tmp_path / "a.sqlite3", {}, clock)
    scheduler = DigestScheduler(DigestSchedule(daily_at="12:00", weekly_on="friday"), LONDON, ["p1"], delivery,
                                closed_days(engine.day_summary), clock)
    task = asyncio.create_task(scheduler.run())
    try:
        for at in (datetime(2026, 1, 5, 12, 0, tzinfo=UTC), datetime(2026, 1, 5, 13, 0, tzinfo=UTC)):
            asked = engine.asked
            clock.to(at)  # the send time, then a retry (every 10 min) an hour on
            await wait_until(lambda asked=asked: engine.asked > asked)
        assert list(scheduler.sent) == []  # the 4th is still open: nothing sent
        engine.current = date(2026, 1, 5)  # the core closes the 4th
        clock.to(datetime(2026, 1, 5, 13, 10, tzinfo=UTC))  # the next retry
        await wait_until(lambda: scheduler.sent)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    ((fire, _p, day, kind, n),) = scheduler.sent
    assert (local(fire), day, kind, n) == ("2026-01-05 12:00", date(2026, 1, 4), "digest", 3)
    row = next(r for r in delivery.outbox.all() if r.message.recipient == "kim")
    assert row.message.body == digest_text(summary(date(2026, 1, 4)), "Ann", LONDON)  # the finished day
    assert row.message.body.startswith("Up at 07:40")
    delivery.close()


def test_a_retry_that_still_finds_no_closed_day_is_not_logged_as_news(caplog) -> None:
    """Asked again every RETRY for up to CATCH_UP while the core has not closed the day: the journal hears
    of it at the send time, and again only when something is queued (the demo logged it every few seconds)."""
    import logging

    from gateway.digests import DigestScheduler

    class Delivery:
        def submit_digest(self, s: DaySummary) -> int:
            return 1

    closed: dict[date, DaySummary] = {}

    def summary_of(person: str, d: date) -> DaySummary:
        return closed[d]

    sched = DigestScheduler(DigestSchedule(daily_at="09:00"), LONDON, ["p1"], Delivery(), summary_of, None)
    fire = datetime(2026, 3, 10, 9, 0, tzinfo=LONDON)
    caplog.set_level(logging.DEBUG, logger="hearth.digests")
    assert sched.send_for(fire) == ["p1"]
    assert sched.send_for(fire, ["p1"]) == ["p1"]  # the retry, still nothing
    closed[sched.plan.day_for(fire)] = summary(sched.plan.day_for(fire))
    assert sched.send_for(fire, ["p1"]) == []  # closed now: queued
    levels = [r.levelno for r in caplog.records if r.getMessage().startswith("digests for")]
    assert levels == [logging.INFO, logging.DEBUG, logging.INFO]
