"""Shared parts of the hub tests: a team broker secured as `hearth hub broker-config` writes it, a
running hub, and a signed-in HTTP client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from hub.broker import HUB_USER, BrokerFiles
from hub.config import HubBroker, HubConfig
from hub.service import RunningHub, running_hub
from tests.conftest import PATIENCE_S, Mosquitto


class TeamBroker(Mosquitto):
    """A real mosquitto with the password file and ACL the hub's tools write; ``passwords`` per account."""

    def __init__(self, workdir: Path, homes: list[str]):
        super().__init__(workdir)
        files = BrokerFiles(workdir / "hub-broker")
        self.passwords = {HUB_USER: files.write_config(self.port, host="127.0.0.1")}
        for home in homes:
            self.passwords[home] = files.add_home(home)
        self.conf.write_text(self.conf.read_text().replace(
            "allow_anonymous true", f"allow_anonymous false\npassword_file {files.passwd}\nacl_file {files.acl}"))

    def password_file(self, user: str, where: Path) -> Path:
        path = where / f"{user}.password"
        path.write_text(self.passwords[user] + "\n")
        return path


async def until(cond: Callable[[], Any], seconds: float = PATIENCE_S) -> None:
    for _ in range(int(seconds / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


@asynccontextmanager
async def hub_on(broker: Mosquitto, tmp_path: Path, **broker_kw: Any) -> AsyncIterator[RunningHub]:
    cfg = HubConfig(database=tmp_path / "hub.db", port=0,
                    broker=HubBroker(**({"host": broker.host, "port": broker.port,
                                         "client_id": f"hub-{tmp_path.name}"[:60]} | broker_kw)))
    async with running_hub(cfg) as running:
        await asyncio.wait_for(running.intake.subscribed.wait(), PATIENCE_S)  # its SUBACK: nothing sent is missed
        yield running


class Browserless:
    """A signed-in account over real HTTP (a team's own tool, or a handler test)."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def sign_in(self, name: str, password: str) -> int:
        async with self.http.get(f"{self.url}/login") as r:
            token = re.search(r'name="login_token" value="([^"]+)"', await r.text()).group(1)
        async with self.http.post(f"{self.url}/login", data={"name": name, "password": password,
                                                             "login_token": token}, allow_redirects=False) as r:
            status = r.status
        if status == 303:
            async with self.http.get(f"{self.url}/api/me") as r:
                self.csrf = (await r.json())["csrf"]
        return status

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.url + path, allow_redirects=False) as r:
            body = await r.json() if r.content_type == "application/json" else await r.text()
            return r.status, body

    async def post(self, path: str, body: dict[str, Any], csrf: str | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf}
        async with self.http.post(self.url + path, json=body, headers=headers, allow_redirects=False) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else await r.text())

    async def close(self) -> None:
        await self.http.close()
