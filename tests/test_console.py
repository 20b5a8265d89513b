"""The technicians' console rendered by a real headless Chromium (Debian's, driven by Playwright: the
``chromium`` fixture in tests/conftest.py) against a running gateway."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
from playwright.async_api import expect

from gateway.config import parse_config_text
from gateway.service import Gateway
from gateway.storage import Store
from tests.conftest import PATIENCE_S
from tests.test_service import Publisher, aqara, home_config, wait_for


async def test_console_shows_sensors_rejections_and_unassigned_devices(mosquitto, chromium, tmp_path: Path) -> None:
    cfg = parse_config_text(home_config(mosquitto.port, "gw-console"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed and gw.console_url)
    p = Publisher(mosquitto.port, "z2m-console")
    try:
        p.pub("zigbee2mqtt/bridge/devices", json.dumps([
            {"ieee_address": "0x00158d0004a1b2c3", "friendly_name": "hall/front_door", "type": "EndDevice",
             "definition": {"model": "MCCGQ11LM", "vendor": "Aqara"}},
            {"ieee_address": "0x00158d000aaaaaaa", "friendly_name": "spare_sensor", "type": "EndDevice",
             "definition": {"model": "RTCGQ11LM", "vendor": "Aqara"}}]).encode())
        p.pub("zigbee2mqtt/hall/front_door", aqara(False))
        p.pub("zigbee2mqtt/hall/front_door", b"\xff\xfe garbage")
        p.pub("zigbee2mqtt/bridge/state", b'{"state": "offline"}')  # a problem of the gateway's own
        await wait_for(lambda: gw.stats.messages >= 4)
        await gw.flushed(PATIENCE_S)
        async with aiohttp.ClientSession() as http:
            async with http.get(gw.console_url + "api/status") as resp:
                status = await resp.json()
        assert status["broker"]["connected"] is True
        assert [d["ieee_address"] for d in status["unassigned_devices"]] == ["0x00158d000aaaaaaa"]
        page = await (await chromium()).new_page(viewport={"width": 1100, "height": 1400})
        await page.goto(gw.console_url)
        # the page's script has drawn the status it fetched: the DOM now is what the technician sees
        await expect(page.locator("#summary")).to_contain_text("Broker connected")
        # the gateway's problems are on the page, not only in /api/status
        await expect(page.locator("#problems")).to_contain_text("zigbee2mqtt reported itself offline")
        await expect(page.locator("#rejections tbody")).to_contain_text(status["rejections"][0]["reason"])
        await expect(page.locator("#sensors tbody")).to_contain_text("91%")
        await expect(page.locator("#unassigned tbody")).to_contain_text("spare_sensor")
        dom = await page.content()
        await page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
    finally:
        p.close()
        stop.set()
        await task
    assert "Broker connected" in dom
    rejected = dom.split('id="rejections"')[1].split("</table>")[0]
    reason = status["rejections"][0]["reason"]
    assert reason in rejected and ">1<" in rejected  # counted once, shown to the technician
    sensors = dom.split('id="sensors"')[1].split("</table>")[0]
    assert "maindoor" in sensors and "91%" in sensors  # battery from the Aqara payload
    assert "spare_sensor" in dom.split('id="unassigned"')[1]
    assert (tmp_path / "console.png").stat().st_size > 10_000


async def test_pause_from_the_console_with_a_real_click(mosquitto, chromium, tmp_path: Path) -> None:
    """A carer, beside the person, presses Pause in the console: sharing stops, and the page says so."""
    from tests.test_gateway_alerting import SECRET, home

    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    cfg = parse_config_text(home(mosquitto.port, "gw-console-pause", "http://127.0.0.1:9/hook", secret_file),
                            "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    try:
        page = await (await chromium()).new_page()
        messages: list[str] = []  # the browser's console from the first byte on: a CSP violation shows here
        page.on("console", lambda m: messages.append(m.text))
        await page.goto(gw.console_url)
        await expect(page.locator("#pause-form")).to_be_visible()
        await page.fill("#pause-hours", "2")
        await page.click("#pause-start")
        paused = page.locator("#sharing .pause")
        await expect(paused).to_have_count(1)
        text = await paused.text_content()
        (pause,) = gw.alerting.delivery.pauses.active(gw.clock.now())
        assert (pause.person, pause.by) == ("p1", "console")
        assert 1.9 < (pause.end - gw.clock.now()).total_seconds() / 3600 <= 2.0
        assert text.startswith("Sharing about Ann paused until ")  # her name, not her id
        assert text.endswith("Nothing about them leaves the home until then, urgent alerts included. ")
        await page.click("#pause-end")
        await expect(paused).to_have_count(0)
        assert gw.alerting.delivery.pauses.active(gw.clock.now()) == []
        # what the gateway refuses is said on the page (here past PauseStore's 30 days); the form's own
        # check is switched off, as a technician's older browser or a hand-edited page would have it
        # (the page's refresh puts `max` back on the field, so removing it could race)
        await page.locator("#pause-form").evaluate("f => { f.noValidate = true; }")
        await page.fill("#pause-hours", "900")
        await page.click("#pause-start")
        await expect(page.locator("#pause-error")).to_have_text(
            "Not done: a pause may last at most 30 days; review consent instead")
        assert await page.locator("#pause-error").text_content() == (
            "Not done: a pause may last at most 30 days; review consent instead")
        assert gw.alerting.delivery.pauses.active(gw.clock.now()) == []
        assert not [m for m in messages if "Content Security Policy" in m], messages
    finally:
        stop.set()
        await task


async def test_a_false_alarm_said_in_the_console_is_kept_and_reaches_the_routine_core(mosquitto, chromium,
                                                                                     tmp_path: Path) -> None:
    from routines.alert import Alert, Audience, Severity

    cfg = parse_config_text(home_config(mosquitto.port, "gw-console-outcome"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    told: list[tuple[str, str]] = []
    real_record = gw.engine.record_outcome
    gw.engine.record_outcome = lambda key, outcome: (told.append((key, outcome)), real_record(key, outcome))[1]
    try:
        gw.raise_alerts([Alert(gw.clock.now(), "p1", "silence", Severity.URGENT, Audience.CARE,
                               "No movement from Ann for 4 h 10 min.", key="p1:silence:t1")])
        await gw.flushed(PATIENCE_S)
        page = await (await chromium()).new_page()
        await page.goto(gw.console_url)
        await page.fill("#by", "Sam")
        await page.click("button[data-outcome=false_alarm]")
        said = page.locator("#alerts td").filter(has_text=re.compile(r"^\s*False alarm"))
        await expect(said).to_have_count(1)
        shown = await said.text_content()
    finally:
        stop.set()
        await task
    assert shown == "False alarm (Sam)"
    assert told == [("p1:silence:t1", "false_alarm")]
    with Store(tmp_path / "h.sqlite3") as store:
        (outcome, by, _at), = store.outcomes().values()
    assert (outcome, by) == ("false_alarm", "Sam")
