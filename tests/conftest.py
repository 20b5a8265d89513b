"""Shared fixtures: a real mosquitto broker on a free loopback port, restartable."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.broker import free_port

FIXTURES = Path(__file__).parent / "fixtures"


def _mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not found:
        pytest.fail("mosquitto is not installed: run `bash scripts/setup.sh --test` (it installs it with apt-get)")
    return found


class Mosquitto:
    """A real mosquitto on 127.0.0.1:<port> with persistence, so QoS 1 sessions survive a restart."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.host = "127.0.0.1"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "autosave_interval 1\n"
            f"log_dest file {workdir}/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "max_queued_messages 10000\n"
            # As root, mosquitto drops to the `mosquitto` user, which cannot write this temp dir:
            # persistence (and so sessions across a restart) would silently not happen.
            + ("user root\n" if os.geteuid() == 0 else "")
        )

    def start(self) -> None:
        self.proc = subprocess.Popen([_mosquitto_binary(), "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: see {self.workdir}/mosquitto.log") from None
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening within 10 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One real broker for the whole session (tests use their own topics / client ids)."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test's own, for tests that stop and restart it."""
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """mosquitto with ``allow_anonymous false`` and a password_file holding hearth / right-password."""
    broker = Mosquitto(tmp_path / "pw-broker")
    pwfile = tmp_path / "pw-broker" / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), "hearth", "right-password"], check=True)
    broker.conf.write_text(broker.conf.read_text().replace("allow_anonymous true",
                                                           f"allow_anonymous false\npassword_file {pwfile}"))
    broker.start()
    yield broker
    broker.stop()
