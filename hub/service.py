"""``hearth hub run``: the store, the uplink intake and the web pages, in one process.

    cfg = HubConfig(database=Path("hub.db"), port=8090)
    async with running_hub(cfg) as hub:   # intake connected, pages listening
        print(hub.url)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from hub import store
from hub.config import HubConfig
from hub.db import connect
from hub.intake import Intake
from hub.web import Hub, make_app

log = logging.getLogger("hearth.hub")


@dataclass
class RunningHub:
    url: str
    hub: Hub
    intake: Intake


@contextlib.asynccontextmanager
async def running_hub(cfg: HubConfig) -> AsyncIterator[RunningHub]:
    write_db = connect(cfg.store)
    store.create(write_db)
    read_db = connect(cfg.store, reader=True)
    intake: Intake | None = None
    hub = Hub(read_db, write_db, lambda *a: intake.reply(*a) if intake else False, secure_cookies=cfg.secure_cookies)
    b = cfg.broker
    intake = Intake(b.host, b.port, cfg.topic_prefix, hub.writer, write_db, username=b.username,
                    password=b.password_value(), tls=b.tls, ca_file=str(b.ca_file) if b.ca_file else None,
                    client_id=b.client_id, share_group=b.share_group)
    hub.link = intake.report
    await intake.start()
    task = asyncio.create_task(intake.run(), name="hub intake")
    runner = web.AppRunner(make_app(hub), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    try:
        await site.start()
    except OSError as exc:
        task.cancel()
        await intake.stop()
        raise SystemExit(f"cannot listen on {cfg.host}:{cfg.port}: {exc.strerror}; choose another --port") from None
    port = site._server.sockets[0].getsockname()[1] if site._server and site._server.sockets else cfg.port
    url = f"http://{cfg.host}:{port}/"
    log.info("hub listening", extra={"ctx": {"url": url, "store": "postgresql" if cfg.database_url else str(cfg.database),
                                             "broker": f"{b.host}:{b.port}"}})
    try:
        yield RunningHub(url, hub, intake)
    finally:
        await runner.cleanup()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await intake.stop()
        hub.reader.shutdown(wait=True)
        hub.writer.shutdown(wait=True)
        hub.hasher.shutdown(wait=True)
        read_db.close()
        write_db.close()


async def serve(cfg: HubConfig, stop: asyncio.Event) -> None:
    async with running_hub(cfg) as running:
        print(f"Hearth hub: pages at {running.url} ; broker {cfg.broker.host}:{cfg.broker.port} ; "
              f"store {'PostgreSQL' if cfg.database_url else cfg.database}", flush=True)
        await stop.wait()
