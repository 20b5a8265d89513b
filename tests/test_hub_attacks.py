"""Attacks on the running hub that once worked, each against the real server (aiohttp on loopback, the
real intake on a real mosquitto): guesses sent all at once, a lock-out of the whole team behind the
proxy, another team's audit log, a gateway's garbled times breaking a page; and what ends a session
(a password changed on the page or reset by an administrator, an account removed).

The hub is seeded as in ``test_hub_web`` (Ann and Bob; sam a worker of every home, lee of Bob's only).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time

import aiohttp
import paho.mqtt.client as mqtt

from tests.conftest import PATIENCE_S
from tests.hub_support import Browserless, until
from tests.test_hub_web import PASSWORDS, hub, signed_in  # noqa: F401 - the fixture

GUESSES = 20


async def sign_in(http: aiohttp.ClientSession, url: str, name: str, password: str,
                  forwarded_for: str | None = None) -> int:
    """One sign-in as a browser makes it (the login page's token, then the form), optionally through
    the TLS proxy on the hub's machine (which appends the client's address to X-Forwarded-For)."""
    async with http.get(f"{url}/login") as r:
        token = re.search(r'name="login_token" value="([^"]+)"', await r.text()).group(1)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    async with http.post(f"{url}/login", data={"name": name, "password": password, "login_token": token},
                         headers=headers, allow_redirects=False) as r:
        return r.status


async def test_guesses_sent_all_at_once_are_limited_like_guesses_in_turn(hub) -> None:  # noqa: F811
    url = hub.url.rstrip("/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        statuses = await asyncio.gather(*(sign_in(http, url, "sam", f"guess-number-{i}") for i in range(GUESSES)))
        # counted when they start, not when Argon2 is done: only the first five are checked at all
        assert sorted(statuses) == [401] * 5 + [429] * (GUESSES - 5)
        assert await sign_in(http, url, "sam", PASSWORDS["sam"]) == 429


async def test_wrong_passwords_from_one_address_behind_the_proxy_lock_out_only_that_address(hub) -> None:  # noqa: F811
    url = hub.url.rstrip("/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for i in range(5):  # someone on the internet, through the proxy, trying names
            assert await sign_in(http, url, f"nobody-{i}", "wrong-password", forwarded_for="203.0.113.5") == 401
        assert await sign_in(http, url, "somebody", "wrong-password", forwarded_for="203.0.113.5") == 429
        # the team's own phones come through the same proxy, from their own addresses
        assert await sign_in(http, url, "sam", PASSWORDS["sam"], forwarded_for="198.51.100.7") == 303
        # a proxy appends the address it saw: what the client wrote before it is not believed
        assert await sign_in(http, url, "lee", "wrong-password", forwarded_for="198.51.100.7, 203.0.113.5") == 429


async def test_a_worker_of_one_team_reads_no_audit_of_another_teams_homes(hub) -> None:  # noqa: F811
    sam = await signed_in(hub, "sam")
    [ann] = [a for a in (await sam.get("/api/alerts"))[1]["alerts"] if a["what"] == "Not up at the usual time"]
    assert (await sam.get(f"/alerts/{ann['id']}"))[0] == 200
    status, page = 0, ""
    for _ in range(int(PATIENCE_S / 0.05)):  # audit entries are written on the writer thread, soon after
        status, page = await sam.get("/audit")
        if "viewed an alert" in page:
            break
        await asyncio.sleep(0.05)
    assert status == 200 and ann["alert_key"] in page  # the team of every home reads it
    lee = await signed_in(hub, "lee")
    status, page = await lee.get("/audit")
    assert status == 200 and "signed in" in page  # entries about no home are the team's
    assert "ann-home" not in page and ann["alert_key"] not in page
    await sam.close()
    await lee.close()


def publish(port: int, home: str, kind: str, body: dict) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hostile-{home}-{kind}")
    c.connect("127.0.0.1", port)
    c.loop_start()
    data = {"v": 1, "home": home, "sent_at": int(time.time())} | body
    c.publish(f"hearth/{home}/{kind}", json.dumps(data), qos=1).wait_for_publish(PATIENCE_S)
    c.disconnect()
    c.loop_stop()


async def test_a_gateways_garbled_times_and_markup_are_shown_as_such(hub, mosquitto) -> None:  # noqa: F811
    script = "<script>alert(1)</script>"
    publish(mosquitto.port, "odd-home", "status", {
        "type": "status", "timezone": 5, "people": [{"id": "p1", "name": script, "shared": ["urgent"]}],
        "circle": [], "open_alerts": []})
    publish(mosquitto.port, "odd-home", "alerts", {
        "type": "message", "message_id": "m1", "category": "urgent", "title": script, "body": script,
        "person": "p1", "kind": "not_up", "alert_key": "p1:not_up:1", "replaces": None, "attachments": []})
    publish(mosquitto.port, "odd-home", "events", {
        "type": "acknowledged", "alert_key": "p1:not_up:1", "person": "p1", "category": "urgent",
        "acknowledged_by": script, "acknowledged_at": "half past never",
        "told": [{"name": script, "channel": "ntfy", "at": 1e300}, "not an entry"]})
    await until(lambda: hub.intake.stats["acknowledged"] >= 1)
    sam = await signed_in(hub, "sam")
    [odd] = [a for a in (await sam.get("/api/alerts"))[1]["alerts"] if a["home"] == "odd-home"]
    status, page = await sam.get(f"/alerts/{odd['id']}")
    assert status == 200, page[:200]
    assert page.count("an unreadable time") == 2  # since when it was taken on, and when the ntfy was sent
    assert "<script>" not in page and "&lt;script&gt;" in page
    for path in ("/", "/handover", "/people/odd-home/p1"):
        assert (await sam.get(path))[0] == 200, path
    await sam.close()


async def test_no_note_about_a_home_the_hub_does_not_hear_from(hub) -> None:  # noqa: F811
    sam = await signed_in(hub, "sam")
    assert (await sam.post("/people/no-such-home/p1/notes", {"text": "x"}))[0] == 404
    status, _ = await sam.post("/people/ann-home/p1/notes", {"text": "Visited."})
    assert status == 303
    await sam.close()


async def change_password(c: Browserless, current: str, new: str, again: str | None = None) -> int:
    async with c.http.post(f"{c.url}/password", data={"csrf": c.csrf, "current": current, "new": new,
                                                      "again": new if again is None else again},
                           allow_redirects=False) as r:
        return r.status


async def test_a_password_change_ends_every_other_session(hub) -> None:  # noqa: F811
    phone, laptop = await signed_in(hub, "sam"), await signed_in(hub, "sam")
    new = "a-new-password-for-sam"
    assert await change_password(phone, "not-it-at-all", new) == 401  # an open session is not enough
    assert await change_password(phone, PASSWORDS["sam"], new, "something-else-1") == 400
    assert await change_password(phone, PASSWORDS["sam"], "short", "short") == 400
    assert (await laptop.get("/api/me"))[0] == 200  # nothing changed yet
    old_csrf = phone.csrf
    assert await change_password(phone, PASSWORDS["sam"], new) == 303
    assert (await laptop.get("/api/me"))[0] == 401  # the other session (a lost phone, a stolen cookie) ended
    status, me = await phone.get("/api/me")
    assert status == 200 and me["csrf"] != old_csrf  # this browser goes on, in a new session
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert await sign_in(http, phone.url, "sam", PASSWORDS["sam"]) == 401
        assert await sign_in(http, phone.url, "sam", new) == 303
    await phone.close()
    await laptop.close()


def hearth(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "hub", "user", *args], input=stdin,
                          capture_output=True, text=True, timeout=PATIENCE_S, check=False)


async def test_a_reset_or_removed_account_is_signed_out_at_once(hub, tmp_path) -> None:  # noqa: F811
    jo = await signed_in(hub, "jo")
    db = str(tmp_path / "hub.db")
    out = await asyncio.to_thread(hearth, "password", "--db", db, "jo")
    assert out.returncode == 0, out.stderr
    one_time = out.stdout.rsplit("one-time password: ", 1)[1].strip()
    assert (await jo.get("/api/me"))[0] == 401
    assert await jo.sign_in("jo", PASSWORDS["jo"]) == 401
    assert await jo.sign_in("jo", one_time) == 303
    out = await asyncio.to_thread(hearth, "remove", "--db", db, "jo")
    assert out.returncode == 0, out.stderr
    assert (await jo.get("/api/me"))[0] == 401
    assert await jo.sign_in("jo", one_time) == 401
    assert (await asyncio.to_thread(hearth, "remove", "--db", db, "jo")).returncode == 1  # said, not silent
    await jo.close()


def test_an_account_name_the_homes_would_refuse_is_not_made(tmp_path) -> None:
    # a worker's name goes to the home with each action, which drops an action whose name is not
    # 1-80 printable characters: such an account could sign in but never be heard
    for name in ("", "x" * 81, "sam\nroot", " sam"):
        out = hearth("add", "--db", str(tmp_path / "hub.db"), name, "--role", "worker")
        assert out.returncode == 1 and "printable" in out.stderr, name
    assert hearth("add", "--db", str(tmp_path / "hub.db"), "Sam Okafor", "--role", "worker").returncode == 0


async def test_pages_answer_while_a_flood_of_sign_ins_is_checked(hub) -> None:  # noqa: F811
    # Argon2 takes ~0.1 s a guess: on the pages' reader thread, 25 guesses from 25 addresses (each within
    # its limit) held every page until all were checked. Measured: 4620 ms for /api/alerts, then 2 ms.
    sam = await signed_in(hub, "sam")
    url = hub.url.rstrip("/")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        flood = [asyncio.create_task(sign_in(http, url, f"nobody-{i}", "wrong-password",
                                             forwarded_for=f"203.0.113.{i}")) for i in range(25)]
        await until(lambda: len(hub.hub.limiter._failures) >= 50)  # all 25 taken (name and address each)
        status, _ = await sam.get("/api/alerts")
        checked = sum(f.done() for f in flood)
        assert sorted(await asyncio.gather(*flood)) == [401] * 25
    assert status == 200 and checked < 25  # answered before the guesses queued ahead of it were all checked
    await sam.close()


async def test_a_form_of_bytes_that_are_not_utf8_is_refused_in_words(hub) -> None:  # noqa: F811
    url, form = hub.url.rstrip("/"), {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as http, http.post(url + "/login", data=b"\xff\xfe", headers=form,
                                                          allow_redirects=False) as r:
        assert (r.status, "out of date" in await r.text()) == (403, True)  # was a 500
    sam = await signed_in(hub, "sam")
    async with sam.http.post(url + "/people/ann-home/p1/notes", data=b"csrf=" + sam.csrf.encode() + b"\xff",
                             headers=form, allow_redirects=False) as r:
        assert r.status == 403
    await sam.close()


async def test_session_cookies_are_secure_when_the_proxy_says_https(hub) -> None:  # noqa: F811
    url = hub.url.rstrip("/")
    for proto, secure in (("https", True), ("http", False)):
        # the browser speaks https to the proxy, which speaks http to the hub: the cookie is handed back by hand
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async with http.get(f"{url}/login", headers={"X-Forwarded-Proto": proto}) as r:
                token = re.search(r'name="login_token" value="([^"]+)"', await r.text()).group(1)
                login_cookie = r.headers["Set-Cookie"]
            async with http.post(f"{url}/login", data={"name": "sam", "password": PASSWORDS["sam"], "login_token": token},
                                 headers={"X-Forwarded-Proto": proto, "Cookie": login_cookie.split(";")[0]},
                                 allow_redirects=False) as r:
                assert r.status == 303
                [session] = [c for c in r.headers.getall("Set-Cookie") if c.startswith("hearth_hub=")]
        for cookie in (login_cookie, session):
            assert ("; Secure" in cookie) is secure and "HttpOnly" in cookie and "SameSite=Strict" in cookie
