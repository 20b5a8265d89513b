"""`hearth run --with-hub` (what scripts/demo.sh runs): three simulated homes feed one hub through the
local broker, and the worker account the banner prints signs in and sees all three people."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import aiohttp

from tests.conftest import PATIENCE_S
from tests.hub_support import Browserless

ROOT = Path(__file__).resolve().parents[1]


async def test_the_demo_banner_names_the_hub_and_a_worker_who_sees_three_homes() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "--log-level", "WARNING", "run", "--with-hub", "--for-seconds", "60",
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    banner = ""
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(PATIENCE_S):
            while "(technician)" not in banner:
                line = await proc.stderr.readline()
                assert line, f"the demo ended before its banner was complete:\n{banner}"
                banner += line.decode()
        hub_url = re.search(r"hub:\s+(http://\S+)", banner).group(1)
        worker = re.search(r"(\S+) / (\S+)\s+\(worker\)", banner)
        assert "three homes: Ann (demo-home), Bob (bob-home), Cyd (cyd-home)" in banner
        client = Browserless(hub_url)
        try:
            for _ in range(int(PATIENCE_S / 0.2)):  # the hub's pages start listening just after the banner
                try:
                    if await client.sign_in(worker.group(1), worker.group(2)) == 303:
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
            for _ in range(int(PATIENCE_S / 0.2)):  # every home sends its first heartbeat as its uplink connects
                people = (await client.get("/api/board"))[1]["people"]
                if len(people) == 3:
                    break
                await asyncio.sleep(0.2)
        finally:
            await client.close()
        assert sorted(p["name"] for p in people) == ["Ann", "Bob", "Cyd"]
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
