"""gateway.systemd against a real AF_UNIX datagram socket standing in for systemd's notify socket."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import systemd


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def fields(datagram: bytes) -> dict[str, str]:
    return dict(line.split("=", 1) for line in datagram.decode().splitlines())


def test_ready_status_stopping_reach_the_socket(notify_socket: socket.socket) -> None:
    assert systemd.notify_ready("listening\non 127.0.0.1:1883")
    assert fields(notify_socket.recv(4096)) == {
        "READY": "1", "STATUS": "listening on 127.0.0.1:1883", "MAINPID": str(os.getpid()),
    }
    assert systemd.notify_status("3 sensors")
    assert notify_socket.recv(4096) == b"STATUS=3 sensors"
    assert systemd.notify_stopping()
    assert notify_socket.recv(4096) == b"STOPPING=1"


def test_abstract_namespace_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"hearth-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify_ready()
        assert fields(sock.recv(4096))["READY"] == "1"


def test_everything_is_a_noop_without_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    assert systemd.notify_ready() is False
    assert systemd.notify_status("x") is False
    assert systemd.notify_stopping() is False
    # returns at once instead of looping forever
    asyncio.run(asyncio.wait_for(systemd.watchdog_pinger(), 60))


def test_socket_gone_does_not_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    assert systemd.notify_ready() is False


@pytest.mark.parametrize(("usec", "pid", "expected"), [
    ("20000000", "self", 10.0),
    ("20000000", None, 10.0),
    ("20000000", "1", None),   # variables inherited from a parent process are not for us
    ("0", "self", None),
    ("junk", "self", None),
    (None, None, None),
])
def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None,
                           expected: float | None) -> None:
    for key, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, str(os.getpid()) if value == "self" else value)
    assert systemd.watchdog_interval() == expected


async def test_pinger_pings_while_loop_runs_and_stops_when_loop_is_stuck(
        notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # WatchdogSec=0.1 s -> a ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notify_socket.setblocking(False)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(systemd.watchdog_pinger())
    try:
        for _ in range(3):
            assert await asyncio.wait_for(loop.sock_recv(notify_socket, 64), 60) == b"WATCHDOG=1"
        while True:  # drain anything already queued
            try:
                notify_socket.recv(64)
            except BlockingIOError:
                break
        time.sleep(0.3)  # noqa: ASYNC251 -- on purpose: the loop is stuck for six ping intervals: nothing may be sent meanwhile
        with pytest.raises(BlockingIOError):
            notify_socket.recv(64)
        # once the loop runs again, so do the pings
        assert await asyncio.wait_for(loop.sock_recv(notify_socket, 64), 60) == b"WATCHDOG=1"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_pinger_withholds_pings_while_unhealthy(
        notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    notify_socket.setblocking(False)
    loop = asyncio.get_running_loop()
    state = {"healthy": False, "asked": 0}

    def healthy() -> bool:
        state["asked"] += 1
        if state["asked"] >= 4:
            state["healthy"] = True
        return state["healthy"]

    task = asyncio.create_task(systemd.watchdog_pinger(healthy))
    try:
        assert await asyncio.wait_for(loop.sock_recv(notify_socket, 64), 60) == b"WATCHDOG=1"
        assert state["asked"] == 4  # the first three (unhealthy) rounds sent nothing
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
