"""The hub in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python; no
browser download), at a phone's 390x844 and a desktop's 1280x800.

1. End to end: Sam signs in on a phone, opens Ann's alert, taps "I'm on it" (the home stops escalating),
   then "Resolved: all well"; Jo of Ann's Circle gets the all-clear on her phone and on her hub page.
2. Every main page for each role at both sizes: nothing wider than the screen, a Circle member never
   sees a category she was not given; a screenshot of each (``HEARTH_SCREENSHOTS=DIR`` keeps them).
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from alerts.digest import digest_chart
from gateway.alerting import Alerting
from gateway.timebase import Clock
from hub import auth, store
from hub.db import connect
from routines.alert import Alert, Audience, Severity
from routines.summary import DaySummary
from tests.conftest import PATIENCE_S
from tests.hub_support import hub_on, until
from tests.ntfy_server import NtfyServer
from tests.test_hub_uplink import home_config, team_broker  # noqa: F401 - the fixture
from tests.test_hub_web import PASSWORDS, seed, uplinked

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once, before the browser starts
        pytest.fail("chromium is not installed: run `bash scripts/setup.sh --test`")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        await b.close()


async def sign_in(page: Page, url: str, name: str, password: str) -> None:
    await page.goto(url + "login")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(url)


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


async def test_a_worker_handles_an_alert_on_a_phone(browser: Browser, team_broker, tmp_path: Path) -> None:  # noqa: F811
    async with NtfyServer(keepalive_s=0.5) as ntfy, hub_on(team_broker, tmp_path, username="hearth-hub",
                                                           password_file=team_broker.password_file(
                                                               "hearth-hub", tmp_path)) as hub:
        db = connect(tmp_path / "hub.db")
        auth.add_user(db, "Sam", "worker", "sam-password-1", time.time())
        auth.add_user(db, "Jo", "circle", "jo-password-12", time.time(), home="ann-home", recipient="jo")
        db.close()
        cfg = home_config(team_broker, ntfy.url, team_broker.password_file("ann-home", tmp_path))
        alerting = Alerting(cfg, tmp_path / "gw" / "hearth.sqlite", Clock())
        alerting.uplink.heartbeat_s = 0.2
        tasks = [asyncio.create_task(make()) for make in alerting.tasks()]
        ctx = await browser.new_context(viewport=SIZES["phone"])
        try:
            await until(lambda: alerting.uplink.links and alerting.uplink.links[0][0].subscribed.is_set())
            key = "p1:not_up:2026-01-05"
            alerting.submit(Alert(datetime.now(UTC), "p1", "not_up", Severity.URGENT, Audience.CARE,
                                  "Ann is usually up by 08:10 (9 days in 10); no movement since 22:40.", key=key))
            page = await ctx.new_page()
            await sign_in(page, hub.url, "Sam", "sam-password-1")
            for _ in range(int(PATIENCE_S / 0.1)):  # the board is a page, not a feed: look again until the alert is there
                if await page.locator("a.alert").count():
                    break
                await asyncio.sleep(0.1)
                await page.reload()
            await no_sideways_scroll(page)
            await page.click("a.alert")
            assert "no movement since 22:40" in await page.inner_text(".explanation")
            await page.click("button:has-text(\"I'm on it\")")
            await until(lambda: alerting.delivery.policy.alerts[key].acknowledged_at is not None)
            assert alerting.delivery.policy.next_due_mono() is None  # escalation stopped
            await page.click("button:has-text('Resolved: all well')")
            await until(lambda: any("all is well" in m.get("message", "") for m in ntfy.displayed("hearth-jo-77aa")))

            jo = await (await browser.new_context(viewport=SIZES["phone"])).new_page()
            await sign_in(jo, hub.url, "Jo", "jo-password-12")
            for _ in range(int(PATIENCE_S / 0.1)):
                if "all is well" in await jo.inner_text("main"):
                    break
                await asyncio.sleep(0.1)
                await jo.reload()
            assert "Sam checked at" in await jo.inner_text("main")
            await no_sideways_scroll(jo)
        finally:
            await ctx.close()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await alerting.close()


def seed_with_digest(db_path: Path) -> None:
    seed(db_path)
    d = date(2026, 1, 5)
    summary = DaySummary("p1", d, clock_time(7, 40), clock_time(7, 35), clock_time(22, 15), clock_time(22, 30),
                         {"kettle": 4}, 30, [(datetime(2026, 1, 5, 14, 10), datetime(2026, 1, 5, 15, 30))], 0,
                         (0, 0, 0, 1, 0, 0, 0, 6, 12, 9, 5, 7, 10, 6, 0, 0, 4, 8, 9, 7, 6, 3, 1, 0),
                         (0.2, 0.1, 0.3, 0.5, 0.2, 0.1, 0.5, 5, 10, 8, 6, 6, 9, 7, 5, 4, 5, 7, 8, 7, 5, 3, 1, 0.4),
                         [], [])
    png = digest_chart(summary, "Ann")
    db = connect(db_path)
    store.apply(db, [uplinked("ann-home", "alerts", {
        "type": "message", "message_id": "digest/p1/2026-01-05/team-hub/mqtt", "category": "digest",
        "title": "Ann's Monday 5 January", "body": "Up at 07:40 as usual. Kettle 4 times. Out 14:10-15:30.",
        "person": "p1", "kind": "digest", "alert_key": None, "replaces": None,
        "attachments": [{"filename": "day.png", "mime_type": "image/png", "size": len(png),
                         "data_b64": base64.b64encode(png).decode()}]})], now=time.time())
    db.close()


PAGES = {  # role -> (name in the screenshot, path)
    "sam": [("board", "/"), ("alert", "/alerts/1"), ("person", "/people/ann-home/p1"), ("handover", "/handover"),
            ("password", "/password")],
    "jo": [("circle", "/")],
    "tess": [("fleet", "/")],
}


async def test_every_page_fits_a_phone_and_shows_each_role_only_its_share(browser: Browser, mosquitto,
                                                                          tmp_path: Path) -> None:
    seed_with_digest(tmp_path / "hub.db")
    shots = Path(os.environ.get("HEARTH_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - before the hub starts
    async with hub_on(mosquitto, tmp_path) as hub:
        for size, viewport in SIZES.items():
            ctx = await browser.new_context(viewport=viewport)
            page = await ctx.new_page()
            await page.goto(hub.url)
            assert page.url.endswith("/login")
            await no_sideways_scroll(page)
            await page.screenshot(path=str(shots / f"hub-login-{size}.png"), full_page=True)
            await ctx.close()
            for name, paths in PAGES.items():
                ctx = await browser.new_context(viewport=viewport)
                page = await ctx.new_page()
                await sign_in(page, hub.url, name, PASSWORDS[name])
                for label, path in paths:
                    await page.goto(hub.url.rstrip("/") + path)
                    await no_sideways_scroll(page)
                    text = await page.inner_text("main")
                    assert "not_up" not in text and "p1:" not in text
                    if name == "jo":  # urgent and digests were given to her; concerns were not
                        assert "Not up at the usual time" in text and "Up at 07:40" in text
                        assert "kitchen" not in text.lower() and "Bob" not in text
                    if name == "tess":
                        assert "no movement" not in text and "bed" in text
                    await page.screenshot(path=str(shots / f"hub-{label}-{size}.png"), full_page=True)
                buttons = await page.evaluate("[...document.querySelectorAll('button')].map(b => "
                                              "b.getBoundingClientRect().height)")
                assert all(h >= 44 for h in buttons), buttons  # a thumb, not a mouse pointer
                await ctx.close()
    expected = {f"hub-{label}-{size}.png" for size in SIZES for ps in PAGES.values() for label, _ in ps}
    assert expected <= set(os.listdir(shots))
