"""Can we trust the wall clock? A Raspberry Pi has no real-time clock.

At boot a Pi's clock starts from the last shutdown time (fake-hwclock) or from 1970, and jumps to
the right time when NTP first synchronises — possibly hours later, or never in a home without
internet. Two building blocks here:

* :func:`clock_status` — is the system clock synchronised? Asks, in order, systemd-timesyncd's
  flag file ``/run/systemd/timesync/synchronized``, then the kernel through ``adjtimex(2)`` (read
  only, via ctypes; the same answer ``timedatectl`` shows as "System clock synchronized"), and, only
  if asked (it starts a process), ``timedatectl`` itself.
* :class:`ClockWatch` — fed ``(monotonic, wall)`` pairs from the event loop, it notices the wall
  clock jumping against the monotonic clock, latches "synchronised once", and says whether wall
  times may be trusted right now.

How the routine core should use them (see docs/raspberrypi.md):

1. Every received event gets ``trusted = watch.wall_trusted(monotonic_now)``. Untrusted events are
   stored (never lost) but marked, and are neither learned from nor used to judge lateness.
2. On every tick, ``jump = watch.observe(time.monotonic(), time.time())``. If a jump is returned,
   any deadline in ``jump.skipped()`` is "unknown", not "missed": re-baseline the detectors to the
   new wall time instead of firing everything the jump stepped over. Cooldowns and timers run on
   monotonic time and are untouched by jumps.

>>> w = ClockWatch(synchronised=lambda: True)
>>> w.observe(100.0, 1_000_000.0) is None
True
>>> jump = w.observe(110.0, 1_000_000.0 + 10 + 3600)   # wall moved 3600 s more than monotonic
>>> round(jump.seconds)
3600
>>> w.wall_trusted(111.0), w.wall_trusted(110.0 + 61)
(False, True)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")

# adjtimex(2): return value TIME_ERROR and status bit STA_UNSYNC both mean "not synchronised".
TIME_ERROR = 5
STA_UNSYNC = 0x0040


@dataclass(frozen=True, slots=True)
class ClockStatus:
    """``synchronised`` is ``None`` when no source could tell. ``source`` says which one answered."""

    synchronised: bool | None
    source: str
    detail: str


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """``struct timex`` from <sys/timex.h> (LP64 layout; Hearth requires a 64-bit OS)."""

    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int), ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int), ("_reserved", ctypes.c_int * 11),
    ]


def interpret_adjtimex(state: int, status: int) -> bool:
    """The kernel's verdict: synchronised unless adjtimex returned TIME_ERROR or STA_UNSYNC is set.

    >>> interpret_adjtimex(0, 0x2001), interpret_adjtimex(5, 0x0040), interpret_adjtimex(0, 0x0041)
    (True, False, False)
    """
    return state != TIME_ERROR and not status & STA_UNSYNC


def read_adjtimex() -> tuple[int, int] | None:
    """``(return value, status)`` of a read-only ``adjtimex`` call, or ``None`` if unavailable."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        buf = _Timex()  # modes = 0: read only, allowed for any user
        state = libc.adjtimex(ctypes.byref(buf))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state, buf.status


def _timedatectl() -> bool | None:
    exe = shutil.which("timedatectl")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "show", "--property=NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


def clock_status(flag: Path = TIMESYNC_FLAG,
                 adjtimex: Callable[[], tuple[int, int] | None] = read_adjtimex,
                 use_timedatectl: bool = False) -> ClockStatus:
    """Is the system clock synchronised? Fast (a stat and a syscall) unless ``use_timedatectl``."""
    if flag.exists():
        return ClockStatus(True, "systemd-timesyncd", f"{flag} exists")
    kernel = adjtimex()
    if kernel is not None:
        state, status = kernel
        synced = interpret_adjtimex(state, status)
        return ClockStatus(synced, "kernel (adjtimex)", f"state={state} status=0x{status:04x}")
    if use_timedatectl:
        answer = _timedatectl()
        if answer is not None:
            return ClockStatus(answer, "timedatectl", f"NTPSynchronized={'yes' if answer else 'no'}")
    return ClockStatus(None, "none", "no time source could be asked")


def is_synchronised() -> bool:
    """Fast yes/no for the event loop (unknown counts as no)."""
    return clock_status().synchronised is True


@dataclass(frozen=True, slots=True)
class ClockJump:
    """The wall clock moved ``seconds`` more (or, if negative, less) than the monotonic clock."""

    at_monotonic: float
    wall_expected: float  # where the wall clock would be had it not jumped
    wall_now: float

    @property
    def seconds(self) -> float:
        return self.wall_now - self.wall_expected

    def skipped(self) -> tuple[float, float]:
        """The wall-time span (epoch seconds) the jump stepped over, in order, whichever way it went.

        Deadlines inside it were never watched in real time: treat them as unknown, not missed.
        """
        return (min(self.wall_expected, self.wall_now), max(self.wall_expected, self.wall_now))


class ClockWatch:
    """Detect wall-clock jumps against the monotonic clock and decide whether wall time is trusted.

    ``tolerance_s`` absorbs NTP slewing (at most 500 ppm) and scheduling noise; anything larger
    is a step. After a jump, wall time is untrusted for ``settle_s`` monotonic seconds, so the
    detectors re-baseline before judging anything. Wall time is also untrusted until the clock has
    been synchronised once since start (then latched, so a home that loses internet later keeps
    working on its last good time).
    """

    def __init__(self, synchronised: Callable[[], bool] = is_synchronised,
                 tolerance_s: float = 2.0, settle_s: float = 60.0) -> None:
        self._synchronised = synchronised
        self.tolerance_s = tolerance_s
        self.settle_s = settle_s
        self._last: tuple[float, float] | None = None
        self._synced_once = False
        self._settle_until: float | None = None
        self.jumps: list[ClockJump] = []

    def observe(self, monotonic: float, wall: float) -> ClockJump | None:
        """Record one ``(time.monotonic(), time.time())`` pair; return a :class:`ClockJump` if the clock stepped."""
        jump = None
        if self._last is not None:
            mono0, wall0 = self._last
            elapsed = monotonic - mono0
            expected = wall0 + elapsed
            if abs(wall - expected) > self.tolerance_s + 0.0005 * max(elapsed, 0.0):
                jump = ClockJump(monotonic, expected, wall)
                self.jumps.append(jump)
                self._settle_until = monotonic + self.settle_s
        self._last = (monotonic, wall)
        return jump

    def synchronised(self) -> bool:
        """True once the system clock has been synchronised since this watch started (latched)."""
        if not self._synced_once and self._synchronised():
            self._synced_once = True
        return self._synced_once

    def wall_trusted(self, monotonic: float) -> bool:
        """May an event stamped now be learned from and used to judge lateness?"""
        if self._settle_until is not None and monotonic < self._settle_until:
            return False
        return self.synchronised()
