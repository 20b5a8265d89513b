"""Clock jumps: the wall clock steps three days forward, then an hour back, while events flow.

A Pi has no real-time clock: a wrong NTP answer, a fake-hwclock restored after a power cut, or a
technician's `date -s` moves wall time while monotonic time runs on. The gateway must store every event,
raise no care alert for the time it did not watch (three days forward is not three days of stillness;
an hour back is not an hour to judge again), and go back to judging once the clock has settled.

This scenario runs the gateway in-process (``gateway.service.Gateway``, as the project's own tests do)
with a wall clock the scenario steps, a real mosquitto and a QoS 1 publisher; the system clock of this
machine is never touched.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from benchmarks.reliability_rig import (
    ROLES,
    Mosquitto,
    Publisher,
    Row,
    count_events,
    home_config,
    sensor_name,
)

HOMES = 4
DAY_S = 86400.0


class SteppableClock:
    """Real monotonic time; wall time = real wall time + an offset the scenario changes (a step)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep_s(self, simulated_seconds: float) -> float:
        return simulated_seconds


async def _scenario(work: Path, port: int, per_phase: int, settle_s: float) -> dict[str, object]:
    from gateway.clock import ClockWatch
    from gateway.clocktrust import ClockTrust
    from gateway.config import parse_config_text
    from gateway.service import Gateway
    from routines.alert import Audience

    cfg = parse_config_text(yaml.safe_dump(home_config(port, "rel-clock", HOMES, None, work)), "home.yaml")
    clock = SteppableClock()
    trust = ClockTrust(ClockWatch(synchronised=lambda: True, settle_s=settle_s))
    gw = Gateway(cfg, work / "hearth.sqlite3", clock, clock_trust=trust, tick_s=0.2)  # type: ignore[arg-type]
    care: list[object] = []
    gw.on_alert = lambda a: care.append(a) if a.audience == Audience.CARE else None
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    await asyncio.wait_for(gw.ready.wait(), 30)
    while not gw.link.subscribed:  # noqa: ASYNC110 - a flag paho's thread sets
        await asyncio.sleep(0.05)
    pub = Publisher(port, "rel-clock-z2m")
    names = [sensor_name(h, r) for h in range(HOMES) for r in ROLES]
    recover: list[float] = []
    try:
        for step in (0.0, 3 * DAY_S, -3600.0):
            clock.offset += step
            stepped = time.monotonic()
            for i in range(per_phase):
                pub.contact(names[i % len(names)])
                await asyncio.sleep(0.01)
            if step > 0:  # forward: judging resumes once the clock has settled
                while not gw.stats.clock.startswith("clock trusted") and time.monotonic() - stepped < settle_s * 5:
                    await asyncio.sleep(0.1)
                    pub.contact(names[0])  # judging resumes on the next event once settled
                recover.append(time.monotonic() - stepped)
        while count_events(gw.db_path) < pub.published and not task.done():
            await asyncio.sleep(0.1)
            await gw.flushed(30)
    finally:
        pub.close()
        stop.set()
        await task
    return {"published": pub.published, "stored": count_events(gw.db_path), "care": len(care),
            "jumps": len(trust.watch.jumps), "recover": recover, "clock": gw.stats.clock}


def clock_jumps(per_phase: int = 40, settle_s: float = 60.0) -> list[Row]:
    """Three days forward, then an hour back, ``per_phase`` events around each step."""
    work = Path(tempfile.mkdtemp(prefix="hearth-rel-clock-"))
    broker = Mosquitto(work / "broker")
    broker.start()
    try:
        got = asyncio.run(_scenario(work, broker.port, per_phase, settle_s))
    finally:
        broker.stop()
    name = "clock jumps 3 days forward, then 1 h back"
    lost = int(got["published"]) - int(got["stored"])
    recover = got["recover"]
    assert isinstance(recover, list)
    # An hour back is an hour already judged: judging is held until wall time passes it again (the
    # gateway's own words for it are the last figure), so it has no recovery time of its own here.
    return [Row(name, "events lost", f"{lost} of {got['published']}", "0", lost == 0),
            Row(name, "care alerts for the unwatched time", str(got["care"]), "0", got["care"] == 0),
            Row(name, "clock steps detected", f"{got['jumps']} of 2", "2", got["jumps"] == 2),
            Row(name, "time to recover (forward step)", f"{recover[0]:.0f} s to judging again" if recover
                else "never", f"the settle time, {settle_s:.0f} s", bool(recover)),
            Row(name, "after the backward step", str(got["clock"]), "holding judgement",
                not str(got["clock"]).startswith("clock trusted"))]
