"""The uplink end to end, with real parts: the gateway's alert side (delivery, outbox, consent gate, the
uplink) and the hub, through a real mosquitto secured with the hub's own password file and ACL; Jo of the
Circle on a loopback ntfy server. A worker presses "I'm on it" and "Resolved: all well" over HTTP: the
home stops escalating, the outcome reaches the routine core, and Jo gets the all-clear.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from alerts import uplink as gateway_side
from gateway.alerting import Alerting
from gateway.config import parse_config_text
from gateway.timebase import Clock
from hub import auth, store, topics
from hub.db import connect
from routines.alert import Alert, Audience, Severity
from tests.conftest import PATIENCE_S
from tests.hub_support import Browserless, TeamBroker, hub_on, until
from tests.ntfy_server import NtfyServer


@pytest.fixture
def team_broker(tmp_path: Path) -> Iterator[TeamBroker]:
    broker = TeamBroker(tmp_path / "team", ["ann-home", "bob-home"])
    broker.start()
    yield broker
    broker.stop()


def home_config(broker: TeamBroker, ntfy_url: str, password_file: Path):
    return parse_config_text(f"""
name: ann-home
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - id: team-hub
    name: Wellbeing team hub
    group: team
    mqtt: {{host: 127.0.0.1, port: {broker.port}, tls: false, username: ann-home, password_file: "{password_file}"}}
  - {{id: jo, name: Jo, group: circle, ntfy: {{server: "{ntfy_url}", topic: hearth-jo-77aa, allow_http: true}}}}
  - {{id: lee, name: Lee, group: team, ntfy: {{server: "{ntfy_url}", topic: hearth-lee-1b2c, allow_http: true}}}}
escalation: {{after_minutes: 10, urgent: [team-hub, lee]}}
consent:
  - {{person: p1, recipient: team-hub, receives: [urgent, concern, digest, technical]}}
  - {{person: p1, recipient: jo, receives: [urgent, digest]}}
  - {{person: p1, recipient: lee, receives: [urgent]}}
""", "home.yaml")


def test_the_two_sides_name_the_topics_alike() -> None:
    assert (gateway_side.VERSION, gateway_side.MESSAGES, gateway_side.EVENTS, gateway_side.STATUS,
            gateway_side.REPLIES) == (topics.VERSION, topics.MESSAGES, topics.EVENTS, topics.STATUS, topics.REPLIES)


def _client(broker: TeamBroker, user: str, got: list[tuple[str, bytes]] | None = None) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{time.monotonic_ns()}")
    c.username_pw_set(user, broker.passwords[user])
    if got is not None:
        c.on_message = lambda _c, _u, m: got.append((m.topic, m.payload))
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


async def _subscribe(c: mqtt.Client, topics: str | list[tuple[str, int]]) -> None:
    """Subscribe and wait for the broker's SUBACK: a message published before it would not reach ``c``."""
    acked: list[int] = []
    c.on_subscribe = lambda _c, _u, mid, _r, _p: acked.append(mid)
    _rc, mid = c.subscribe(topics, qos=1) if isinstance(topics, str) else c.subscribe(topics)
    await until(lambda: mid in acked)


async def test_a_gateway_may_publish_only_under_its_own_home_and_read_only_its_replies(
        team_broker: TeamBroker) -> None:
    seen_by_hub: list[tuple[str, bytes]] = []
    hub = _client(team_broker, "hearth-hub", seen_by_hub)
    await _subscribe(hub, "hearth/#")
    ann_got: list[tuple[str, bytes]] = []
    ann = _client(team_broker, "ann-home", ann_got)
    await _subscribe(ann, [("hearth/bob-home/ack", 1), ("hearth/ann-home/ack", 1)])
    ann.publish("hearth/bob-home/status", b"forged", qos=1).wait_for_publish(5)
    ann.publish("hearth/bob-home/ack", b"forged reply", qos=1).wait_for_publish(5)
    ann.publish("hearth/ann-home/status", b"own", qos=1).wait_for_publish(5)
    await until(lambda: ("hearth/ann-home/status", b"own") in seen_by_hub)
    # one publisher's messages arrive in order: the two before 'own' were dropped by the broker
    assert [t for t, _ in seen_by_hub] == ["hearth/ann-home/status"]

    hub.publish("hearth/bob-home/ack", b"for bob", qos=1).wait_for_publish(5)
    hub.publish("hearth/ann-home/ack", b"for ann", qos=1).wait_for_publish(5)
    await until(lambda: ann_got)
    assert ann_got == [("hearth/ann-home/ack", b"for ann")]
    for c in (hub, ann):
        c.disconnect()
        c.loop_stop()


async def test_worker_acknowledges_and_resolves_from_the_hub(team_broker: TeamBroker, tmp_path: Path) -> None:
    outcomes: list[tuple[str, str]] = []
    async with NtfyServer(keepalive_s=0.5) as ntfy, hub_on(team_broker, tmp_path, username="hearth-hub",
                                                           password_file=team_broker.password_file(
                                                               "hearth-hub", tmp_path)) as hub:
        db = connect(tmp_path / "hub.db")
        auth.add_user(db, "Sam", "worker", "sam-password-1", time.time())
        db.close()
        cfg = home_config(team_broker, ntfy.url, team_broker.password_file("ann-home", tmp_path))
        alerting = Alerting(cfg, tmp_path / "gw" / "hearth.sqlite", Clock(),
                            on_outcome=lambda k, o: outcomes.append((k, o)))
        alerting.uplink.heartbeat_s = 0.2
        tasks = [asyncio.create_task(make()) for make in alerting.tasks()]
        worker = Browserless(hub.url)
        try:
            await until(lambda: alerting.uplink.links and alerting.uplink.links[0][0].subscribed.is_set())
            key = "p1:not_up:2026-01-05"
            alerting.submit(Alert(datetime.now(UTC), "p1", "not_up", Severity.URGENT, Audience.CARE,
                                  "Ann is usually up by 08:10 (9 days in 10); no movement since 22:40.", key=key))
            assert await worker.sign_in("Sam", "sam-password-1") == 303
            open_alerts: list = []

            async def poll() -> bool:
                nonlocal open_alerts
                open_alerts = (await worker.get("/api/alerts"))[1]["alerts"]
                return bool(open_alerts)
            for _ in range(int(PATIENCE_S / 0.04)):
                if await poll():
                    break
                await asyncio.sleep(0.04)
            [a] = open_alerts
            assert (a["what"], a["person_name"], a["state"]) == ("Not up at the usual time", "Ann", "open")
            assert "not_up" not in json.dumps({k: v for k, v in a.items() if k != "alert_key"})
            await until(lambda: ntfy.displayed("hearth-jo-77aa"))  # Jo was told too

            assert (await worker.post(f"/api/alerts/{a['id']}/ack", {}))[0] == 202
            await until(lambda: alerting.delivery.policy.alerts[key].acknowledged_at is not None)
            state = alerting.delivery.policy.alerts[key]
            assert (state.acknowledged_by, state.next_step_mono) == ("Sam", None)  # escalation stopped
            assert alerting.delivery.policy.next_due_mono() is None  # Lee will not be woken
            for _ in range(int(PATIENCE_S / 0.04)):
                got = (await worker.get(f"/api/alerts/{a['id']}"))[1]
                if got["state"] == "acknowledged":
                    break
                await asyncio.sleep(0.04)
            assert (got["state"], got["acknowledged_by"]) == ("acknowledged", "Sam")
            assert [t["name"] for t in got["told"]] == ["Jo"]

            assert (await worker.post(f"/api/alerts/{a['id']}/resolve", {"outcome": "false_alarm"}))[0] == 202
            await until(lambda: outcomes)
            assert outcomes == [(key, "false_alarm")]  # fed to the routine core
            await until(lambda: any("all is well" in m.get("message", "") for m in ntfy.displayed("hearth-jo-77aa")))
            [jo_now] = ntfy.displayed("hearth-jo-77aa")  # the all-clear replaced the alert on Jo's phone
            assert jo_now["message"].startswith("Sam checked on Ann at ")
            for _ in range(int(PATIENCE_S / 0.04)):
                if not (await worker.get("/api/alerts"))[1]["alerts"]:
                    break
                await asyncio.sleep(0.04)
            assert (await worker.get("/api/alerts"))[1]["alerts"] == []
            # a second "Resolved" with the same token is refused by the home as a replay
            assert (await worker.post(f"/api/alerts/{a['id']}/resolve", {"outcome": "real"}))[0] == 202
            await until(lambda: alerting.verifier.refused.get("replayed"))
            assert outcomes == [(key, "false_alarm")]
        finally:
            await worker.close()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await alerting.close()


async def test_bad_uplink_input_is_dropped_and_counted(mosquitto, tmp_path: Path) -> None:
    async with hub_on(mosquitto, tmp_path) as hub:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bad-{time.monotonic_ns()}")
        c.connect(mosquitto.host, mosquitto.port)
        c.loop_start()
        good = {"v": 1, "type": "status", "home": "ann", "sent_at": 1, "people": [{"id": "p1", "name": "Ann"}]}
        for topic, payload in [("hearth/ann/status", json.dumps(good | {"home": "bob"}).encode()),
                               ("hearth/ann/status", b"{not json"), ("hearth/ann/status", b"[1, 2]"),
                               ("hearth/ann/status", json.dumps(good | {"v": 99}).encode()),
                               ("hearth/ann/events", json.dumps(good).encode()),
                               ("hearth/ann/alerts", json.dumps(good | {"type": "message"}).encode()),
                               ("hearth/ann/status", b"[" * 100_000),
                               ("hearth/ann/status", b"x" * 600_000),
                               ("hearth/ann/status", json.dumps(good).encode())]:
            c.publish(topic, payload, qos=1).wait_for_publish(5)
        await until(lambda: hub.intake.stats["status"] == 1)
        c.disconnect()
        c.loop_stop()
        db = connect(tmp_path / "hub.db")
        refused = dict(((r, n) for r, n in db.all("SELECT reason, n FROM refused")))
        assert refused == {"home_mismatch": 1, "not_json": 2, "not_object": 1, "version": 1, "wrong_type": 1,
                           "bad_field": 1, "oversized": 1}
        assert db.all("SELECT home FROM homes") == [("ann",)]
        db.close()
        assert store  # the store module is what wrote these rows


def test_the_hub_imports_nothing_of_the_gateway_sensors_or_routines() -> None:
    import subprocess
    import sys

    code = ("import sys, hub.service, hub.handlers, hub.broker, hub.config; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'gateway', 'sensors', 'routines', 'alerts'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"
