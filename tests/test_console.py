"""The technicians' console rendered by a real headless Chromium against a running gateway."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import aiohttp
import pytest

from gateway.config import parse_config_text
from gateway.service import Gateway
from gateway.storage import Store
from tests.test_service import Publisher, aqara, home_config, wait_for


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is not installed: run `bash scripts/setup.sh --test` (it installs it with apt-get)")
    return found


def render(url: str, out_png: Path | None = None) -> str:
    """The DOM after the page's scripts ran, as Chromium sees it."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--window-size=1100,1400"]
        if out_png is not None:
            subprocess.run([*args, f"--screenshot={out_png}", url], check=True, capture_output=True, timeout=60)
        return subprocess.run([*args, "--dump-dom", url], check=True, capture_output=True, timeout=60,
                              text=True).stdout


async def test_console_shows_sensors_rejections_and_unassigned_devices(mosquitto, tmp_path: Path) -> None:
    cfg = parse_config_text(home_config(mosquitto.port, "gw-console"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 10)
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
        await wait_for(lambda: gw.stats.messages >= 3)
        await gw.flushed(10)
        async with aiohttp.ClientSession() as http:
            async with http.get(gw.console_url + "api/status") as resp:
                status = await resp.json()
        assert status["broker"]["connected"] is True
        assert [d["ieee_address"] for d in status["unassigned_devices"]] == ["0x00158d000aaaaaaa"]
        dom = await asyncio.to_thread(render, gw.console_url, tmp_path / "console.png")
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


async def test_pause_from_the_console_with_a_real_click(mosquitto, tmp_path: Path) -> None:
    """A carer, beside the person, presses Pause in the console: sharing stops, and the page says so."""
    from tests.chromium import Browser
    from tests.test_gateway_alerting import SECRET, home

    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(SECRET)
    cfg = parse_config_text(home(mosquitto.port, "gw-console-pause", "http://127.0.0.1:9/hook", secret_file),
                            "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 10)
    try:
        async with Browser() as browser:
            page = await browser.open(gw.console_url)
            await page.wait_for("!document.getElementById('pause-form').hidden")
            await page.eval("document.getElementById('pause-hours').value = '2'; "
                            "document.getElementById('pause-start').click(); true")
            text = await page.wait_for("document.querySelector('#sharing .pause')?.textContent")
            (pause,) = gw.alerting.delivery.pauses.active(gw.clock.now())
            assert (pause.person, pause.by) == ("p1", "console")
            assert 1.9 < (pause.end - gw.clock.now()).total_seconds() / 3600 <= 2.0
            assert text.startswith("Sharing about Ann paused until ")  # her name, not her id
            assert text.endswith("Nothing about them leaves the home until then, urgent alerts included. ")
            await page.eval("document.getElementById('pause-end').click(); true")
            await page.wait_for("!document.querySelector('#sharing .pause')")
            assert gw.alerting.delivery.pauses.active(gw.clock.now()) == []
            # what the gateway refuses is said on the page (here past PauseStore's 30 days)
            await page.eval("const h = document.getElementById('pause-hours'); h.removeAttribute('max');"
                            "h.value = '900'; document.getElementById('pause-start').click(); true")
            refused = await page.wait_for("document.getElementById('pause-error').textContent")
            assert refused == "Not done: a pause may last at most 30 days; review consent instead"
            assert gw.alerting.delivery.pauses.active(gw.clock.now()) == []
            assert not [m for m in page.messages if "Content Security Policy" in m]
    finally:
        stop.set()
        await task


async def test_a_false_alarm_said_in_the_console_is_kept_and_reaches_the_routine_core(mosquitto, tmp_path: Path) -> None:
    from routines.alert import Alert, Audience, Severity
    from tests.chromium import Browser

    cfg = parse_config_text(home_config(mosquitto.port, "gw-console-outcome"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 10)
    told: list[tuple[str, str]] = []
    real_record = gw.engine.record_outcome
    gw.engine.record_outcome = lambda key, outcome: (told.append((key, outcome)), real_record(key, outcome))[1]
    try:
        gw.raise_alerts([Alert(gw.clock.now(), "p1", "silence", Severity.URGENT, Audience.CARE,
                               "No movement from Ann for 4 h 10 min.", key="p1:silence:t1")])
        await gw.flushed(10)
        async with Browser() as browser:
            page = await browser.open(gw.console_url)
            await page.wait_for("!!document.querySelector('button[data-outcome=false_alarm]')")
            await page.eval("document.getElementById('by').value = 'Sam'; "
                            "document.querySelector('button[data-outcome=false_alarm]').click(); true")
            shown = await page.wait_for("[...document.querySelectorAll('#alerts td')]"
                                        ".map(td => td.textContent).find(t => t.startsWith('False alarm'))")
    finally:
        stop.set()
        await task
    assert shown == "False alarm (Sam)"
    assert told == [("p1:silence:t1", "false_alarm")]
    with Store(tmp_path / "h.sqlite3") as store:
        (outcome, by, _at), = store.outcomes().values()
    assert (outcome, by) == ("false_alarm", "Sam")
