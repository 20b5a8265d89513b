"""Exactly once towards receivers across crashes: a gateway's alerting, SIGKILLed 50-100 ms after raising
10 alerts and started again (raising them again, later, as the routine core does after a restart), never
sends one alert to one recipient under two idempotency keys, on a webhook or as two ntfy notifications.

The worker is this file run as a process (``python test_delivery_crash_ids.py worker CONFIG DB``) with the
gateway's own :class:`gateway.alerting.Alerting` (policy, outbox, the policy keeper, the real webhook and
ntfy notifiers); the receivers are a webhook consumer and the test ntfy server on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import defaultdict
from pathlib import Path

N_ALERTS = 10
SECRET = "crash-ids-secret-0123456789"

CONFIG = """\
name: crash-home
timezone: Europe/London
people: [{{id: p1, name: Ann}}]
recipients:
  - {{id: sam, name: Sam, group: team, webhook: {{url: "{hook}/sam", secret_env: HEARTH_TEST_HOOK}}}}
  - {{id: kim, name: Kim, group: team, ntfy: {{server: "{ntfy}", topic: kim-alerts, allow_http: true}}}}
consent:
  - {{person: p1, recipient: sam, receives: [concern]}}
  - {{person: p1, recipient: kim, receives: [concern]}}
"""


async def worker(config_path: str, db_path: str) -> int:
    from gateway.alerting import Alerting
    from gateway.config import load_config
    from gateway.timebase import Clock
    from routines.alert import Alert, Audience, Severity
    from tests.test_digest_schedule import wait_until

    clock = Clock()
    alerting = Alerting(load_config(config_path), Path(db_path), clock)
    tasks = [asyncio.create_task(run()) for run in alerting.tasks()]
    now = clock.now()  # a later time on every start, as when the routine core raises them again
    for i in range(N_ALERTS):
        alerting.submit(Alert(now, "p1", "fridge_idle", Severity.WARNING, Audience.CARE, f"Concern number {i}.",
                              key=f"p1:fridge_idle:{i}"))
    print("raised", flush=True)
    box = alerting.delivery.outbox

    def all_sent() -> bool:
        return (not alerting.delivery.queue.qsize() and len(box.all()) == 2 * N_ALERTS
                and set(box.counts()) == {"sent"})

    await wait_until(all_sent, within=50)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await alerting.close()
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    sys.exit(asyncio.run(worker(sys.argv[2], sys.argv[3])))


# ---- the test -----------------------------------------------------------------------------------

import json  # noqa: E402

from aiohttp import web  # noqa: E402

from tests.ntfy_server import NtfyServer  # noqa: E402


async def test_a_crash_after_raising_repeats_alerts_only_under_the_same_keys(tmp_path: Path) -> None:
    keys: dict[tuple[str, str], set[str]] = defaultdict(set)  # (alert_key, path) -> Idempotency-Keys seen

    async def hook(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        keys[(body["alert_key"], request.path)].add(request.headers["Idempotency-Key"])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{who}", hook)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    db = tmp_path / "hearth.sqlite3"
    root = Path(__file__).parent.parent  # the worker imports this checkout, not an installed copy
    env = os.environ | {"HEARTH_TEST_HOOK": SECRET, "PYTHONPATH": str(root)}
    async with NtfyServer() as ntfy:
        config = tmp_path / "home.yaml"
        config.write_text(CONFIG.format(hook=f"http://127.0.0.1:{port}", ntfy=ntfy.url))
        returncodes: list[int] = []
        try:
            for delay in (0.05, 0.075, 0.1, None):  # three kills after raising, then a run to the end
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "worker", str(config), str(db), env=env,
                    cwd=root, stdout=asyncio.subprocess.PIPE)
                assert proc.stdout is not None
                assert await asyncio.wait_for(proc.stdout.readline(), 60) == b"raised\n"
                if delay is None:
                    assert await asyncio.wait_for(proc.wait(), 60) == 0
                    break
                await asyncio.sleep(delay)
                # on a quick machine a later start may find everything already sent and end by itself
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGKILL)
                returncodes.append(await proc.wait())
                assert returncodes[-1] in (0, -signal.SIGKILL)
        finally:
            await runner.cleanup()
        assert -signal.SIGKILL in returncodes  # at least one start was killed, not ended by itself
        kim = ntfy.topic_messages("kim-alerts")
        shown = ntfy.displayed("kim-alerts")

    # every alert reached Sam's webhook, each under exactly one idempotency key
    assert sorted(keys) == sorted((f"p1:fridge_idle:{i}", "/sam") for i in range(N_ALERTS))
    assert all(len(k) == 1 for k in keys.values()), {a: k for a, k in keys.items() if len(k) > 1}
    # and Kim's phone: a repeat, if any, carries the same sequence id, so each alert shows once
    sequence_ids: dict[str, set[str]] = defaultdict(set)
    for m in kim:
        sequence_ids[m["message"]].add(m["sequence_id"])
    assert sorted(sequence_ids) == sorted(f"Concern number {i}." for i in range(N_ALERTS))
    assert all(len(s) == 1 for s in sequence_ids.values())
    assert sorted(m["message"] for m in shown) == sorted(sequence_ids)
