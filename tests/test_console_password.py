"""The console on the home's network asks for a password: without it, anyone on the Wi-Fi (a visitor's
phone, a smart TV) could read /api/csrf like any tool and pause sharing about the person for 30 days,
urgent alerts too. Through a real gateway's real aiohttp server (on loopback: the password, once set,
is asked wherever the console listens)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from gateway.config import ConfigError, parse_config_text
from gateway.console_security import PASSWORD_TRIES, TOKEN_HEADER
from gateway.service import Gateway
from tests.test_gateway_alerting import SECRET, home
from tests.test_service import wait_for

PASSWORD = "kettle-on-at-seven"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def config_text(mosquitto: Any, tmp_path: Path, console: str) -> str:
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    text = home(mosquitto.port, "pw", "http://127.0.0.1:9/hook", secret_file)
    assert "console: {port: 0}" in text
    return text.replace("console: {port: 0}", f"console: {console}")


@asynccontextmanager
async def gateway(mosquitto: Any, tmp_path: Path, console: str) -> AsyncIterator[Gateway]:
    gw = Gateway(parse_config_text(config_text(mosquitto, tmp_path, console), "home.yaml"), tmp_path / "h.sqlite3",
                 commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    try:
        await asyncio.wait_for(gw.ready.wait(), 60)
        await wait_for(lambda: bool(gw.console_url))
        yield gw
    finally:
        stop.set()
        await task


def test_a_console_on_the_homes_network_without_a_password_is_refused(mosquitto, tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.20", "hearth.local"):
        with pytest.raises(ConfigError, match="anyone on that network pause sharing"):
            parse_config_text(config_text(mosquitto, tmp_path, f"{{host: {host}, port: 0}}"), "home.yaml")
    pw = tmp_path / "console.password"
    pw.write_text(PASSWORD + "\n")
    cfg = parse_config_text(config_text(mosquitto, tmp_path, f'{{host: 0.0.0.0, port: 0, password_file: "{pw}"}}'),
                            "home.yaml")
    assert cfg.console.password_value() == PASSWORD


async def test_the_console_asks_its_password_of_every_request(mosquitto, tmp_path: Path) -> None:
    pw = tmp_path / "console.password"
    pw.write_text(PASSWORD + "\n")
    async with gateway(mosquitto, tmp_path, f'{{port: 0, password_file: "{pw}"}}') as gw:
        base = gw.console_url
        right, wrong = basic("technician", PASSWORD), basic("technician", "guess")
        async with aiohttp.ClientSession() as http:
            for path in ("", "api/status", "api/csrf", "static/console.js"):
                async with http.get(base + path) as r:
                    assert (r.status, r.headers.get("WWW-Authenticate", "")[:5]) == (401, "Basic"), path
            async with http.post(base + "api/pause", json={"person": "p1", "hours": 720}) as r:
                assert r.status == 401
            assert gw.alerting.delivery.pauses.active(gw.clock.now()) == []
            async with http.get(base + "api/csrf", headers=right) as r:
                token = (await r.json())["token"]
            async with http.post(base + "api/pause", json={"person": "p1", "hours": 1},
                                 headers=right | {TOKEN_HEADER: token}) as r:
                assert r.status == 200  # the technician, with the password and the token
            assert [p.by for p in gw.alerting.delivery.pauses.active(gw.clock.now())] == ["console"]
            for _ in range(PASSWORD_TRIES):
                async with http.get(base + "api/status", headers=wrong) as r:
                    assert r.status == 401
            async with http.get(base + "api/status", headers=right) as r:
                assert r.status == 429  # guessing from this address has stopped, the right one too for now
            async with http.get(base + "api/status") as r:
                assert r.status == 429
        async with aiohttp.ClientSession() as http, http.get(base + "api/status", headers=right) as r:
            status = r.status
        assert status == 429


async def test_an_empty_password_file_lets_nobody_in(mosquitto, tmp_path: Path) -> None:
    pw = tmp_path / "console.password"
    pw.write_text("\n")
    async with gateway(mosquitto, tmp_path, f'{{port: 0, password_file: "{pw}"}}') as gw:
        async with aiohttp.ClientSession() as http:
            for auth in ({}, basic("technician", "")):
                async with http.get(gw.console_url + "api/status", headers=auth) as r:
                    assert r.status == 401


async def test_the_technicians_browser_with_the_password_uses_the_console(mosquitto, chromium, tmp_path: Path) -> None:
    pw = tmp_path / "console.password"
    pw.write_text(PASSWORD + "\n")
    async with gateway(mosquitto, tmp_path, f'{{port: 0, password_file: "{pw}"}}') as gw:
        browser = await chromium()
        page = await (await browser.new_context(http_credentials={"username": "tech", "password": PASSWORD})).new_page()
        await page.goto(gw.console_url)
        await expect(page.locator("#home")).to_have_text(gw.cfg.name)  # the page's own fetch of /api/status got in
        await expect(page.locator("#pause-form")).to_be_visible()
        await page.click("#pause-start")  # a state change from the page: the password and the token went with it
        await expect(page.locator("#sharing .pause")).to_have_count(1)
        assert [p.by for p in gw.alerting.delivery.pauses.active(gw.clock.now())] == ["console"]
        stranger = await (await browser.new_context()).new_page()  # a browser without it is asked, and has none
        with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
            await stranger.goto(gw.console_url + "api/status")


def test_check_config_warns_of_a_console_password_others_can_read(mosquitto, tmp_path: Path) -> None:
    from gateway.config import config_warnings

    pw = tmp_path / "console.password"
    pw.write_text(PASSWORD + "\n")
    pw.chmod(0o644)
    cfg = parse_config_text(config_text(mosquitto, tmp_path, f'{{port: 0, password_file: "{pw}"}}'), "home.yaml")
    # (this test home is only a bed and a door: its kit warning is another test's business)
    [warning] = [w for w in config_warnings(cfg, "home.yaml") if "console.password_file" in w]
    assert "every user" in warning and "pause sharing" in warning
    assert PASSWORD not in warning
    pw.chmod(0o600)
    assert [w for w in config_warnings(cfg, "home.yaml") if "console.password_file" in w] == []
