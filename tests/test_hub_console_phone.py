"""The gateway's own console on a phone (issue 13, item 7), in headless Chromium through Playwright:
nothing wider than 390 px, thumb-sized buttons, and sensors and alerts in words, not ids."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import async_playwright

from gateway.config import parse_config_text
from gateway.service import Gateway
from routines.alert import Alert, Audience, Severity
from tests.test_service import home_config, wait_for

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


async def test_the_console_fits_a_phone_and_speaks_in_words(mosquitto, tmp_path: Path) -> None:
    cfg = parse_config_text(home_config(mosquitto.port, "gw-console-phone"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.1, console_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    shots = Path(os.environ.get("HEARTH_SCREENSHOTS") or tmp_path)
    try:
        await asyncio.wait_for(gw.ready.wait(), 60)
        await wait_for(lambda: gw.console_url)
        alert = Alert(datetime.now(UTC), "p1", "not_up", Severity.URGENT, Audience.CARE,
                      "Usually up by 08:10; no movement since 22:40.", key="p1:not_up:t")
        await gw.in_db(lambda: (gw.store.add_alert(alert), gw.store.commit()))
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                              args=["--no-sandbox", "--disable-gpu"])
            for size, viewport in SIZES.items():
                page = await browser.new_page(viewport=viewport)
                await page.goto(gw.console_url)
                await page.wait_for_selector("#alerts tbody td[data-label]")
                await page.wait_for_selector("#sensors tbody td[data-label]")
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{width} px wide at {size}"
                heights = await page.evaluate("[...document.querySelectorAll('button')].filter(b => b.offsetParent)"
                                              ".map(b => b.getBoundingClientRect().height)")
                assert heights and min(heights) >= 44, heights
                text = await page.inner_text("body")
                assert "Not up at the usual time" in text and "Urgent" in text
                assert "not_up" not in text and " / " not in text
                assert "Bed pressure pad" in text or "Door contact" in text
                await page.screenshot(path=str(shots / f"console-{size}.png"), full_page=True)
                await page.close()
            await browser.close()
    finally:
        stop.set()
        await task
