"""The hub on PostgreSQL (``database_url``): a real server from Debian's ``postgresql`` package, started
here with initdb/pg_ctl in a temp dir on a free port (as the ``postgres`` user when the tests run as
root, since PostgreSQL refuses to run as root). The same uplink, pages and rules as on SQLite."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from gateway.broker import free_port
from hub import auth, store, views
from hub.config import HubBroker, HubConfig
from hub.db import connect
from hub.service import running_hub
from tests.conftest import PATIENCE_S
from tests.hub_support import Browserless, until
from tests.test_hub_web import PASSWORDS, message, uplinked


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail("PostgreSQL is not installed: run `bash scripts/setup.sh --test` (it installs it with apt-get)")
    return found[-1]


class Postgres:
    def __init__(self, where: Path):
        self.port = free_port()
        self.where = where
        self.data = where / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        where.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(where, "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "hub", "--auth=trust", "-E", "UTF8")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(where / "log"), "-w", "-o",
                  f"-p {self.port} -k {where} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=60)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://hub@127.0.0.1:{self.port}/{db}"

    def fresh(self, name: str) -> str:
        admin = connect(self.url(), reader=True)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        return self.url(name)

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    # not under pytest's tmp dir: that is private to root, and the server runs as postgres when we are root
    where = Path(tempfile.mkdtemp(prefix="hearth-hub-pg-"))
    pg = Postgres(where)
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(where, ignore_errors=True)


def seed(url: str) -> None:
    db = connect(url)
    store.create(db)
    ann = {"type": "status", "timezone": "Europe/London", "interval_s": 60,
           "people": [{"id": "p1", "name": "Ann", "shared": ["urgent", "concern", "digest"]}],
           "circle": [{"id": "jo", "name": "Jo", "person": "p1", "receives": ["urgent", "digest"]}], "open_alerts": []}
    store.apply(db, [uplinked("ann-home", "status", ann),
                     message("ann-home", "p1", "not_up", "urgent", "Ann is usually up by 08:10."),
                     message("ann-home", "p1", "no_meal", "concern", "No kitchen use since 07:10.")], now=time.time())
    store.apply(db, [message("ann-home", "p1", "not_up", "urgent", "Ann is usually up by 08:10; still not.")],
                now=time.time())  # a repeat updates the one alert
    now = time.time()
    auth.add_user(db, "sam", "worker", PASSWORDS["sam"], now)
    auth.add_user(db, "jo", "circle", PASSWORDS["jo"], now, home="ann-home", recipient="jo")
    db.close()


def test_the_store_and_the_rules_on_postgresql(postgres: Postgres) -> None:
    url = postgres.fresh("rules")
    seed(url)
    db = connect(url)
    sam = auth.check_login(db, "sam", PASSWORDS["sam"])
    jo = auth.check_login(db, "jo", PASSWORDS["jo"])
    assert sam is not None and jo is not None and auth.check_login(db, "sam", "wrong") is None
    every = views.alerts(db, sam)
    assert sorted((a["what"], a["explanation"]) for a in every) == [
        ("No kitchen activity when there usually is", "No kitchen use since 07:10."),
        ("Not up at the usual time", "Ann is usually up by 08:10; still not.")]
    assert [a["category"] for a in views.alerts(db, jo)] == ["urgent"]
    store.apply(db, [uplinked("ann-home", "events", {"type": "resolved", "alert_key": "p1:not_up:2026-01-05",
                                                     "person": "p1", "category": "urgent", "resolved_by": "Sam",
                                                     "outcome": "false_alarm", "told": [{"name": "Jo"}]})],
                now=time.time())
    assert [a["what"] for a in views.alerts(db, sam)] == ["No kitchen activity when there usually is"]
    store.count_refusal(db, "home_mismatch", "ann-home", "x", time.time())
    store.count_refusal(db, "home_mismatch", "ann-home", "y", time.time())
    db.commit()
    assert db.all("SELECT reason, n FROM refused") == [("home_mismatch", 2)]
    db.close()


async def test_the_hub_runs_on_postgresql(postgres: Postgres, mosquitto, tmp_path: Path) -> None:
    url = postgres.fresh("running")
    seed(url)
    cfg = HubConfig(database_url=url, port=0, broker=HubBroker(host=mosquitto.host, port=mosquitto.port,
                                                               client_id="hub-pg-test"))
    async with running_hub(cfg) as hub:
        await until(lambda: hub.intake.subscribed.is_set())
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="pg-publisher")
        c.connect(mosquitto.host, mosquitto.port)
        c.loop_start()
        bob = {"v": 1, "type": "status", "home": "bob-home", "sent_at": int(time.time()),
               "people": [{"id": "p1", "name": "Bob", "shared": ["urgent"]}]}
        c.publish("hearth/bob-home/status", json.dumps(bob | {"home": "ann-home"}), qos=1).wait_for_publish(5)
        c.publish("hearth/bob-home/status", json.dumps(bob), qos=1).wait_for_publish(5)
        await until(lambda: hub.intake.stats["status"] == 1)
        c.disconnect()
        c.loop_stop()
        sam = Browserless(hub.url)
        try:
            assert await sam.sign_in("sam", PASSWORDS["sam"]) == 303
            people = (await sam.get("/api/board"))[1]["people"]
            assert sorted(p["name"] for p in people) == ["Ann", "Bob"]
            [a] = [a for a in (await sam.get("/api/alerts"))[1]["alerts"] if a["category"] == "urgent"]
            assert (await sam.post(f"/api/alerts/{a['id']}/ack", {}, csrf="forged"))[0] == 403
            assert (await sam.post(f"/api/alerts/{a['id']}/ack", {}))[0] == 202
            assert (await sam.get(f"/api/alerts/{a['id']}"))[1]["requested"] == "I am on it sent by sam"
        finally:
            await sam.close()
    db = connect(url)
    assert db.all("SELECT reason, home, n FROM refused") == [("home_mismatch", "bob-home", 1)]
    db.close()


def _hub_process(url: str, broker: Any, client_id: str, log: Path) -> tuple[subprocess.Popen[str], str]:
    """``hearth hub run`` as its own OS process, one of a share group; returns it and its pages' address."""
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "hub", "run", "--database-url", url, "--port", "0",
                             "--broker", f"{broker.host}:{broker.port}", "--client-id", client_id,
                             "--share-group", "hearth-hub"], stdout=subprocess.PIPE, stderr=log.open("w"),
                            text=True, cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Hearth hub: pages at http://127.0.0.1:PORT/ ; ..."
    match = re.search(r"pages at (\S+)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"the hub did not start: {line!r} {log.read_text()[-2000:]}")
    return proc, match.group(1)


async def test_two_hub_processes_split_the_uplink_and_store_each_message_once(postgres: Postgres, mosquitto,
                                                                               tmp_path: Path) -> None:
    url = postgres.fresh("shared")
    seed(url)  # the schema exists before both start
    db = connect(url)
    auth.add_user(db, "tess", "technician", "tess-password-1", time.time())
    db.close()
    procs = [_hub_process(url, mosquitto, f"hub-shared-{n}", tmp_path / f"hub{n}.log") for n in (1, 2)]
    techs = [Browserless(u) for _p, u in procs]
    try:
        for t in techs:
            assert await t.sign_in("tess", "tess-password-1") == 303

        async def links() -> list[dict[str, Any]]:
            return [(await t.get("/api/homes"))[1]["hub"]["link"] for t in techs]
        for _ in range(int(PATIENCE_S / 0.05)):  # both SUBACKs: a share group hands messages only to members subscribed
            if all(link["subscribed"] for link in await links()):
                break
            await asyncio.sleep(0.05)
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="shared-publisher")
        c.connect(mosquitto.host, mosquitto.port)
        c.loop_start()
        n = 200
        for i in range(n):
            note = {"v": 2, "type": "message", "home": "ann-home", "sent_at": int(time.time()), "person": "p1",
                    "kind": "digest", "message_id": f"digest/p1/shared-{i}/hub/mqtt", "category": "digest",
                    "title": f"note {i}", "body": "b", "alert_key": None, "replaces": None, "attachments": []}
            c.publish("hearth/ann-home/alerts", json.dumps(note), qos=1)
        c.publish("hearth/ann-home/alerts", b"{}", qos=1).wait_for_publish(5)
        c.disconnect()
        c.loop_stop()
        for _ in range(int(PATIENCE_S / 0.05)):
            taken = [link["taken"].get("message", 0) for link in await links()]
            if sum(taken) >= n:
                break
            await asyncio.sleep(0.05)
        assert sum(taken) == n and all(t > 0 for t in taken), taken  # split between the two, none twice
        db = connect(url)
        assert db.one("SELECT COUNT(*), COUNT(DISTINCT message_id) FROM notes WHERE message_id LIKE ?",
                      ("digest/p1/shared-%",)) == (n, n)
        db.close()
    finally:
        for t in techs:
            await t.close()
        for p, _u in procs:
            p.terminate()
            p.wait(PATIENCE_S)
