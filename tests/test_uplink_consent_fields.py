"""What the heartbeat carries up, per consent, read off the real team broker as the hub reads it: a
person who gave the team's hub urgent alerts alone has their day so far sent only while such an alert
is open (the chart on its page), never every minute of every day; no device health without
``technical``; a Circle member's share cut to what the hub itself was given."""

from __future__ import annotations

import asyncio
import json
import queue
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from gateway.alerting import Alerting
from gateway.config import parse_config_text
from gateway.timebase import Clock
from routines.alert import Alert, Audience, Severity
from tests.conftest import PATIENCE_S
from tests.hub_support import TeamBroker
from tests.test_hub_days import TZ, CoreDays, summary, team_broker  # noqa: F401 - the fixture


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
consent:
  - {{person: p1, recipient: team-hub, receives: [urgent]}}
  - {{person: p1, recipient: jo, receives: [urgent, digest]}}
""", "home.yaml")


class Heartbeats:
    """The hub's account on the team broker, reading the home's status topic."""

    def __init__(self, broker: TeamBroker):
        self.got: queue.Queue[dict] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-hub-reader")
        self.client.username_pw_set("hearth-hub", broker.passwords["hearth-hub"])
        self.client.on_connect = lambda c, *_: c.subscribe("hearth/ann-home/status", 1)
        self.client.on_message = lambda _c, _u, m: self.got.put(json.loads(m.payload))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    async def next(self, cond) -> dict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE_S
        while loop.time() < deadline:
            try:
                beat = await asyncio.to_thread(self.got.get, True, 0.5)
            except queue.Empty:
                continue
            if cond(beat):
                return beat
        raise AssertionError("no such heartbeat in time")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def test_urgent_alone_sends_the_day_only_while_an_alert_is_open(team_broker: TeamBroker,  # noqa: F811
                                                                      tmp_path: Path) -> None:
    now = datetime.now(UTC)
    today = (now.astimezone(TZ) - timedelta(hours=4)).date()
    core = CoreDays({today: summary(today, hourly=tuple([0] * 6 + [3, 8, 4] + [0] * 15))})
    alerting = Alerting(config(team_broker, team_broker.password_file("ann-home", tmp_path)),
                        tmp_path / "gw" / "hearth.sqlite", Clock())
    alerting.attach(core)
    alerting.uplink.heartbeat_s = 0.2
    hub = Heartbeats(team_broker)
    tasks = [asyncio.create_task(make()) for make in alerting.tasks()]
    try:
        quiet = await hub.next(lambda b: True)
        [ann] = quiet["people"]
        assert (ann["id"], ann["shared"]) == ("p1", ["urgent"])
        assert "today" not in ann and "health" not in quiet
        assert quiet["circle"] == [{"id": "jo", "name": "Jo", "person": "p1", "receives": ["urgent"]}]
        alerting.submit(Alert(now, "p1", "not_up", Severity.URGENT, Audience.CARE,
                              "Ann is usually up by 08:10 (9 days in 10); no movement since 22:40.",
                              key=f"p1:not_up:{today}"))
        alerted = await hub.next(lambda b: b["open_alerts"])
        assert alerted["people"][0]["today"]["hourly"][6:9] == [3, 8, 4]
        alerting.delivery.resolve(f"p1:not_up:{today}", "Sam", datetime.now(UTC), "false_alarm")
        after = await hub.next(lambda b: not any(a["open"] for a in b["open_alerts"]))
        assert "today" not in after["people"][0]
    finally:
        hub.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await alerting.close()


async def test_technical_health_carries_no_usual_times_and_no_out_now(mosquitto, tmp_path: Path) -> None:
    """What ``technical`` sends up of the routine core and the devices, from a real running gateway: which
    checks learn or are blind, never when the person usually wakes or goes to bed, nor that the home is
    empty now, nor when each sensor was last set off."""
    from gateway.uplink import TECHNICAL_ROUTINE_FIELDS, UplinkView
    from tests.test_console_password import gateway
    from tests.test_gateway_alerting import bed
    from tests.test_service import Publisher, wait_for

    async with gateway(mosquitto, tmp_path, "{port: 0}") as gw:
        Publisher(mosquitto.port, "test-z2m-uplink-fields").pub("zigbee2mqtt/bedroom/bed_strap", bed(True))
        await wait_for(lambda: gw.stats.events >= 1)
        await gw.flushed(PATIENCE_S)
        at_home = gw.engine.status()
        assert {"usual", "away", "phase"} <= set(at_home["p1"])  # the console at home shows them
        health = await UplinkView(gw).status()
        up = health["routines"]
    assert health["devices"] and not [d for d in health["devices"] if "last_seen" in d]
    assert set(up) == set(at_home)
    assert set(up["p1"]) <= TECHNICAL_ROUTINE_FIELDS and {"learning", "blind", "checks"} <= set(up["p1"])
    assert "usual" not in up["p1"] and "away" not in up["p1"] and "wake_by" not in json.dumps(up)
