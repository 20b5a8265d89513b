"""A person's days from the home to the hub (uplink v2), with real parts: the gateway's alert side
(delivery, outbox, consent gate, uplink heartbeat) and the hub through a real mosquitto secured with
the hub's password file and ACL. The routine core's day summaries are the input (``DaySummary``, what
``RoutineEngine.day_summary`` returns); everything after them is the running code.

- The alert page draws the alert's own day against the usual day (from the heartbeat's day so far,
  then from the daily note once it arrives), with a marker at the alert's hour.
- The Circle page shows the week strip only to a member the person gave the daily note, in words.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.alerting import Alerting
from gateway.config import parse_config_text
from gateway.timebase import Clock
from hub import auth, days
from hub.db import connect
from routines.alert import Alert, Audience, Severity
from routines.summary import DaySummary
from tests.conftest import PATIENCE_S
from tests.hub_support import Browserless, TeamBroker, hub_on

TZ = ZoneInfo("Europe/London")
USUAL = tuple([0.0] * 6 + [2.0, 6.0, 9.0, 7.0, 5.0, 4.0, 6.0, 5.0, 3.0, 3.0, 4.0, 6.0, 7.0, 5.0, 4.0, 2.0, 1.0, 0.0])


@pytest.fixture
def team_broker(tmp_path: Path):
    broker = TeamBroker(tmp_path / "team", ["ann-home"])
    broker.start()
    yield broker
    broker.stop()


def summary(d: date, *, hourly: tuple[int, ...], wake: dtime | None = dtime(7, 40), trips: int = 0,
            learning: bool = False) -> DaySummary:
    out = datetime.combine(d, dtime(10, 5), TZ), datetime.combine(d, dtime(11, 30), TZ)
    return DaySummary("p1", d, wake, dtime(7, 35), dtime(22, 15), dtime(22, 30), {"kettle": 3}, 5, [out], trips,
                      hourly, (0.0,) * 24 if learning else USUAL, [], [])


@dataclass
class CoreDays:
    """The routine core's side of the gateway view: day summaries by date (KeyError: no such day)."""

    by_date: dict[date, DaySummary]

    async def status(self) -> dict[str, Any]:
        return {}

    async def record_outcome(self, key: str, outcome: str, by: str, at: datetime) -> None:
        return None

    def day(self, person: str, day: date) -> DaySummary:
        return self.by_date[day]


def config(broker: TeamBroker, password_file: Path):
    return parse_config_text(f"""
name: ann-home
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - id: team-hub
    name: Wellbeing team hub
    group: team
    mqtt: {{host: 127.0.0.1, port: {broker.port}, tls: false, username: ann-home, password_file: "{password_file}"}}
  - {{id: jo, name: Jo, group: circle, webhook: {{url: "http://127.0.0.1:9/jo", allow_http: true}}}}
  - {{id: kim, name: Kim, group: circle, webhook: {{url: "http://127.0.0.1:9/kim", allow_http: true}}}}
consent:
  - {{person: p1, recipient: team-hub, receives: [urgent, concern, digest]}}
  - {{person: p1, recipient: jo, receives: [urgent, digest]}}
  - {{person: p1, recipient: kim, receives: [urgent]}}
""", "home.yaml")


def bars(html: str) -> int:
    return len(re.findall(r'<rect class="bar"', html))


async def poll(client: Browserless, path: str, cond: Any, seconds: float = PATIENCE_S) -> Any:
    for _ in range(int(seconds / 0.05)):
        status, body = await client.get(path)
        if status == 200 and cond(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path}: condition not met; last answer {status}: {str(body)[:400]}")


async def test_alert_chart_and_week_strip_come_from_the_homes_days(team_broker: TeamBroker, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    today = (now.astimezone(TZ) - timedelta(hours=4)).date()
    so_far = tuple([0] * 6 + [3, 8, 4] + [0] * 15)  # up at 6, busy at 7, a little at 8: three hours with bars
    core = CoreDays({today: summary(today, hourly=so_far)})
    week = [today - timedelta(days=k) for k in range(8, 0, -1)]  # eight closed days: the strip keeps seven
    for i, d in enumerate(week):
        core.by_date[d] = summary(d, hourly=tuple([1] * 24), trips=1 if i == 7 else 0,
                                  wake=None if i == 6 else dtime(7, 40))
    async with hub_on(team_broker, tmp_path, username="hearth-hub",
                      password_file=team_broker.password_file("hearth-hub", tmp_path)) as hub:
        db = connect(tmp_path / "hub.db")
        for name, role, rid in (("Sam", "worker", None), ("Jo", "circle", "jo"), ("Kim", "circle", "kim")):
            auth.add_user(db, name, role, f"{name}-password-1", time.time(), home="ann-home" if rid else None,
                          recipient=rid)
        db.close()
        alerting = Alerting(config(team_broker, team_broker.password_file("ann-home", tmp_path)),
                            tmp_path / "gw" / "hearth.sqlite", Clock())
        alerting.attach(core)
        alerting.uplink.heartbeat_s = 0.2
        tasks = [asyncio.create_task(make()) for make in alerting.tasks()]
        people = {n: Browserless(hub.url) for n in ("Sam", "Jo", "Kim")}
        try:
            for n, c in people.items():
                assert await c.sign_in(n, f"{n}-password-1") == 303
            alerting.submit(Alert(now, "p1", "not_up", Severity.URGENT, Audience.CARE,
                                  "Ann is usually up by 08:10 (9 days in 10); no movement since 22:40.",
                                  key=f"p1:not_up:{today}"))
            alerts = await poll(people["Sam"], "/api/alerts", lambda b: b["alerts"])
            aid = alerts["alerts"][0]["id"]
            page = await poll(people["Sam"], f"/alerts/{aid}", lambda b: "<svg" in b)
            assert bars(page) == 3 and "Today so far" in page and 'class="usual"' in page
            assert "as the home&#x27;s last heartbeat had it" in page and ">alert</text>" in page
            assert (await people["Sam"].get(f"/api/alerts/{aid}"))[1]["day"]["day"]["hourly"] == list(so_far)
            # Jo has the daily note: she sees the chart on the alert she was given; Kim has only alerts
            assert bars((await people["Jo"].get(f"/alerts/{aid}"))[1]) == 3
            kim_alert = (await people["Kim"].get(f"/alerts/{aid}"))[1]
            assert "Not up at the usual time" in kim_alert and "<svg" not in kim_alert

            for d in week:  # the daily notes, each through the consent gate to the hub and to Jo
                assert alerting.delivery.submit_digest(core.by_date[d]) >= 2
            last = f"<li><strong>{week[-1]:%a} {week[-1].day}</strong>"  # the newest note has arrived too
            jo = await poll(people["Jo"], "/", lambda b: b.count("<li><strong>") == 7 and last in b)
            strip = re.search(r'<ul class="week">(.*?)</ul>', jo).group(1)
            cells = re.findall(r"<li><strong>([^<]+)</strong>((?:<span>[^<]+</span>)+)</li>", strip)
            assert [c[0] for c in cells] == [f"{d:%a} {d.day}" for d in week[1:]]  # the last seven, oldest first
            words = [re.findall(r"<span>([^<]+)</span>", c[1]) for c in cells]
            assert words[0] == ["up 07:40", "kitchen 5 times", "out 10:05-11:30", "settled night"]
            assert words[5][0] == "up: not seen" and words[6][3] == "1 trip at night"
            kim = (await people["Kim"].get("/"))[1]
            assert 'class="week"' not in kim and "Ann" in kim  # no daily note given: no strip

            # the alert's own day, closed and sent as the daily note: the chart says it is the whole day
            core.by_date[today] = summary(today, hourly=so_far[:9] + (2,) * 15)
            assert alerting.delivery.submit_digest(core.by_date[today]) >= 2
            page = await poll(people["Sam"], f"/alerts/{aid}", lambda b: "from the daily note" in b)
            assert bars(page) == 18 and f"{today:%A}" in page
        finally:
            for c in people.values():
                await c.close()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await alerting.close()


def test_a_malformed_day_is_left_out_and_its_message_kept() -> None:
    from hub.schema import Uplinked, parse

    good = {"date": "2026-01-05", "hourly": [0] * 24, "usual_hourly": [0.0] * 24, "up": "07:40"}
    for bad in ({**good, "hourly": [0] * 23}, {**good, "up": "7:40am"}, {**good, "date": "yesterday"},
                {**good, "outings": [["10:05"]]}, {**good, "hourly": [True] * 24}, "a day"):
        body = (b'{"v": 2, "type": "message", "home": "ann", "sent_at": 1, "message_id": "digest/p1/2026-01-05/h/mqtt", '
                b'"category": "digest", "title": "t", "body": "b", "person": "p1", "kind": "digest", "alert_key": null, '
                b'"replaces": null, "attachments": [], "day": ' + __import__("json").dumps(bad).encode() + b"}")
        r = parse("hearth", "hearth/ann/alerts", body)
        assert isinstance(r, Uplinked) and r.data["day"] is None and r.dropped == ("a digest's day",), bad
    assert days.clean(good)["up"] == "07:40"
