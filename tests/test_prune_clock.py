"""Old raw events are pruned only by a clock Hearth trusts, and never those stamped before the clock was set.

A Pi has no real-time clock: it boots in 1970 until network time arrives, and a clock set years ahead
would make every event 'old'. The fault audit found events stored before the clock was set (1970) deleted
at the next prune; and nothing kept the pruner from judging ages by an unset clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_service import home_config, wait_for

import gateway.service
from gateway.clock import ClockWatch
from gateway.clocktrust import ClockTrust
from gateway.config import parse_config_text
from gateway.service import Gateway
from gateway.storage import Store
from sensors.events import SensorEvent, SensorKind

DOOR = "0x00158d0001a2b3c4"


def _seed(db: Path) -> list[SensorEvent]:
    """A 1970 event (the clock not set), one a year old, one from today."""
    now = datetime.now(UTC)
    evs = [SensorEvent(datetime(1970, 1, 1, 0, 5, tzinfo=UTC), DOOR, SensorKind.CONTACT, True, "zigbee2mqtt"),
           SensorEvent(now - timedelta(days=365), DOOR, SensorKind.CONTACT, False, "zigbee2mqtt"),
           SensorEvent(now - timedelta(minutes=5), DOOR, SensorKind.CONTACT, True, "zigbee2mqtt")]
    with Store(db) as s:
        s.add_events(evs)
        s.commit()
    return evs


def _events(db: Path) -> list[SensorEvent]:
    with Store(db) as s:
        return s.events()


def test_an_event_stamped_before_the_clock_was_set_is_never_pruned_as_old(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    unset, _a_year_old, recent = _seed(db)
    with Store(db, retention_days=90) as s:
        assert s.prune(datetime.now(UTC)) == 1
        s.commit()
        assert s.events() == [unset, recent]


async def test_the_pruner_waits_for_a_trusted_clock(mosquitto, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(gateway.service, "PRUNE_RETRY_S", 0.05)  # (how often it looks again, not a deadline)
    db = tmp_path / "h.sqlite3"
    unset, old, recent = _seed(db)
    synced = False
    trust = ClockTrust(ClockWatch(synchronised=lambda: synced))
    gw = Gateway(parse_config_text(home_config(mosquitto.port, "gw-prune"), "home.yaml"), db, commit_s=0.05,
                 clock_trust=trust)
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    try:
        await asyncio.wait_for(gw.ready.wait(), 60)
        await wait_for(lambda: gw.stats.prune_skipped >= 3)
        with Store(db) as s:
            assert old in s.events()  # not pruned by a clock not yet synchronised
        synced = True
        await wait_for(lambda: old not in _events(db))
        with Store(db) as s:
            assert s.events()[0] == unset and recent in s.events()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
