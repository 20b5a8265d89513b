"""The uplink over TLS, with real parts: a real mosquitto whose only listener speaks TLS (a throwaway CA
from ``make_pki``, the hub's password file and ACL), a gateway's alert side and the hub between them.
Alerts arrive and a worker's action comes back over TLS; a wrong CA is refused, and both the hub's
technician page and the gateway's status say why in words. The hub's own broker link and the uplink
messages it dropped are on the technician page too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from gateway.alerting import Alerting
from gateway.config import parse_config_text
from gateway.timebase import Clock
from hub import auth
from hub.config import HubBroker, HubConfig
from hub.db import connect
from hub.service import RunningHub, running_hub
from routines.alert import Alert, Audience, Severity
from tests.conftest import PATIENCE_S, Pki, make_pki
from tests.hub_support import Browserless, TeamBroker, hub_on, until

NAME = "localhost"  # the name in the broker's certificate, and the name both sides connect by


@pytest.fixture
def tls_team(tmp_path: Path) -> Iterator[tuple[TeamBroker, Pki]]:
    broker = TeamBroker(tmp_path / "team", ["ann-home"])
    pki = make_pki(tmp_path / "team" / "pki", [NAME])
    # appended, these options belong to the only listener: it speaks TLS and nothing else
    broker.conf.write_text(broker.conf.read_text() + f"cafile {pki.ca_file}\ncertfile {pki.cert_file}\n"
                                                     f"keyfile {pki.key_file}\n")
    broker.start()
    yield broker, pki
    broker.stop()


def gateway(broker: TeamBroker, ca_file: Path, tmp_path: Path) -> Alerting:
    pw = broker.password_file("ann-home", tmp_path)
    cfg = parse_config_text(f"""
name: ann-home
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - id: team-hub
    name: Wellbeing team hub
    group: team
    mqtt: {{host: {NAME}, port: {broker.port}, tls: true, ca_file: "{ca_file}", username: ann-home,
            password_file: "{pw}"}}
consent:
  - {{person: p1, recipient: team-hub, receives: [urgent, concern, digest, technical]}}
""", "home.yaml")
    alerting = Alerting(cfg, tmp_path / "gw" / "hearth.sqlite", Clock())
    alerting.uplink.heartbeat_s = 0.2
    return alerting


@asynccontextmanager
async def hub_unconnected(broker: TeamBroker, tmp_path: Path, ca_file: Path) -> AsyncIterator[RunningHub]:
    cfg = HubConfig(database=tmp_path / "hub.db", port=0, broker=HubBroker(
        host=NAME, port=broker.port, tls=True, ca_file=ca_file, username="hearth-hub",
        password_file=broker.password_file("hearth-hub", tmp_path), client_id="hub-tls-test"))
    async with running_hub(cfg) as running:
        yield running


def accounts(db_path: Path) -> None:
    db = connect(db_path)
    auth.add_user(db, "Sam", "worker", "sam-password-1", time.time())
    auth.add_user(db, "Tess", "technician", "tess-password-1", time.time())
    db.close()


async def test_alerts_arrive_and_actions_come_back_over_tls(tls_team: tuple[TeamBroker, Pki], tmp_path: Path) -> None:
    broker, pki = tls_team
    async with hub_on(broker, tmp_path, host=NAME, tls=True, ca_file=pki.ca_file, username="hearth-hub",
                      password_file=broker.password_file("hearth-hub", tmp_path)) as hub:
        accounts(tmp_path / "hub.db")
        alerting = gateway(broker, pki.ca_file, tmp_path)
        tasks = [asyncio.create_task(make()) for make in alerting.tasks()]
        sam, tess = Browserless(hub.url), Browserless(hub.url)
        try:
            await until(lambda: alerting.uplink.links and alerting.uplink.links[0][0].subscribed.is_set())
            assert alerting.uplink.problems() == []
            key = "p1:not_up:2026-01-05"
            alerting.submit(Alert(datetime.now(UTC), "p1", "not_up", Severity.URGENT, Audience.CARE,
                                  "Ann is usually up by 08:10 (9 days in 10); no movement since 22:40.", key=key))
            assert await sam.sign_in("Sam", "sam-password-1") == 303
            for _ in range(int(PATIENCE_S / 0.05)):
                alerts = (await sam.get("/api/alerts"))[1]["alerts"]
                if alerts:
                    break
                await asyncio.sleep(0.05)
            [a] = alerts
            assert (await sam.post(f"/api/alerts/{a['id']}/ack", {}))[0] == 202
            await until(lambda: alerting.delivery.policy.alerts[key].acknowledged_by == "Sam")
            assert await tess.sign_in("Tess", "tess-password-1") == 303
            page = (await tess.get("/"))[1]
            assert f"connected to {NAME}:{broker.port}" in page and "ann-home" in page
        finally:
            for c in (sam, tess):
                await c.close()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await alerting.close()


async def test_a_wrong_ca_is_refused_and_said_in_words(tls_team: tuple[TeamBroker, Pki], tmp_path: Path) -> None:
    broker, _pki = tls_team
    other = make_pki(tmp_path / "other-ca", [NAME])  # a CA that did not sign the broker's certificate
    async with hub_unconnected(broker, tmp_path, other.ca_file) as hub:
        accounts(tmp_path / "hub.db")
        alerting = gateway(broker, other.ca_file, tmp_path)
        tasks = [asyncio.create_task(make()) for make in alerting.tasks()]
        tess = Browserless(hub.url)
        try:
            await until(lambda: hub.intake.failed_attempts >= 1 and alerting.uplink.links
                        and alerting.uplink.links[0][0].failed_attempts >= 1)
            assert not hub.intake.connected.is_set()
            assert await tess.sign_in("Tess", "tess-password-1") == 303
            page = (await tess.get("/"))[1]
            assert (f"cannot connect to broker {NAME}:{broker.port}: TLS handshake failed: its certificate is not "
                    "signed by the CA in broker.ca_file (wrong CA file?)") in page
            assert (await tess.get("/api/homes"))[1]["hub"]["link"]["connected"] is False
            [problem] = alerting.uplink.problems()
            assert problem.startswith(f"team hub broker {NAME}:{broker.port} (team-hub): TLS handshake failed: "
                                      "its certificate is not signed by the CA in recipient team-hub's mqtt.ca_file")
        finally:
            await tess.close()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await alerting.close()


async def test_the_hubs_own_link_and_what_it_dropped_are_on_the_technicians_page(own_mosquitto,
                                                                                 tmp_path: Path) -> None:
    async with hub_on(own_mosquitto, tmp_path) as hub:
        accounts(tmp_path / "hub.db")
        tess = Browserless(hub.url)
        try:
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"junk-{time.monotonic_ns()}")
            c.connect(own_mosquitto.host, own_mosquitto.port)
            c.loop_start()
            for payload in (b"{not json", b"{not json either", b"[1]"):
                c.publish("hearth/ann/status", payload, qos=1).wait_for_publish(5)
            c.disconnect()
            c.loop_stop()
            await until(lambda: sum(hub.intake.report()["dropped"].values()) == 3)
            assert await tess.sign_in("Tess", "tess-password-1") == 303
            page = (await tess.get("/"))[1]
            assert "2 not JSON" in page and "1 not a JSON object" in page
            own_mosquitto.stop()  # the broker goes away: the page says so, and the hub keeps serving
            await until(lambda: "cannot connect" in (hub.intake.problem or ""))
            page = (await tess.get("/"))[1]
            assert (f"cannot connect to broker {own_mosquitto.host}:{own_mosquitto.port}: connection refused "
                    "(is the broker running, on that port?)") in page
            own_mosquitto.start()
            await until(lambda: hub.intake.connected.is_set())
            assert f"connected to {own_mosquitto.host}:{own_mosquitto.port}" in (await tess.get("/"))[1]
        finally:
            await tess.close()
