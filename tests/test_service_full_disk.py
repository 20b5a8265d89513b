"""A full disk never loses data: events wait in memory, MQTT messages stay unacked, writes resume."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_service import PATIENCE_S, Publisher, home_config, plug, stored, wait_for

from gateway.config import parse_config_text
from gateway.service import Gateway


async def test_full_database_keeps_events_until_space_returns(mosquitto, tmp_path: Path) -> None:
    cfg = parse_config_text(home_config(mosquitto.port, "gw-full"), "home.yaml")
    gw = Gateway(cfg, tmp_path / "h.sqlite3", commit_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    p = Publisher(mosquitto.port, "z2m-full")
    try:
        p.pub("zigbee2mqtt/kitchen/kettle", plug(2000.0))
        await wait_for(lambda: gw.stats.events == 1)
        await gw.flushed(PATIENCE_S)
        assert gw.unacked_messages == 0
        await gw.in_db(gw.store.set_max_bytes, 4096)  # the card is now full: SQLite says so on write
        watts = [0.0, 2000.0] * 60
        for w in watts:
            p.pub("zigbee2mqtt/kitchen/kettle", plug(w))
        await wait_for(lambda: gw.stats.events == 1 + len(watts) and gw.stats.storage_errors >= 1)
        assert not task.done()  # still running
        # the card is still full: what could not be written is held (in memory, unacked at the broker)
        kept = await gw.in_db(gw.store.count_events)
        assert kept < 1 + len(watts)
        assert gw.unacked_messages == 1 + len(watts) - kept  # one message per event: none acked unstored
        await gw.in_db(gw.store.set_max_bytes, None)  # space freed
        await gw.flushed(PATIENCE_S)
        assert gw.unacked_messages == 0
    finally:
        p.close()
        stop.set()
        await task
    assert [v for _s, v in stored(tmp_path / "h.sqlite3")] == [True] + [False, True] * 60
