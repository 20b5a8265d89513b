"""The running gateway tells people: a real bed event on a real mosquitto, the routine core's alert, the
consent gate, the outbox and the signed webhook to a real receiver on loopback; the next morning's digest
from the routine core's own day summary; and a restart that sends nothing twice."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts.digest import digest_text
from alerts.outbox import Outbox
from gateway.config import parse_config_text
from gateway.service import Gateway
from gateway.timebase import Clock, ScaledClock
from routines.alert import Alert, Audience, Severity
from tests.conftest import PATIENCE_S
from tests.test_digest_schedule import Receiver, wait_until
from tests.test_service import Publisher

LONDON = ZoneInfo("Europe/London")
SECRET = "gateway-alerting-test-secret"
SPEED = 20_000.0  # a day in about four seconds


class HeldThenScaled(Clock):
    """A demo clock held at ``start`` until :meth:`go`, then running ``SPEED`` times real time. Held while
    the gateway starts and takes the first event: at 20 000x, three slow real seconds on a busy machine
    would be seventeen hours of Ann's night gone before she is seen going to bed."""

    speed = SPEED

    def __init__(self, start: datetime) -> None:
        self.start, self._t0 = start, None

    def go(self) -> None:
        self._t0 = time.monotonic()

    def hold(self) -> None:
        """Stand still again where it is (a slow shutdown must not run on into the next day)."""
        self.start, self._t0 = self.now(), None

    def _gone(self) -> float:
        return 0.0 if self._t0 is None else (time.monotonic() - self._t0) * self.speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self._gone())

    def monotonic(self) -> float:
        return 1000.0 + self._gone()


def home(port: int, client_id: str, url: str, secret_file: Path) -> str:
    hook = f'{{url: "{url}", secret_file: "{secret_file}"}}'
    return f"""\
name: test-home
timezone: Europe/London
people: [{{id: p1, name: Ann, pronoun: she}}]
sensors:
  - {{id: bed, kind: bed, room: bedroom, role: bed, person: p1, zigbee: {{friendly_name: bedroom/bed_strap}}}}
broker: {{host: 127.0.0.1, port: {port}, client_id: {client_id}}}
console: {{port: 0}}
recipients:
  - {{id: sam, name: Sam Okafor, group: team, webhook: {hook}}}
  - {{id: jo, name: Jo, group: circle, webhook: {hook}}}
  - {{id: kim, name: Kim, group: circle, webhook: {hook}}}
consent:
  - {{person: p1, recipient: sam, receives: [urgent, concern, technical]}}
  - {{person: p1, recipient: jo, receives: [digest], quiet_hours: "21:30-08:00"}}
"""


def bed(occupied: bool) -> bytes:
    return json.dumps({"battery": 100, "illuminance": 500, "linkquality": 90, "occupancy": occupied}).encode()


async def start(gw: Gateway) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_until(lambda: gw.link.subscribed)
    return stop, task


async def test_an_alert_reaches_the_consenting_webhook_signed_and_nobody_else(mosquitto, tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    async with Receiver(SECRET.encode()) as rx:
        cfg = parse_config_text(home(mosquitto.port, "gw-alerting", rx.url, secret_file), "home.yaml")
        # Monday 5 January, 22:00 in London: Ann goes to bed and does not get up
        clock = rx.clock = HeldThenScaled(datetime(2026, 1, 5, 22, 0, tzinfo=UTC))
        gw = Gateway(cfg, tmp_path / "hearth.sqlite3", clock, tick_s=60.0, commit_s=0.1)
        stop, task = await start(gw)
        p = Publisher(mosquitto.port, "test-z2m-alerting")
        try:
            p.pub("zigbee2mqtt/bedroom/bed_strap", bed(True))
            await wait_until(lambda: gw.stats.events >= 1)  # in bed at 22:00 sharp; the night runs from here
            clock.go()
            await wait_until(lambda: rx.of("sam") and rx.of("jo", "digest"))
            clock.hold()
            summary = gw.engine.day_summary("p1", date(2026, 1, 5))
        finally:
            p.close()
            stop.set()
            await task
        # the routine core's not-up alert went to Sam (urgent consent), correctly signed
        (alert,) = rx.of("sam")
        assert (alert["category"], alert["title"], alert["home"]) == ("urgent", "Ann: not up by the usual time", "test-home")
        assert alert["body"].startswith("Ann is not up by ")  # the routine core's own words
        assert rx.refused == 0
        # the next morning at 09:00 (the default), Jo's digest of Monday from the routine core's summary
        (digest,) = rx.of("jo")
        assert (digest["title"], digest["key"]) == ("Ann's day: Monday 5 January", "digest/p1/2026-01-05/jo/webhook")
        assert digest["body"] == digest_text(summary, "Ann", LONDON)
        assert digest["arrived"].astimezone(LONDON).strftime("%Y-%m-%d") == "2026-01-06"
        assert digest["arrived"].astimezone(LONDON).hour >= 9
        # Kim has no consent entry: nothing reached her, and the withholding is kept with its reason
        assert rx.of("kim") == []
        box = Outbox(tmp_path / "hearth.sqlite3")
        withheld = {(w["recipient"], w["category"], w["reason"]) for w in box.withheld()}
        states = {r.message.message_id: r.state for r in box.all()}
        box.close()
        assert ("kim", "urgent", "no_consent") in withheld and ("jo", "urgent", "category_not_consented") in withheld
        assert ("kim", "digest", "no_consent") in withheld and ("sam", "digest", "category_not_consented") in withheld
        assert {r for r, _c, _w in withheld if _c == "urgent"} == {"jo", "kim"}
        assert set(states.values()) == {"sent"} and len(states) == 2

        # restart later that morning: the 09:00 digest is made up from the restored routines, not resent
        before = list(rx.got)
        clock = rx.clock = HeldThenScaled(datetime(2026, 1, 6, 9, 40, tzinfo=UTC))  # held: 09:40 throughout
        gw = Gateway(cfg, tmp_path / "hearth.sqlite3", clock, tick_s=60.0, commit_s=0.1)
        stop, task = await start(gw)
        try:
            await wait_until(lambda: gw.alerting.digests.sent)
            sent = list(gw.alerting.digests.sent)
        finally:
            stop.set()
            await task
        assert [(person, day, kind, n) for _f, person, day, kind, n in sent] == [
            ("p1", date(2026, 1, 5), "digest", 0)]
        assert rx.got == before


async def test_emitted_alerts_go_through_the_gate_by_category(mosquitto, tmp_path: Path) -> None:
    """Alerts handed to the gateway's own alert path (``raise_alerts``, which the routine core's alerts
    take too): a technical one reaches Sam, a concern reaches Sam, and Jo (digest only) and Kim (no
    consent) get neither."""
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    async with Receiver(SECRET.encode()) as rx:
        cfg = parse_config_text(home(mosquitto.port, "gw-alerting-emit", rx.url, secret_file), "home.yaml")
        gw = Gateway(cfg, tmp_path / "hearth.sqlite3", commit_s=0.1)
        stop, task = await start(gw)
        try:
            now = gw.clock.now()
            gw.raise_alerts([Alert(now, "p1", "sensor_silent", Severity.WARNING, Audience.TECHNICAL,
                                   "The bed sensor has been silent for 6 hours.", key="p1:sensor_silent:bed"),
                             Alert(now, "p1", "no_kitchen", Severity.WARNING, Audience.CARE,
                                   "No kitchen activity since yesterday evening.", key="p1:no_kitchen:x")])
            await wait_until(lambda: len(rx.got) >= 2)
        finally:
            stop.set()
            await task
    box = Outbox(tmp_path / "hearth.sqlite3")  # everything that was ever to be sent is written here first
    queued = sorted((r.message.recipient, r.message.category, r.state) for r in box.all())
    box.close()
    assert queued == [("sam", "concern", "sent"), ("sam", "technical", "sent")]
    assert sorted((g["recipient"], g["category"], g["body"]) for g in rx.got) == [
        ("sam", "concern", "No kitchen activity since yesterday evening."),
        ("sam", "technical", "The bed sensor has been silent for 6 hours.")]
    assert rx.refused == 0


async def test_delivery_stops_when_cancelled_just_as_it_is_woken(tmp_path: Path) -> None:
    """The gateway's shutdown cancels the delivery task and waits for it: a wake-up (a new message) in the
    same moment must not swallow the cancellation (Python 3.11's asyncio.wait_for did)."""
    from alerts.delivery import AlertDelivery

    cfg = parse_config_text(home(1883, "unused", "http://127.0.0.1:9/hook", tmp_path / "s"), "home.yaml")
    delivery = AlertDelivery(cfg, tmp_path / "alerts.sqlite3", {}, ScaledClock(datetime(2026, 1, 5, tzinfo=UTC), 1.0))
    stuck = 0
    for _ in range(20):
        task = asyncio.create_task(delivery.run())
        await asyncio.sleep(0.01)  # now waiting for work
        delivery.wake()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=PATIENCE_S)  # a swallowed cancellation never ends
        stuck += not done
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    delivery.close()
    assert stuck == 0
