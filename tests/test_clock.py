"""gateway.clock: the synchronised check (real kernel call, real flag file) and clock-jump handling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.clock import ClockJump, ClockStatus, ClockWatch, clock_status, interpret_adjtimex, read_adjtimex


@pytest.mark.parametrize(("state", "status", "synced"), [
    (0, 0x2001, True),    # TIME_OK, PLL + NANO: what a synced Pi reports
    (1, 0x2001, True),    # TIME_INS (leap second pending) is still synchronised
    (5, 0x0040, False),   # TIME_ERROR + STA_UNSYNC: freshly booted, no NTP yet
    (0, 0x0041, False),   # STA_UNSYNC alone
    (5, 0x0001, False),   # TIME_ERROR alone
])
def test_interpret_adjtimex(state: int, status: int, synced: bool) -> None:
    assert interpret_adjtimex(state, status) is synced


def test_real_adjtimex_call_returns_kernel_state() -> None:
    got = read_adjtimex()
    assert got is not None, "adjtimex(2) read-only call failed on Linux"
    state, status = got
    assert 0 <= state <= 5  # TIME_OK .. TIME_ERROR
    assert 0 <= status < 1 << 16


def test_timesyncd_flag_file_wins(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    flag.touch()
    assert clock_status(flag, adjtimex=lambda: (5, 0x40)) == ClockStatus(True, "systemd-timesyncd", f"{flag} exists")


def test_kernel_answers_when_no_flag(tmp_path: Path) -> None:
    missing = tmp_path / "synchronized"
    assert clock_status(missing, adjtimex=lambda: (5, 0x40)).synchronised is False
    synced = clock_status(missing, adjtimex=lambda: (0, 0x2001))
    assert (synced.synchronised, synced.source) == (True, "kernel (adjtimex)")
    unknown = clock_status(missing, adjtimex=lambda: None, use_timedatectl=False)
    assert unknown.synchronised is None


def test_real_clock_status_agrees_with_kernel(tmp_path: Path) -> None:
    state, status = read_adjtimex() or (None, None)
    got = clock_status(tmp_path / "absent")
    assert got.synchronised is interpret_adjtimex(state, status)


def test_slewing_and_noise_are_not_jumps() -> None:
    w = ClockWatch(synchronised=lambda: True)
    mono, wall = 1000.0, 1_700_000_000.0
    assert w.observe(mono, wall) is None
    for _ in range(600):  # ten minutes of 1 s ticks with NTP slewing at its 500 ppm maximum
        mono += 1.0
        wall += 1.0005
        assert w.observe(mono, wall) is None
    assert w.jumps == []
    assert w.wall_trusted(mono)


@pytest.mark.parametrize("step", [3 * 86400.0, -7200.0, 5.0])
def test_steps_are_jumps_both_ways(step: float) -> None:
    w = ClockWatch(synchronised=lambda: True, settle_s=60)
    w.observe(10.0, 1_700_000_000.0)
    jump = w.observe(20.0, 1_700_000_010.0 + step)
    assert jump == ClockJump(20.0, 1_700_000_010.0, 1_700_000_010.0 + step)
    assert jump.seconds == pytest.approx(step)
    lo, hi = jump.skipped()
    assert hi - lo == pytest.approx(abs(step))
    assert not w.wall_trusted(21.0)
    assert w.wall_trusted(80.0)


def test_untrusted_until_synchronised_once_then_latched() -> None:
    answers = iter([False, False, True, False, False])
    w = ClockWatch(synchronised=lambda: next(answers))
    assert [w.wall_trusted(float(i)) for i in range(5)] == [False, False, True, True, True]


def _daily_deadlines(start: datetime, days: int) -> list[float]:
    """09:30 every day: 'should be up by' — a stand-in for the routine core's lateness deadlines."""
    first = start.replace(hour=9, minute=30, second=0, microsecond=0)
    return [(first + timedelta(days=d)).timestamp() for d in range(-1, days + 1)]


def _run_lateness_judge(use_watch: bool) -> list[float]:
    """A Pi boots with fake-hwclock three days behind, then NTP steps the clock forward.

    The judge fires for a deadline when wall time passes it with no wake-up seen (the person is
    never seen here, so every deadline truly passed in real time would be a fair alert). Returns
    the deadlines alerted on.
    """
    real_start = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    stale = real_start - timedelta(days=3)  # the time of the last shutdown, restored at boot
    deadlines = _daily_deadlines(stale, 5)
    synced = {"now": False}
    watch = ClockWatch(synchronised=lambda: synced["now"], settle_s=120)
    alerts: list[float] = []
    mono = 50.0
    wall = stale.timestamp()
    judged_up_to = wall
    for minute in range(6 * 60):  # six hours of one-minute ticks
        mono += 60.0
        wall += 60.0
        if minute == 30:  # NTP synchronises: the wall clock steps three days forward
            wall += 3 * 86400.0
            synced["now"] = True
        jump = watch.observe(mono, wall) if use_watch else None
        if jump is not None:
            judged_up_to = wall  # re-baseline: what the jump stepped over is unknown, not missed
        if use_watch and not watch.wall_trusted(mono):
            judged_up_to = wall
            continue
        alerts += [d for d in deadlines if judged_up_to < d <= wall]
        judged_up_to = wall
    return alerts


def test_clock_jump_fires_no_burst_of_alerts() -> None:
    naive = _run_lateness_judge(use_watch=False)
    assert len(naive) >= 3, "the scenario must produce a burst without the watch, or it tests nothing"
    guarded = _run_lateness_judge(use_watch=True)
    # only the one deadline that really passed after sync (09:30 on the real day) is judged
    assert guarded == [datetime(2026, 3, 10, 9, 30, tzinfo=UTC).timestamp()]
