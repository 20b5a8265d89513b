"""A full disk: what was handled is held in memory up to a bound, then intake pauses (the broker keeps
the rest) and judging stops; once a little space is freed the backlog goes in chunk by chunk, and once
enough is freed everything arrives, in order, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from test_service import PATIENCE_S, Publisher, home_config, plug, stored, wait_for

import gateway.service
from gateway.config import parse_config_text
from gateway.service import Gateway

HOLD, CHUNK = 40, 8


def pages(db: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute("PRAGMA page_count").fetchone()[0], c.execute("PRAGMA page_size").fetchone()[0]


async def test_full_disk_holds_a_bounded_backlog_then_pauses_intake_and_commits_in_chunks(
        mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway.service, "HOLD_MAX", HOLD)
    monkeypatch.setattr(gateway.service, "CHUNK", CHUNK)
    db = tmp_path / "h.sqlite3"
    gw = Gateway(parse_config_text(home_config(mosquitto.port, "gw-hold"), "home.yaml"), db, commit_s=0.05,
                 tick_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 60)
    await wait_for(lambda: gw.link.subscribed)
    p = Publisher(mosquitto.port, "z2m-hold")
    watts = [2000.0, 0.0] * 100
    try:
        p.pub("zigbee2mqtt/kitchen/kettle", plug(0.0))  # the kettle starts off
        await wait_for(lambda: gw.stats.messages == 1)
        await gw.flushed(PATIENCE_S)
        await gw.in_db(gw.store.set_max_bytes, 4096)  # the card is full now
        for w in watts:
            p.c.publish("zigbee2mqtt/kitchen/kettle", plug(w), qos=1)
        await wait_for(lambda: gw.stats.intake_paused)
        assert gw.stats.held_items <= HOLD + 3  # one message's items past the bound at most
        assert gw.stats.messages < 1 + len(watts)  # the rest wait at the broker, not in our memory
        assert any(p.startswith("storage full:") for p in gw.problems())
        assert not task.done() and gw.healthy()  # reported, not a reason for the watchdog to restart us
        before = len(stored(db))
        count, size = pages(db)
        await gw.in_db(gw.store.set_max_bytes, (count + 1) * size)  # one page freed: too little for all
        await wait_for(lambda: len(stored(db)) > before)  # ... but chunks of it go in
        await gw.in_db(gw.store.set_max_bytes, None)  # space freed
        await wait_for(lambda: gw.stats.messages == 1 + len(watts) and not gw.stats.intake_paused)
        await gw.flushed(PATIENCE_S)
        # (this machine's clock may say "not synchronised", a problem of its own, not this test's)
        assert gw.unacked_messages == 0 and gw.stats.held_items == 0
        assert [p for p in gw.problems() if not p.startswith("clock ")] == []
    finally:
        p.close()
        stop.set()
        await task
    assert [v for _s, v in stored(db)] == [False] + [w > 1000 for w in watts]
