"""A local MQTT broker for the demo home: mosquitto when installed, else amqtt inside the process.

A real install uses the system's mosquitto (deploy/raspberrypi); this is only for `hearth run` with no
config, so a newcomer sees the whole path work with nothing set up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import tempfile
from pathlib import Path

log = logging.getLogger("hearth.broker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None)


class LocalBroker:
    """Start with :meth:`start`, stop with :meth:`stop`. ``kind`` says which broker runs."""

    def __init__(self, port: int = 0):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.kind = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._amqtt = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    async def start(self) -> None:
        binary = mosquitto_binary()
        if binary:
            self._dir = tempfile.TemporaryDirectory(prefix="hearth-broker-")
            conf = Path(self._dir.name) / "mosquitto.conf"
            conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                            f"persistence true\npersistence_location {self._dir.name}/\nlog_dest none\n"
                            # as root mosquitto would drop to a user that cannot write this temp dir
                            + ("user root\n" if os.geteuid() == 0 else ""))
            self._proc = await asyncio.create_subprocess_exec(
                binary, "-c", str(conf), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            self.kind = "mosquitto"
        else:
            from amqtt.broker import Broker

            self._amqtt = Broker({
                "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
                "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
            })
            await self._amqtt.start()
            self.kind = "amqtt (embedded)"
        await self._wait_listening()
        log.info("local broker started", extra={"ctx": {"broker": self.kind, "port": self.port}})

    async def _wait_listening(self) -> None:
        for _ in range(200):
            try:
                _r, w = await asyncio.open_connection(self.host, self.port)
                w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()
                return
            except OSError:
                if self._proc is not None and self._proc.returncode is not None:
                    raise RuntimeError("mosquitto exited at start") from None
                await asyncio.sleep(0.05)
        raise RuntimeError(f"local broker did not listen on port {self.port}")

    async def stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
            self._proc = None
        if self._amqtt is not None:
            await self._amqtt.shutdown()
            self._amqtt = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
