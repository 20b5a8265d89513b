"""The console obeys no other web page: Host, Origin, JSON, CSRF token, numbers and headers, through a
real gateway's real aiohttp server on loopback, and a real headless Chromium as victim and attacker (Debian's,
driven by Playwright: the ``chromium`` fixture in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import expect
from yarl import URL

from gateway.config import parse_config_text
from gateway.console_security import SECURITY_HEADERS, TOKEN_HEADER
from gateway.service import Gateway
from routines.alert import Alert, Audience, Severity
from tests.conftest import PATIENCE_S
from tests.test_gateway_alerting import SECRET, home
from tests.test_service import wait_for

KEY = "p1:silence:t1"


@asynccontextmanager
async def gateway(mosquitto: Any, tmp_path: Path, name: str, inbox: Any = None) -> AsyncIterator[Gateway]:
    """A running gateway with recipients (so pauses exist), an open urgent alert and Ann's own pause."""
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    cfg = parse_config_text(home(mosquitto.port, name, "http://127.0.0.1:9/hook", secret_file), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    if inbox is not None:
        gw.demo_inbox = inbox  # as `hearth run` does for the demo
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    try:
        await asyncio.wait_for(gw.ready.wait(), 60)
        await wait_for(lambda: bool(gw.console_url))
        gw.raise_alerts([Alert(gw.clock.now(), "p1", "silence", Severity.URGENT, Audience.CARE,
                               "No movement from Ann for 4 h 10 min.", key=KEY)])
        await gw.flushed(PATIENCE_S)
        gw.alerting.delivery.pauses.start("p1", gw.clock.now() + timedelta(hours=1), by="Ann (button)",
                                          now=gw.clock.now())
        yield gw
    finally:
        stop.set()
        await task


async def state(gw: Gateway) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """What an attacker wants to change: the running pauses (who set them, until when) and the outcomes."""
    pauses = [(p.by, p.end.isoformat()) for p in gw.alerting.delivery.pauses.active(gw.clock.now())]
    return pauses, await gw.in_db(gw.store.outcomes)


async def token(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(base + "api/csrf") as r:
        assert r.status == 200
        return (await r.json())["token"]


async def console_post(http: aiohttp.ClientSession, base: str, path: str, body: Any) -> tuple[int, Any]:
    """A same-origin tool's state change: the token from ``/api/csrf``, then JSON with the token."""
    headers = {TOKEN_HEADER: await token(http, base)}
    async with http.post(base + path, json=body, headers=headers) as r:
        return r.status, await r.json()


ATTACKS = [  # what a page elsewhere can make a browser send, and one that even knows the token
    ("api/pause", b'{"person": "p1", "hours": 720}', "text/plain"),
    ("api/pause", b'{"person": "p1", "end": true}', "text/plain;charset=UTF-8"),
    ("api/alerts/outcome", json.dumps({"key": KEY, "outcome": "false_alarm", "by": "x"}).encode(), "text/plain"),
    ("api/pause", b'{"person":"p1","hours":720,"x":"="}', "text/plain"),  # a form with enctype=text/plain
    ("api/pause", b"person=p1&hours=720", "application/x-www-form-urlencoded"),
    ("api/pause", b'{"person": "p1", "end": true}', "application/json"),  # needs CORS, which is never given
]


async def test_a_cross_origin_post_changes_nothing(mosquitto, tmp_path: Path) -> None:
    async with gateway(mosquitto, tmp_path, "gw-sec-origin") as gw, aiohttp.ClientSession() as http:
        before = await state(gw)
        right = await token(http, gw.console_url)
        answers = []
        for origin in ("http://evil.example", "null", "http://127.0.0.1:1"):
            for path, body, ctype in ATTACKS:
                async with http.post(gw.console_url + path, data=body, headers={
                        "Origin": origin, "Content-Type": ctype, TOKEN_HEADER: right}) as r:
                    answers.append((r.status, (await r.json())["error"].split(" (")[0]))
        async with http.post(gw.console_url + "api/pause", data=ATTACKS[0][1], headers={
                "Referer": "http://evil.example/page", "Content-Type": "application/json", TOKEN_HEADER: right}) as r:
            answers.append((r.status, (await r.json())["error"].split(" (")[0]))
        async with http.get(gw.console_url + "api/status") as r:
            refused = (await r.json())["console"]["refused"]
        assert await state(gw) == before
    assert set(answers) == {(403, "cross-origin request refused")}
    assert refused == {"cross_origin": 3 * len(ATTACKS) + 1}
    assert [by for by, _ in before[0]] == ["Ann (button)"] and before[1] == {}  # her own pause stayed; no outcome


async def test_a_foreign_host_is_served_nothing_and_loopback_names_on_any_port_are(mosquitto, tmp_path: Path) -> None:
    async with gateway(mosquitto, tmp_path, "gw-sec-host") as gw, aiohttp.ClientSession() as http:
        before = await state(gw)
        right = await token(http, gw.console_url)
        port = URL(gw.console_url).port
        for host in (f"evil.example:{port}", "evil.example", f"localhost.evil.example:{port}", f"localhost.:{port}",
                     "", "127.0.0.1:80@evil.example"):
            for path in ("", "api/status", "api/csrf", "static/console.js"):
                async with http.get(gw.console_url + path, headers={"Host": host}) as r:
                    text = await r.text()
                    assert r.status == 421, (host, path)
                    assert right not in text and "p1" not in text
            async with http.post(gw.console_url + "api/pause", json={"person": "p1", "end": True},
                                 headers={"Host": host, TOKEN_HEADER: right}) as r:
                assert r.status == 421
        assert await state(gw) == before
        # an SSH forward (ssh -L 9000:127.0.0.1:PORT) sends the technician's local name and port
        for host in ("localhost:9000", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST:9000"):
            async with http.get(gw.console_url, headers={"Host": host}) as r:
                assert r.status == 200 and right in await r.text(), host
            origin = {"Origin": f"http://{host.lower()}"}
            async with http.post(gw.console_url + "api/pause", json={"person": "p1", "hours": 2},
                                 headers={"Host": host, **origin, TOKEN_HEADER: right}) as r:
                assert r.status == 200, (host, await r.text())


async def test_a_state_change_needs_json_and_this_processs_token(mosquitto, tmp_path: Path) -> None:
    async with gateway(mosquitto, tmp_path, "gw-sec-token") as gw, aiohttp.ClientSession() as http:
        base, before = gw.console_url, await state(gw)
        same = {"Origin": base.rstrip("/")}
        right = await token(http, base)
        async with http.get(base) as r:
            assert f'<meta name="hearth-csrf" content="{right}">' in await r.text()  # the page has the same token
        one_off = right[:-1] + ("B" if right.endswith("A") else "A")
        tries = [({}, 403, "missing CSRF token"), ({TOKEN_HEADER: "guess"}, 403, "CSRF token in"),
                 ({TOKEN_HEADER: one_off}, 403, "CSRF token in"), ({TOKEN_HEADER: "é" * 43}, 403, "CSRF token in")]
        for headers, status, words in tries:
            for path, body in (("api/pause", {"person": "p1", "end": True}),
                               ("api/alerts/outcome", {"key": KEY, "outcome": "real", "by": "Sam"})):
                async with http.post(base + path, json=body, headers={**same, **headers}) as r:
                    assert (r.status, (await r.json())["error"][:len(words)]) == (status, words)
        async with http.post(base + "api/pause", data=b'{"person": "p1", "end": true}',
                             headers={**same, TOKEN_HEADER: right, "Content-Type": "text/plain"}) as r:
            assert (r.status, (await r.json())["error"]) == (415, "send Content-Type: application/json, not 'text/plain'")
        assert await state(gw) == before
        # the right token from the same origin (a browser) or from no origin (a tool over SSH) works
        async with http.post(base + "api/pause", json={"person": "p1", "end": True},
                             headers={**same, TOKEN_HEADER: right}) as r:
            assert (r.status, await r.json()) == (200, {"ended": 1})
        status, answer = await console_post(http, base, "api/alerts/outcome", {"key": KEY, "outcome": "real", "by": "Sam"})
        assert (status, answer["by"]) == (200, "Sam")
        pauses, outcomes = await state(gw)
        async with http.get(base + "api/status") as r:
            refused = (await r.json())["console"]["refused"]
    assert pauses == [] and outcomes[KEY][:2] == ("real", "Sam")
    assert refused == {"no_token": 2, "bad_token": 6, "not_json": 1}


BAD_HOURS = [  # body -> (status, start of the error)
    (b'{"person": "p1", "hours": 1e400}', 400, "hours must be a finite number"),
    (b'{"person": "p1", "hours": -1e400}', 400, "hours must be a finite number"),
    (b'{"person": "p1", "hours": NaN}', 400, "body is not JSON: NaN is not a number"),
    (b'{"person": "p1", "hours": Infinity}', 400, "body is not JSON: Infinity is not a number"),
    (b'{"person": "p1", "hours": -4}', 400, "a pause must end in the future"),
    (b'{"person": "p1", "hours": 0}', 400, "a pause must end in the future"),
    (b'{"person": "p1", "hours": 721}', 400, "a pause may last at most 30 days"),
    (b'{"person": "p1", "hours": 1e300}', 400, "a pause may last at most 30 days"),
    (b'{"person": "p1", "hours": 9007199254740993}', 400, "a pause may last at most 30 days"),
    (b'{"person": "p1", "hours": "4"}', 400, "hours must be a number, not str"),
    (b'{"person": "p1", "hours": true}', 400, "hours must be a number, not bool"),
    (b'{"person": "p1", "hours": null}', 400, "hours must be a number, not NoneType"),
    (b'{"person": "\xff", "hours": 4}', 400, "body is not UTF-8"),  # was a 500
    (b'{"person": "\xed\xa0\x80", "hours": 4}', 400, "body is not UTF-8"),  # a lone surrogate, encoded
    (b'{"person": "p1"}', 400, "send {"),
    (b'{"person": ["p1"], "hours": 4}', 400, "send {"),
    (b'{"person": "zz", "hours": 4}', 404, "unknown person 'zz'"),
    (b'[1, 2]', 400, "body must be a JSON object"),
    (b'{"person": "p1", "hours": 4', 400, "body is not JSON"),
    (b'[' * 100_00 + b']' * 100_00, 400, "body is not JSON"),
    (b'{"person": "p1", "hours": 4, "pad": "' + b"x" * 70_000 + b'"}', 413, "request body larger than"),
]
BAD_OUTCOMES = [
    ({"key": KEY, "outcome": "real", "by": "S" * 81}, "outcome must be real or false_alarm, and by a name of 1 to 80"),
    ({"key": KEY, "outcome": "real", "by": "Sam\u0000"}, "outcome must be real or false_alarm"),
    ({"key": KEY, "outcome": "real", "by": "   "}, "outcome must be real or false_alarm"),
    ({"key": KEY, "outcome": "maybe", "by": "Sam"}, "outcome must be real or false_alarm"),
    ({"key": "k" * 201, "outcome": "real", "by": "Sam"}, "key must be an alert's key"),
    ({"key": 5, "outcome": "real", "by": "Sam"}, "send {"),
]


async def test_numbers_and_sizes_are_checked_and_never_a_500(mosquitto, tmp_path: Path) -> None:
    async with gateway(mosquitto, tmp_path, "gw-sec-numbers") as gw, aiohttp.ClientSession() as http:
        base, before = gw.console_url, await state(gw)
        headers = {TOKEN_HEADER: await token(http, base), "Content-Type": "application/json"}
        got = []
        for body, _, _ in BAD_HOURS:
            async with http.post(base + "api/pause", data=body, headers=headers) as r:
                got.append((r.status, (await r.json())["error"]))
        for body, _ in BAD_OUTCOMES:
            async with http.post(base + "api/alerts/outcome", json=body, headers=headers) as r:
                got.append((r.status, (await r.json())["error"]))
        assert await state(gw) == before
        status, answer = await console_post(http, base, "api/pause", {"person": "p1", "hours": 4.5})
    want = [(s, w) for _, s, w in BAD_HOURS] + [(400, w) for _, w in BAD_OUTCOMES]
    assert [(s, e[:len(w)]) for (s, e), (_, w) in zip(got, want, strict=True)] == want
    assert status == 200 and answer["person"] == "p1"


async def test_every_response_carries_the_security_headers(mosquitto, tmp_path: Path) -> None:
    async with gateway(mosquitto, tmp_path, "gw-sec-headers") as gw, aiohttp.ClientSession() as http:
        base = gw.console_url
        seen = {}
        for method, path, headers in (("GET", "", {}), ("GET", "api/status", {}), ("GET", "api/csrf", {}),
                                      ("GET", "static/console.js", {}), ("GET", "static/console.css", {}),
                                      ("GET", "static/nothing.js", {}), ("GET", "no/such/page", {}),
                                      ("GET", "", {"Host": "evil.example"}), ("POST", "api/pause", {}),
                                      ("POST", "api/pause", {"Content-Type": "application/json"}),
                                      ("OPTIONS", "api/pause", {})):
            async with http.request(method, base + path, headers=headers) as r:
                seen[(method, path, r.status)] = {k: r.headers.get(k) for k in SECURITY_HEADERS}
                if path.startswith("static/console."):
                    assert r.content_type == {"js": "text/javascript", "css": "text/css"}[path.split(".")[-1]]
    assert {k[2] for k in seen} == {200, 404, 421, 415, 403, 405}
    for where, headers in seen.items():
        assert headers == SECURITY_HEADERS, where
    assert "frame-ancestors 'none'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in SECURITY_HEADERS["Content-Security-Policy"]


ATTACKER_PAGE = """<!doctype html><html><body>
<form id="f" method="post" enctype="text/plain" action="CONSOLEapi/pause" target="sink">
<input name='{"person":"p1","hours":720,"x":"' value='"}'></form><iframe name="sink"></iframe>
<script>
const C = "CONSOLE", tried = {};
const post = (path, body, extra) => fetch(C + path, {method: "POST", body: JSON.stringify(body), ...extra});
async function attempt(name, go) {
  try { tried[name] = await go(); } catch (e) { tried[name] = "blocked: " + e.name; }
}
(async () => {
  await attempt("pause", () => post("api/pause", {person: "p1", hours: 720}, {mode: "no-cors"}).then(r => r.type));
  await attempt("end", () => post("api/pause", {person: "p1", end: true}, {mode: "no-cors"}).then(r => r.type));
  await attempt("outcome", () => post("api/alerts/outcome", {key: "KEY", outcome: "false_alarm", by: "x"},
                                      {mode: "no-cors"}).then(r => r.type));
  // no-cors strips what is not a simple header: this arrives as text/plain, without the token
  await attempt("json_no_cors", () => post("api/pause", {person: "p1", end: true}, {mode: "no-cors",
      headers: {"Content-Type": "application/json", "X-Hearth-CSRF": "guess"}}).then(r => r.type));
  // a real JSON request must ask first (CORS preflight); the console never says yes
  await attempt("json_cors", () => post("api/pause", {person: "p1", end: true},
      {headers: {"Content-Type": "application/json"}}).then(r => r.status));
  await attempt("read_token", () => fetch(C + "api/csrf").then(r => r.json()).then(j => j.token));
  await attempt("read_status", () => fetch(C + "api/status").then(r => r.text()));
  document.getElementById("f").submit();
  window.tried = tried;
})();
</script></body></html>"""


@asynccontextmanager
async def attacker_site(console_url: str) -> AsyncIterator[str]:
    """Another web site on loopback (another port: another origin) whose page attacks the console."""
    from aiohttp import web

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=ATTACKER_PAGE.replace("CONSOLE", console_url).replace("KEY", KEY),
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"
    finally:
        await runner.cleanup()


async def refused(http: aiohttp.ClientSession, base: str) -> dict[str, int]:
    async with http.get(base + "api/status") as r:
        return (await r.json())["console"]["refused"]


async def refused_once(http: aiohttp.ClientSession, base: str, done: Callable[[dict[str, int]], bool]) -> dict[str, int]:
    """The console's own refusal counts as soon as ``done`` holds of them (requests a page sends go out
    after its script, in the browser's time); as they stand after PATIENCE_S if it never does, for the assertion."""
    for _ in range(int(PATIENCE_S / 0.05)):
        seen = await refused(http, base)
        if done(seen):
            return seen
        await asyncio.sleep(0.05)
    return seen


async def test_a_page_from_another_origin_in_the_technicians_browser_changes_nothing(mosquitto, chromium,
                                                                                    tmp_path: Path) -> None:
    async with gateway(mosquitto, tmp_path, "gw-sec-browser") as gw, attacker_site(gw.console_url) as evil, \
            aiohttp.ClientSession() as http:
        before = await state(gw)
        page = await (await chromium()).new_page()
        await page.goto(evil)
        tried = await (await page.wait_for_function("window.tried")).json_value()
        # the form's POST goes out after the script: wait until the console saw it
        seen = await refused_once(http, gw.console_url, lambda r: r.get("cross_origin", 0) >= 5)
        after = await state(gw)
    assert after == before and [by for by, _ in after[0]] == ["Ann (button)"] and after[1] == {}
    assert seen == {"cross_origin": 5}  # 4 no-cors fetches and the form, each refused before any handler
    # the no-cors posts were sent (counted above), but Cross-Origin-Resource-Policy withholds even their
    # opaque answers; the JSON post never left (its preflight got no CORS yes); nothing could be read
    assert tried == dict.fromkeys(["pause", "end", "outcome", "json_no_cors", "json_cors", "read_token",
                                   "read_status"], "blocked: TypeError")


async def test_a_rebound_name_gets_nothing_from_the_console(mosquitto, chromium, tmp_path: Path) -> None:
    """DNS rebinding, played by Chromium's resolver: ``evil.example`` resolves to the console's address,
    so a script on ``http://evil.example:PORT/`` is same-origin with it. The console answers it nothing."""
    browser = await chromium("--host-resolver-rules=MAP evil.example 127.0.0.1")
    async with gateway(mosquitto, tmp_path, "gw-sec-rebind") as gw:
        before = await state(gw)
        port = URL(gw.console_url).port
        page = await browser.new_page()
        loaded = await page.goto(f"http://evil.example:{port}/")
        shown = await page.locator("body").text_content()
        html = await page.content()
        answers = await page.evaluate("""async () => [
            await fetch("/api/csrf").then(r => r.status),
            await fetch("/api/status").then(r => r.status),
            await fetch("/api/pause", {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify({person: "p1", end: true})}).then(r => r.status),
        ]""")
        assert await state(gw) == before
    assert loaded is not None and loaded.status == 421
    assert "not served as 'evil.example:" in shown and "hearth-csrf" not in html
    assert answers == [421, 421, 421]


async def test_the_page_runs_under_its_policy_and_injected_script_does_not(mosquitto, chromium, tmp_path: Path) -> None:
    async with gateway(mosquitto, tmp_path, "gw-sec-csp") as gw:
        page = await (await chromium()).new_page()
        messages: list[str] = []  # the browser's console from the first byte on: a violation while loading shows
        page.on("console", lambda m: messages.append(m.text))
        await page.goto(gw.console_url)
        await expect(page.locator("#pause-form")).to_be_visible()  # the script file ran
        header = await page.evaluate("getComputedStyle(document.querySelector('th')).backgroundColor")
        note = await page.locator("#pause-note").text_content()
        clean = list(messages)
        async with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
            ran = await page.evaluate("() => { const s = document.createElement('script');"
                                      "s.textContent = 'window.injected = 1'; document.body.append(s);"
                                      "return typeof window.injected; }")
    assert header == "rgb(244, 241, 234)"  # the style sheet file applied
    assert "urgent alerts included" in " ".join(note.split())
    assert not [m for m in clean if "Content Security Policy" in m], clean
    assert ran == "undefined"
    assert any("Content Security Policy" in m for m in messages), messages


async def test_the_demo_inbox_takes_signed_webhooks_but_no_cross_origin_post(mosquitto, tmp_path: Path) -> None:
    """Mounted on the console in the demo: the gateway's own signed webhook needs no CSRF token (its
    signature is its proof), a browser's cross-origin post is refused before the signature is even read,
    and the page's style comes from a file the CSP allows."""
    from alerts.notifiers.webhook import WebhookNotifier
    from gateway.demo_inbox import DemoInbox
    from tests.test_demo_inbox import message, recipient

    inbox = DemoInbox(tmp_path / "inbox", SECRET.encode())
    notifier = WebhookNotifier(home="demo-home")
    async with gateway(mosquitto, tmp_path, "gw-sec-inbox", inbox) as gw, aiohttp.ClientSession() as http:
        hook = gw.console_url + "inbox/hook"
        sent = await notifier.send(message("m1", "sam", "Ann: not up"), recipient("sam", hook, tmp_path / "hook.secret"))
        async with http.post(hook, data=b'{"message_id": "m2"}', headers={
                "Origin": "http://evil.example", "Content-Type": "text/plain"}) as r:
            cross = r.status
        async with http.get(gw.console_url + "inbox") as r:
            page = await r.text()
        async with http.get(gw.console_url + "inbox/inbox.css") as r:
            css = (r.status, r.content_type, r.headers["Content-Security-Policy"])
    await notifier.close()
    assert sent.ok and [m.message_id for m in inbox.messages] == ["m1"] and inbox.refused == 0
    assert cross == 403
    assert "<style>" not in page and "href='/inbox/inbox.css'" in page and "Ann: not up" in page
    assert css == (200, "text/css", SECURITY_HEADERS["Content-Security-Policy"])
