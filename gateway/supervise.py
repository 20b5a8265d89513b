"""Long-lived gateway tasks, kept alive: a task that dies is logged with its error, counted, and
started again after a short backoff, so one bug can never end monitoring silently.

What each task did last is kept as a :class:`TaskRecord`; :meth:`Supervisor.report` is what the
console, ``hearth status`` and ``hearth doctor`` show (the gateway saves it in the store)::

    sup = Supervisor(clock_monotonic=time.monotonic)
    sup.start("consume", gw._consume)      # a factory: called again for each restart
    ...
    sup.report()  # {"consume": {"state": "running", "restarts": 0, "last_error": None, ...}}
    await sup.cancel_all()

The backoff doubles from 1 s to 60 s and resets once a task has run a minute without dying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("hearth.gateway")

BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 60.0
STABLE_AFTER_S = 60.0  # a task that ran this long before dying starts again at the minimum backoff
DOWN_TOO_LONG_S = 90.0  # failing again and again for longer than this: unhealthy (no watchdog ping)


@dataclass
class TaskRecord:
    """What a supervised task is doing and what last went wrong with it."""

    name: str
    state: str = "starting"  # running | restarting | finished
    restarts: int = 0
    last_error: str | None = None  # "ValueError: could not convert ... (gateway/service.py:312)"
    last_error_at: str | None = None  # wall-clock ISO time, for people
    failing_since: float | None = None  # monotonic: the first failure of the current run of failures
    running_since: float = 0.0  # monotonic: when it was last started

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "restarts": self.restarts, "last_error": self.last_error,
                "last_error_at": self.last_error_at}


def describe_exception(exc: BaseException) -> str:
    """One line: the error and where it was raised (the innermost frame), for technicians.

    >>> try:
    ...     int("x")
    ... except ValueError as e:
    ...     describe_exception(e).split(" (")[0]
    "ValueError: invalid literal for int() with base 10: 'x'"
    """
    where = ""
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        frame = tb[-1]
        where = f" ({'/'.join(frame.filename.split('/')[-2:])}:{frame.lineno})"
    text = str(exc)
    return f"{type(exc).__name__}: {text[:300]}{where}" if text else f"{type(exc).__name__}{where}"


class Supervisor:
    """Starts named task factories and restarts any that raise. Cancellation ends them for good."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic,
                 on_failure: Callable[[TaskRecord], None] | None = None) -> None:
        self._monotonic = monotonic
        self._on_failure = on_failure
        self.records: dict[str, TaskRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if name in self.records:  # two tasks of one kind (e.g. two alerting helpers): keep both apart
            name = f"{name}#{sum(n.split('#')[0] == name for n in self.records) + 1}"
        self.records[name] = TaskRecord(name)
        self._tasks[name] = asyncio.create_task(self._keep(name, factory), name=f"hearth:{name}")

    async def _keep(self, name: str, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        rec = self.records[name]
        backoff = BACKOFF_MIN_S
        while True:
            rec.state, rec.running_since = "running", self._monotonic()
            try:
                await factory()
            except asyncio.CancelledError:
                rec.state = "finished"
                raise
            except Exception as exc:
                rec.restarts += 1
                rec.last_error = describe_exception(exc)
                rec.last_error_at = datetime.now(UTC).isoformat(timespec="seconds")
                now = self._monotonic()
                rec.state = "restarting"
                if rec.failing_since is None or now - rec.running_since >= STABLE_AFTER_S:
                    rec.failing_since, backoff = now, BACKOFF_MIN_S  # a new run of failures
                log.error("gateway task %s failed; starting it again in %.0f s", name, backoff, exc_info=exc,
                          extra={"ctx": {"task": name, "error": rec.last_error, "restarts": rec.restarts}})
                if self._on_failure is not None:
                    with contextlib.suppress(Exception):
                        self._on_failure(rec)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            rec.state = "finished"  # a task that returns on its own (e.g. nothing to scan) is done
            return

    def healthy(self) -> bool:
        """False when a task has kept failing (never up for :data:`STABLE_AFTER_S` since) for longer than
        :data:`DOWN_TOO_LONG_S`: restarting it in-process is not helping, let systemd restart the gateway."""
        now = self._monotonic()
        return not any(r.failing_since is not None and now - r.failing_since > DOWN_TOO_LONG_S
                       and not (r.state == "running" and now - r.running_since >= STABLE_AFTER_S)
                       for r in self.records.values())

    def problems(self) -> list[str]:
        """What is wrong now, in words: ``["consume restarting after 3 failures: ValueError ..."]``."""
        return [f"{r.name} restarting after {r.restarts} failure{'s' if r.restarts != 1 else ''}: {r.last_error}"
                for r in self.records.values() if r.state == "restarting"]

    def report(self) -> dict[str, dict[str, Any]]:
        return {name: r.as_dict() for name, r in self.records.items()}

    async def cancel_all(self) -> None:
        for t in self._tasks.values():
            t.cancel()
        for t in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
