"""A real headless Chromium driven over the DevTools protocol (aiohttp's websocket client), for
console tests that click. No browser download: Debian's chromium, installed by scripts/setup.sh."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from typing import Any

import aiohttp
import pytest

from tests.conftest import free_port

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is not installed: run `bash scripts/setup.sh --test` (it installs it with apt-get)")
    return found


class Browser:
    """``async with Browser() as b: page = await b.open(url); await page.eval("...")``.

    ``args`` are extra Chromium flags, e.g. ``--host-resolver-rules=MAP evil.example 127.0.0.1`` to
    play a DNS-rebinding attacker's name without a DNS server."""

    def __init__(self, *args: str) -> None:
        self.args = list(args)

    async def __aenter__(self) -> Browser:
        # Chromium's helper processes may still write the profile while it shuts down
        self._profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self.port = free_port()
        self._proc = await asyncio.create_subprocess_exec(
            chromium_binary(), *FLAGS, *self.args, f"--user-data-dir={self._profile.name}",
            f"--remote-debugging-port={self.port}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        self._http = aiohttp.ClientSession()
        for _ in range(200):
            try:
                async with self._http.get(f"http://127.0.0.1:{self.port}/json/version") as r:
                    await r.json()
                    return self
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
        raise RuntimeError("Chromium's DevTools endpoint did not come up")

    async def open(self, url: str) -> Page:
        """A new tab on ``url``; the browser's console and log messages from its first byte on are
        kept in ``page.messages`` (so a Content-Security-Policy violation while loading is seen)."""
        async with self._http.put(f"http://127.0.0.1:{self.port}/json/new?about:blank") as r:
            target = await r.json()
        ws = await self._http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        for domain in ("Log", "Runtime", "Page"):
            await page.call(f"{domain}.enable")
        await page.call("Page.navigate", url=url)
        return page

    async def __aexit__(self, *exc: object) -> None:
        await self._http.close()
        self._proc.terminate()
        try:
            await asyncio.wait_for(self._proc.wait(), 10)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        self._profile.cleanup()


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self._id = 0
        self.messages: list[str] = []  # console API calls and browser log entries, as text

    def _keep(self, msg: dict[str, Any]) -> None:
        params = msg.get("params", {})
        if msg.get("method") == "Log.entryAdded":
            self.messages.append(params["entry"]["text"])
        elif msg.get("method") == "Runtime.consoleAPICalled":
            self.messages.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        await self.ws.send_str(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive()).data)
            self._keep(msg)
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg["result"]

    async def eval(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (awaiting promises) and return its value."""
        res = await self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    async def wait_for(self, expression: str, within: float = 10.0) -> Any:
        for _ in range(int(within / 0.1)):
            try:
                value = await self.eval(expression)
            except RuntimeError:  # the page is still loading
                value = None
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"never true in the page: {expression}")
