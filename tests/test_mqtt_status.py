"""What the broker link tells a technician when it cannot connect: refused, or the login refused.

Real parts: a port where nothing listens, and a real mosquitto that wants a password (password_file).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import re
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from alerts.pause import PauseStore
from gateway.config import parse_config_text
from gateway.mqtt import MqttLink, describe_os_error
from gateway.privacy import apply_privacy_switch
from gateway.service import Gateway
from sensors.events import SensorEvent, SensorKind
from tests.conftest import Mosquitto, free_port
from tests.test_service import home_config, wait_for

PASSWORD = "s3cret-Wrong-pw"  # what the gateway is (wrongly) configured with; must never be shown


async def test_refused_status_says_so_and_when_paho_retries(caplog: pytest.LogCaptureFixture) -> None:
    """The announced retry is paho's real one: the second attempt comes when the status said it would."""
    caplog.set_level(logging.DEBUG, logger="hearth.mqtt")
    port = free_port()
    problem = f"cannot reach broker 127.0.0.1:{port}: connection refused (is the broker running, on that port?)"
    link = MqttLink("127.0.0.1", port, ["zigbee2mqtt/#"], client_id="status-refused")
    # Seen from paho's own thread, as it happens: what the status says right after each refusal, when it
    # said paho would retry, when paho really began each attempt, and the backoff waits paho chose
    # before it (its own _reconnect_wait, which the link mirrors). The test's own loop may look much
    # later on a busy machine; the countdown would then have moved on (or the next attempt begun).
    said: list[tuple[str, float | None]] = []
    began: list[tuple[float, list[float]]] = []
    waits: list[float] = []
    client = link._client
    on_fail, on_pre, reconnect_wait = client.on_connect_fail, client.on_pre_connect, client._reconnect_wait

    def failed(*args: object) -> None:
        on_fail(*args)
        said.append((link.status, link._retry_at))

    def beginning(*args: object) -> None:
        began.append((time.monotonic(), list(waits)))
        waits.clear()
        on_pre(*args)

    def waiting() -> None:
        reconnect_wait()
        waits.append(client._reconnect_delay)

    client.on_connect_fail, client.on_pre_connect, client._reconnect_wait = failed, beginning, waiting
    await link.start()
    try:
        await wait_for(lambda: len(said) >= 2)
        assert not link.connected
    finally:
        await link.stop()
    assert [text for text, _ in said[:2]] == [f"{problem}; 1 failed attempt, retrying in 3 s",
                                              f"{problem}; 2 failed attempts, retrying in 4 s"]
    # the second attempt began when the first status said it would: paho waited exactly the announced
    # 3 s of backoff before it (1 s, then 2 s), and began it no earlier than announced
    announced = said[0][1]
    assert began[1][1] == [1, 2], began  # 1 s + 2 s: the 3 s the status announced
    assert announced is not None and announced <= began[1][0], (announced, began)
    # logged once as a warning when it began; the repeat of the same problem only at debug level
    warnings = [r.getMessage() for r in caplog.records if r.name == "hearth.mqtt" and r.levelno == logging.WARNING]
    assert warnings == [f"{problem}; retrying in 3 s"]
    assert link.status == "stopped"


async def test_wrong_broker_password_is_named_and_never_shown(password_broker: Mosquitto, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = tmp_path / "mqtt_password"
    secret.write_text(PASSWORD + "\n")
    text = home_config(password_broker.port, "gw-badlogin").replace(
        "client_id: gw-badlogin}", f"client_id: gw-badlogin, username: hearth, password_file: {secret}}}")
    gw = Gateway(parse_config_text(text, "home.yaml"), tmp_path / "h.sqlite3")
    stop = asyncio.Event()
    task = asyncio.create_task(gw.run(stop))
    login = (f"broker 127.0.0.1:{password_broker.port} refused the login as 'hearth': not authorised "
             "(wrong user name or password?); check broker.username and broker.password_file / password_env; ")
    try:
        await asyncio.wait_for(gw.ready.wait(), 60)
        # the refusal is followed by paho's disconnect and a retry 1 s later: the reason must survive both
        await wait_for(lambda: gw.link.failed_attempts >= 2)
        # read once: paho's thread moves on meanwhile (between a refusal and its disconnect, or once the
        # next attempt has begun, the status says "retrying now"; the count may have grown)
        status = gw.link.status
        assert re.fullmatch(re.escape(login) + r"\d+ failed attempts, retrying (in \d+ s|now)", status), status
        async with aiohttp.ClientSession() as http, http.get(gw.console_url + "api/status") as r:
            shown = await r.text()
        assert not gw.link.connected and not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    assert login in json.loads(shown)["broker"]["status"]
    logged = caplog.text + "".join(str(getattr(r, "ctx", "")) for r in caplog.records)
    assert "refused the login as 'hearth'" in logged
    assert PASSWORD not in shown and PASSWORD not in logged


async def test_the_right_password_connects(password_broker: Mosquitto) -> None:
    link = MqttLink("127.0.0.1", password_broker.port, ["zigbee2mqtt/#"], client_id="status-goodlogin",
                    username="hearth", password="right-password")
    await link.start()
    try:
        await wait_for(lambda: link.connected)
        assert (link.status, link.failed_attempts) == (f"connected to 127.0.0.1:{password_broker.port}", 0)
    finally:
        await link.stop()


@pytest.mark.parametrize(("exc", "words"), [
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
     "connection refused (is the broker running, on that port?)"),
    (TimeoutError("timed out"), "no answer (timed out): wrong address, or a firewall?"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "host name not found (Name or service not known)"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "host unreachable (is it on this network?)"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable (is the Pi's network up?)"),
    (OSError(errno.EACCES, "Permission denied"), "Permission denied"),
    (None, "connection failed"),
])
def test_connect_errors_in_words(exc: BaseException | None, words: str) -> None:
    assert describe_os_error(exc) == words


def test_switching_the_privacy_lamp_off_wakes_delivery(tmp_path: Path) -> None:
    """Ending a pause makes the note about held urgent alerts due: the switch wakes the sender for it."""
    pauses = PauseStore(tmp_path / "h.sqlite3")
    woken: list[str] = []
    t0 = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)

    def switch(on: bool, minute: int) -> str:
        event = SensorEvent(t0.replace(minute=minute), "privacy", SensorKind.PLUG, 40.0 if on else 0.0, "zigbee2mqtt")
        return apply_privacy_switch(pauses, "p1", "privacy", event, wake=lambda: woken.append(f"{minute}"))

    try:
        assert [switch(True, 1), switch(False, 2), switch(False, 3)] == ["paused", "resumed", "not paused"]
    finally:
        pauses.close()
    assert woken == ["2"]  # only when a pause really ended
