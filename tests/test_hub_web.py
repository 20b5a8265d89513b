"""The hub's handlers through the real aiohttp server: sign-in, sessions, CSRF, roles and consent.

The hub is fed by real uplink messages (parsed and stored as the intake does) for two homes: Ann, who
gave Jo of her Circle urgent alerts and digests (not concerns), and Bob.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub import auth, store
from hub.db import connect
from hub.schema import Uplinked, parse
from tests.conftest import PATIENCE_S
from tests.hub_support import Browserless, hub_on, until

PASSWORDS = {"sam": "sam-password-1", "jo": "jo-password-12", "tess": "tess-password-1", "lee": "lee-password-1"}


def uplinked(home: str, kind: str, body: dict) -> Uplinked:
    data = {"v": 1, "home": home, "sent_at": int(time.time())} | body
    r = parse("hearth", f"hearth/{home}/{kind}", json.dumps(data).encode())
    assert isinstance(r, Uplinked), r
    return r


def message(home: str, person: str, kind: str, category: str, body: str) -> Uplinked:
    return uplinked(home, "alerts", {"type": "message", "message_id": f"m-{home}-{kind}", "category": category,
                                     "title": "t", "body": body, "person": person, "kind": kind,
                                     "alert_key": f"{person}:{kind}:2026-01-05", "replaces": None,
                                     "attachments": [], "ack_token": "hearth-ack1.x"})


def seed(db_path: Path) -> None:
    db = connect(db_path)
    store.create(db)
    ann_status = {"type": "status", "timezone": "Europe/London", "interval_s": 60,
                  "people": [{"id": "p1", "name": "Ann", "shared": ["urgent", "concern", "digest", "technical"]}],
                  "circle": [{"id": "jo", "name": "Jo", "person": "p1", "receives": ["urgent", "digest"]}],
                  "open_alerts": [], "health": {"devices": [{"sensor": "bed", "available": False, "battery": 12}],
                                                "broker_connected": True, "clock": "clock trusted", "routines": {}}}
    bob_status = {"type": "status", "people": [{"id": "p1", "name": "Bob", "shared": ["urgent", "concern"]}],
                  "circle": [], "open_alerts": []}
    store.apply(db, [uplinked("ann-home", "status", ann_status), uplinked("bob-home", "status", bob_status),
                     message("ann-home", "p1", "not_up", "urgent", "Ann is usually up by 08:10; no movement since 22:40."),
                     message("ann-home", "p1", "no_meal", "concern", "No kitchen use since 07:10; usually by 12:30."),
                     message("bob-home", "p1", "night_door", "urgent", "The front door opened at 02:14.")],
                now=time.time())
    now = time.time()
    auth.add_user(db, "sam", "worker", PASSWORDS["sam"], now)
    auth.add_user(db, "jo", "circle", PASSWORDS["jo"], now, home="ann-home", recipient="jo")
    auth.add_user(db, "tess", "technician", PASSWORDS["tess"], now)
    auth.add_user(db, "lee", "worker", PASSWORDS["lee"], now, team=["bob-home"])
    db.close()


@pytest.fixture
async def hub(mosquitto, tmp_path: Path) -> AsyncIterator:
    seed(tmp_path / "hub.db")
    async with hub_on(mosquitto, tmp_path) as running:
        yield running


@pytest.fixture
async def client(hub) -> AsyncIterator[Browserless]:
    c = Browserless(hub.url)
    yield c
    await c.close()


async def signed_in(hub, name: str) -> Browserless:
    c = Browserless(hub.url)
    assert await c.sign_in(name, PASSWORDS[name]) == 303
    return c


async def test_without_a_session_pages_redirect_and_the_api_answers_401(client: Browserless) -> None:
    for path in ("/", "/alerts/1", "/people/ann-home/p1", "/handover", "/audit", "/charts/1.png"):
        status, _ = await client.get(path)
        assert status == 303, path
    for path in ("/api/alerts", "/api/board", "/api/homes", "/api/alerts/1"):
        assert (await client.get(path))[0] == 401, path
    assert (await client.post("/api/alerts/1/ack", {}, csrf="x"))[0] == 401


async def test_wrong_password_is_refused_and_sign_in_is_rate_limited(client: Browserless, tmp_path: Path) -> None:
    assert await client.sign_in("sam", "not-the-password") == 401
    assert await client.sign_in("nobody", "whatever-password") == 401
    for _ in range(4):
        await client.sign_in("sam", "not-the-password")
    assert await client.sign_in("sam", PASSWORDS["sam"]) == 429  # even the right one, for now

    def refused() -> set[str]:
        db = connect(tmp_path / "hub.db")
        try:
            return {a for (a,) in db.all("SELECT action FROM audit WHERE name='sam' AND action LIKE 'refused%'")}
        finally:
            db.close()
    # audit entries are queued on the writer thread, not awaited by the page: written soon after it answers
    await until(lambda: "refused: too many sign-in attempts" in refused())
    assert refused() == {"refused: wrong name or password", "refused: too many sign-in attempts"}


async def test_state_changes_need_this_sessions_csrf_token(hub) -> None:
    sam = await signed_in(hub, "sam")
    [a] = [a for a in (await sam.get("/api/alerts"))[1]["alerts"] if a["what"] == "Not up at the usual time"]
    assert (await sam.post(f"/api/alerts/{a['id']}/ack", {}, csrf=""))[0] == 403
    assert (await sam.post(f"/api/alerts/{a['id']}/ack", {}, csrf="forged-token"))[0] == 403
    jo = await signed_in(hub, "jo")  # another session's token is not this one's
    assert (await sam.post(f"/api/alerts/{a['id']}/ack", {}, csrf=jo.csrf))[0] == 403
    status, body = await sam.get(f"/api/alerts/{a['id']}")
    assert (status, body["requested"]) == (200, None)  # nothing was sent to the home
    assert (await sam.post(f"/api/alerts/{a['id']}/ack", {}))[0] == 202
    assert (await sam.get(f"/api/alerts/{a['id']}"))[1]["requested"] == "I am on it sent by sam"
    await sam.close()
    await jo.close()


async def test_a_circle_member_sees_only_what_the_person_gave_them(hub) -> None:
    jo = await signed_in(hub, "jo")
    alerts = (await jo.get("/api/alerts"))[1]["alerts"]
    assert [(a["person_name"], a["category"]) for a in alerts] == [("Ann", "urgent")]  # no concern, no Bob
    sam = await signed_in(hub, "sam")
    every = {(a["person_name"], a["category"]): a["id"] for a in (await sam.get("/api/alerts"))[1]["alerts"]}
    assert set(every) == {("Ann", "urgent"), ("Ann", "concern"), ("Bob", "urgent")}
    for key in (("Ann", "concern"), ("Bob", "urgent")):
        assert (await jo.get(f"/api/alerts/{every[key]}"))[0] == 404
        assert (await jo.get(f"/alerts/{every[key]}"))[0] == 404
    assert (await jo.get("/people/bob-home/p1"))[0] == 404  # another person's id in the URL
    assert (await jo.post(f"/api/alerts/{every[('Ann', 'urgent')]}/ack", {}))[0] == 403  # acting is for workers
    status, page = await jo.get("/")
    assert status == 200 and "Not up at the usual time" in page and "kitchen" not in page and "Bob" not in page
    await jo.close()
    await sam.close()


async def test_the_board_orders_people_by_what_needs_doing(hub, tmp_path: Path) -> None:
    sam = await signed_in(hub, "sam")
    people = (await sam.get("/api/board"))[1]["people"]
    assert sorted((p["name"], p["rank"]) for p in people) == [("Ann", "urgent"), ("Bob", "urgent")]
    hub.hub.clock = lambda: time.time() + 601  # ten minutes without a heartbeat from either home
    db = connect(tmp_path / "hub.db")
    db.execute("UPDATE alerts SET state='resolved' WHERE home='bob-home'")
    db.commit()
    db.close()
    people = (await sam.get("/api/board"))[1]["people"]
    assert [(p["name"], p["rank"], p["quiet"]) for p in people] == [("Ann", "urgent", True), ("Bob", "quiet", True)]
    page = (await sam.get("/"))[1]
    assert "Not heard from since" in page
    await sam.close()


async def test_a_technician_sees_health_not_alerts(hub) -> None:
    tess = await signed_in(hub, "tess")
    assert (await tess.get("/api/alerts"))[1]["alerts"] == []
    homes = {h["home"]: h for h in (await tess.get("/api/homes"))[1]["homes"]}
    assert (homes["ann-home"]["offline"], homes["ann-home"]["low_battery"]) == (["bed"], [{"sensor": "bed",
                                                                                           "battery": 12}])
    assert homes["bob-home"]["shares_health"] is False
    assert (await tess.get("/people/ann-home/p1"))[0] == 404
    await tess.close()


async def test_oversized_bodies_and_expired_sessions_are_refused(hub) -> None:
    sam = await signed_in(hub, "sam")
    status, _ = await sam.post("/api/alerts/1/resolve", {"outcome": "real", "pad": "x" * 40_000})
    assert status == 413
    hub.hub.clock = lambda: time.time() + auth.IDLE_S + 60
    assert (await sam.get("/api/alerts"))[0] == 401
    assert (await sam.get("/"))[0] == 303
    await sam.close()


async def test_views_and_actions_are_in_the_audit_log(hub) -> None:
    sam = await signed_in(hub, "sam")
    await sam.get("/")
    await sam.get("/people/ann-home/p1")
    await sam.post("/people/ann-home/p1/notes", {"text": "Ann's son visits on Tuesdays."})
    words = ("signed in", "viewed the board", "viewed a person", "wrote a note")
    # audit entries are queued on the writer thread, not awaited by the page: the log shows them soon after
    for _ in range(int(PATIENCE_S / 0.05)):
        status, page = await sam.get("/audit")
        if status != 200 or all(w in page for w in words):
            break
        await asyncio.sleep(0.05)
    assert status == 200
    for w in words:
        assert w in page
    handover = (await sam.get("/handover"))[1]
    assert "Ann's son visits on Tuesdays." in handover.replace("&#x27;", "'")
    await sam.close()


async def test_a_worker_of_one_team_sees_only_that_teams_homes(hub) -> None:
    lee = await signed_in(hub, "lee")
    assert [p["name"] for p in (await lee.get("/api/board"))[1]["people"]] == ["Bob"]
    assert {a["person_name"] for a in (await lee.get("/api/alerts"))[1]["alerts"]} == {"Bob"}
    assert (await lee.get("/people/ann-home/p1"))[0] == 404
    await lee.close()
