"""Talk to systemd from the gateway: readiness, status, stopping, and the watchdog (pure stdlib).

systemd's ``sd_notify`` protocol is one datagram of ``KEY=value`` lines sent to the AF_UNIX socket
named by ``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace). Without that
variable (tests, a technician running ``hearth run`` by hand) every function here is a safe no-op
that returns ``False``.

How ``hearth run`` uses it::

    notify_ready()                       # after config, storage and broker are up
    tasks.append(asyncio.create_task(watchdog_pinger()))
    notify_status("3 sensors, last event 07:41")
    ...
    notify_stopping()                    # first thing on SIGTERM

The watchdog pinger is a coroutine on the gateway's own event loop, never a thread: when the loop
is stuck (a blocking call, a deadlock) the pings stop, ``WatchdogSec`` runs out and systemd restarts
the service. That is the point of it.

>>> import os; os.environ.pop("NOTIFY_SOCKET", None) and None
>>> notify_ready()
False
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)

__all__ = ["notify", "notify_ready", "notify_status", "notify_stopping", "watchdog_interval", "watchdog_pinger"]


def _address(value: str) -> str | bytes | None:
    """The socket address for ``$NOTIFY_SOCKET``: a path, or ``@name`` meaning the abstract namespace."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock and other forms are not used on a Pi


def notify(*fields: str) -> bool:
    """Send ``KEY=value`` fields to systemd in one datagram. Returns ``True`` if it was sent.

    Never raises: a lost notification must not take the gateway down (systemd will time out and
    say so in the journal, which is the right place for that problem to show).
    """
    addr = _address(os.environ.get("NOTIFY_SOCKET", ""))
    if addr is None:
        return False
    message = "\n".join(fields).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)  # a datagram to systemd never waits; never block the loop
            sock.sendto(message, addr)
        return True
    except OSError as exc:
        log.warning("could not notify systemd", extra={"ctx": {"error": exc.strerror or str(exc)}})
        return False


def notify_ready(status: str | None = None) -> bool:
    """Tell systemd start-up is done (``Type=notify`` waits for this before counting the unit as started)."""
    fields = ["READY=1"]
    if status:
        fields.append(f"STATUS={_one_line(status)}")
    fields.append(f"MAINPID={os.getpid()}")
    return notify(*fields)


def notify_status(text: str) -> bool:
    """Set the one-line status shown by ``systemctl status hearth``."""
    return notify(f"STATUS={_one_line(text)}")


def notify_stopping() -> bool:
    """Tell systemd a clean shutdown has begun (so a slow stop is not mistaken for a hang)."""
    return notify("STOPPING=1")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def watchdog_interval() -> float | None:
    """Seconds between pings (half of ``WatchdogSec``), or ``None`` when systemd wants no pings from us.

    systemd sets ``WATCHDOG_USEC`` and ``WATCHDOG_PID``; a PID other than ours means the variables
    were inherited from a parent and are not meant for this process.

    >>> os.environ["WATCHDOG_USEC"] = "30000000"; os.environ["WATCHDOG_PID"] = str(os.getpid())
    >>> watchdog_interval()
    15.0
    >>> del os.environ["WATCHDOG_USEC"], os.environ["WATCHDOG_PID"]
    """
    raw = os.environ.get("WATCHDOG_USEC", "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = os.environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    return usec / 2_000_000


async def watchdog_pinger(healthy: Callable[[], bool] | None = None) -> None:
    """Ping systemd's watchdog from the event loop every half ``WatchdogSec`` until cancelled.

    Returns at once (a no-op) when not under systemd's watchdog. Because it runs on the loop, a
    stuck loop stops the pings. ``healthy``, if given, is asked before each ping; returning ``False``
    (e.g. "no event has been stored for ten minutes although the broker is connected") withholds the
    ping so systemd restarts the gateway.
    """
    interval = watchdog_interval()
    if interval is None or _address(os.environ.get("NOTIFY_SOCKET", "")) is None:
        return
    while True:
        if healthy is None or healthy():
            notify("WATCHDOG=1")
        else:
            log.warning("withholding the watchdog ping: the gateway reports itself unhealthy")
        await asyncio.sleep(interval)
