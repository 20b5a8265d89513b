"""The outbox survives SIGKILL mid-delivery: a real gateway process, a real HTTP receiver, nothing lost or doubled.

The test runs this file as a worker process (``python test_outbox_crash.py worker CONFIG DB``) that
submits the same alerts every time it starts and sends through the real webhook notifier; the receiver
(aiohttp on loopback, here) holds requests unanswered at chosen moments, and the test SIGKILLs the
worker while they hang. The receiver, like any well-behaved webhook consumer, drops a repeated
``Idempotency-Key``; the test checks every message reached it, that the only repeats are the requests
that were in flight at a kill, and that every row ends ``sent``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

N_ALERTS = 12
SECRET = "crash-test-secret-0123456789"

CONFIG = """\
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - {{id: sam, name: Sam, group: team, webhook: {{url: "{url}/sam", secret_env: HEARTH_TEST_HOOK}}}}
  - {{id: kim, name: Kim, group: team, webhook: {{url: "{url}/kim", secret_env: HEARTH_TEST_HOOK}}}}
consent:
  - {{person: p1, recipient: sam, receives: [concern]}}
  - {{person: p1, recipient: kim, receives: [concern]}}
"""


def alerts() -> list:
    from routines.alert import Alert, Audience, Severity
    t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return [Alert(t, "p1", "fridge_idle", Severity.WARNING, Audience.CARE, f"Concern number {i}.", key=f"p1:c{i}")
            for i in range(N_ALERTS)]


async def worker(config_path: str, db_path: str) -> int:
    from alerts.delivery import AlertDelivery
    from alerts.notifiers.webhook import WebhookNotifier
    from gateway.config import load_config
    from gateway.timebase import Clock

    hook = WebhookNotifier(home="test")
    delivery = AlertDelivery(load_config(config_path), db_path, {"webhook": hook}, Clock(), max_parallel_sends=3)
    for a in alerts():
        delivery.submit(a)  # the same alerts on every start: idempotent by message id
    while delivery.outbox.counts().get("pending", 0) or delivery.outbox.counts().get("sending", 0):
        await delivery.tick()
        await asyncio.sleep(0.01)
    await hook.close()
    delivery.close()
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    sys.exit(asyncio.run(worker(sys.argv[2], sys.argv[3])))


# ---- the test -----------------------------------------------------------------------------------

from aiohttp import web  # noqa: E402

from alerts.notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature  # noqa: E402
from alerts.outbox import Outbox  # noqa: E402


class Receiver:
    """A webhook consumer that checks signatures, drops repeated Idempotency-Keys, and can hang on demand."""

    def __init__(self) -> None:
        self.first: dict[str, dict] = {}
        self.repeats: list[str] = []
        self.bad_signatures = 0
        self.hang_from: int | None = None
        self.arrivals = 0
        self.hanging: set[str] = set()
        self.in_flight = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = datetime.now(UTC).timestamp()
        if not verify_signature(SECRET.encode(), body, request.headers.get(TIMESTAMP_HEADER),
                                request.headers.get(SIGNATURE_HEADER), now=now):
            self.bad_signatures += 1
            return web.Response(status=401)
        key = request.headers["Idempotency-Key"]
        self.arrivals += 1
        if key in self.first:
            self.repeats.append(key)
        else:
            self.first[key] = json.loads(body) | {"path": request.path}
        if self.hang_from is not None and self.arrivals >= self.hang_from:
            self.hanging.add(key)  # processed, but the answer never leaves before the kill
            self.in_flight.set()
            await self.release.wait()
        return web.Response(text="ok")


async def test_sigkill_mid_delivery_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{who}", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    config = tmp_path / "home.yaml"
    config.write_text(CONFIG.format(url=f"http://127.0.0.1:{port}"))
    db = tmp_path / "hearth.sqlite3"
    env = os.environ | {"HEARTH_TEST_HOOK": SECRET}
    in_flight_at_kill: set[str] = set()
    try:
        for hang_from in (4, 11, 17, None):  # three kills, then a run to the end
            receiver.hang_from = hang_from
            proc = await asyncio.create_subprocess_exec(sys.executable, __file__, "worker", str(config), str(db),
                                                        env=env, cwd=Path(__file__).parent.parent)
            if hang_from is None:
                assert await asyncio.wait_for(proc.wait(), 60) == 0
                break
            await asyncio.wait_for(receiver.in_flight.wait(), 60)
            await asyncio.sleep(0.2)  # let the other parallel sends arrive and hang too
            proc.send_signal(signal.SIGKILL)
            assert await proc.wait() == -signal.SIGKILL
            in_flight_at_kill |= receiver.hanging
            receiver.hanging = set()
            receiver.in_flight.clear()
            receiver.release.set()
            receiver.release = asyncio.Event()
    finally:
        receiver.release.set()
        await runner.cleanup()

    box = Outbox(db)
    rows = box.all()
    assert len(rows) == 2 * N_ALERTS
    assert {r.state for r in rows} == {"sent"}
    assert set(receiver.first) == {r.message.message_id for r in rows}  # every message arrived
    assert sorted(receiver.first[r.message.message_id]["path"] for r in rows) == ["/kim"] * N_ALERTS + ["/sam"] * N_ALERTS
    assert receiver.bad_signatures == 0
    # The only repeats are the requests that were hanging when the worker died, each at most once per kill.
    assert in_flight_at_kill and set(receiver.repeats) <= in_flight_at_kill
    assert len(receiver.repeats) <= len(in_flight_at_kill)
    for r in rows:  # a repeat is always a second attempt of a row that was mid-send, never of a sent one
        assert r.attempts >= 1 + receiver.repeats.count(r.message.message_id)
