"""gateway.clocktrust with the real routine engine, driven the way the gateway drives it: ``admit`` before
every event and every minute's tick, on a (monotonic, wall) clock whose wall part the test steps.

The person lives on in real time; only the wall clock the Pi reads jumps. A naive gateway (every reading
admitted) is the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import pairwise

from test_routines_days import at, make_home, month

from gateway.clock import ClockWatch
from gateway.clocktrust import CONTEXT, ClockTrust, engine_time
from routines.alert import Alert, Audience, Severity
from routines.engine import RoutineEngine
from routines.replay import replay_into

START = date(2026, 3, 2)
LEARNED_DAYS = 14
DAY = 86400.0


class Naive(ClockTrust):
    """What the gateway did before clocktrust: every reading is judged."""

    def admit(self, engine: RoutineEngine, monotonic: float, wall: datetime) -> bool:
        return True


def lie_in(day_index: int) -> Callable:
    def edit(i, d, day):  # that day: no sign of Ann until 13:00
        return day if i != day_index else [e for e in day if e[0] >= at(d, 13.0)]
    return edit


@cache
def learned(seed: int = 5) -> tuple[bytes, float]:
    """A checkpoint after two weeks of plausible days, and the real time it stops at (day 14, 12:00)."""
    evs = month(START, LEARNED_DAYS + 1, seed=seed)
    stop = at(START + timedelta(days=LEARNED_DAYS), 12.0).timestamp()
    eng = RoutineEngine(make_home())
    list(replay_into(eng, ((e.time.timestamp(), e.sensor_id, e.value) for e in evs if e.time.timestamp() < stop),
                     until=stop))
    return eng.checkpoint(), stop


def drive(trust: ClockTrust, real_rows: list[tuple[float, str, bool | float]], start: float, end: float,
          offset: Callable[[float], float], engine: RoutineEngine | None = None,
          given: list[float] | None = None) -> list[Alert]:
    """Run from real time ``start`` to ``end``: events and a tick each real minute, the wall clock reading
    ``real + offset(real)``. Returns every alert the engine raised; ``given`` collects the wall times the
    engine was given."""
    eng = engine or RoutineEngine.restore(make_home(), learned()[0])
    given = [] if given is None else given
    out: list[Alert] = []
    rows = iter(r for r in real_rows if start <= r[0] < end)
    nxt = next(rows, None)
    t = start
    while t < end:
        while nxt is not None and nxt[0] <= t:
            real, sid, value = nxt
            wall = real + offset(real)
            if trust.admit(eng, real, datetime.fromtimestamp(wall, UTC)):
                given.append(wall)
                out += eng.ingest(wall, eng._sensors[sid], value)
            else:
                trust.keep_unjudged([nxt])  # the gateway stores it; here it is only counted
            nxt = next(rows, None)
        wall = t + offset(t)
        if trust.admit(eng, t, datetime.fromtimestamp(wall, UTC)):
            given.append(wall)
            out += eng.tick_ts(wall)
        t += 60.0
    return out


def care(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.audience == Audience.CARE and a.severity != Severity.INFO]


def synced_trust() -> ClockTrust:
    return ClockTrust(ClockWatch(synchronised=lambda: True))


def rows_of(edit=None, seed: int = 5) -> list[tuple[float, str, bool | float]]:
    return [(e.time.timestamp(), e.sensor_id, e.value) for e in month(START, LEARNED_DAYS + 6, seed=seed, edit=edit)]


# ---- a forward jump ---------------------------------------------------------------------------------

def test_three_day_forward_jump_fires_no_burst_but_real_lateness_still_alerts() -> None:
    _, t0 = learned()
    jump_at = t0 + 2 * 3600  # day 14, 14:00: the wall clock steps three days ahead
    rows = rows_of(edit=lie_in(LEARNED_DAYS + 2))  # real day 16 (wall day 19): Ann does not get up

    def offset(real: float) -> float:
        return 3 * DAY if real >= jump_at else 0.0

    end = at(START + timedelta(days=LEARNED_DAYS + 2), 14.0).timestamp()
    naive = care(drive(Naive(), rows, t0, end, offset))
    trust = synced_trust()
    judged = care(drive(trust, rows, t0, end, offset))

    # without clock trust the engine itself now reads three days with no event and no tick as unknown
    # time (routines: a span over a day is unwatched), so it raises no burst at the jump either
    burst = [a for a in naive if a.time.timestamp() < jump_at + 3 * DAY + 3600]
    assert burst == [], [(a.kind, a.time) for a in naive]
    # with clocktrust: only the lateness that is really due after the jump, on the wall day it happens
    lie_in_day = START + timedelta(days=LEARNED_DAYS + 2 + 3)
    assert [(a.kind, a.time.date()) for a in judged] == [("not_up", lie_in_day)]
    assert [a.kind for a in naive if a.time.date() == lie_in_day] == ["not_up"]
    (start, end_) = trust.spans[0]
    assert len(trust.spans) == 1
    assert start <= jump_at < jump_at + 3 * DAY < end_ <= jump_at + 3 * DAY + trust.grace_s + 120


def test_skipped_days_are_not_learned() -> None:
    _, t0 = learned()
    jump_at = t0 + 2 * 3600
    rows = rows_of()
    eng = RoutineEngine.restore(make_home(), learned()[0])
    days_before = eng.status()["p1"]["days_learned"]
    end = at(START + timedelta(days=LEARNED_DAYS + 1), 14.0).timestamp()  # real day 15 = wall day 18
    drive(synced_trust(), rows, t0, end, lambda r: 3 * DAY if r >= jump_at else 0.0, engine=eng)
    for k in range(LEARNED_DAYS, LEARNED_DAYS + 4):  # the jump day, the three skipped, ...
        s = eng.day_summary("p1", START + timedelta(days=k))
        assert CONTEXT in s.contexts, (k, s.contexts)
    # ...were not learned; wall day 18 was closed yet: nothing learned since the jump
    assert eng.status()["p1"]["days_learned"] == days_before


# ---- a backward jump ---------------------------------------------------------------------------------

def test_backward_jump_refires_nothing_and_holds_judgement_until_the_clock_catches_up() -> None:
    _, t0 = learned()
    d = START + timedelta(days=LEARNED_DAYS + 1)
    rows = rows_of(edit=lie_in(LEARNED_DAYS + 1))  # real day 15: not up until 13:00
    ahead_at, back_at = at(d, 6.0).timestamp(), at(d, 14.0).timestamp()

    def offset(real: float) -> float:  # the clock runs two hours ahead from 06:00 until NTP steps it back
        return 2 * 3600 if ahead_at <= real < back_at else 0.0

    end = at(d + timedelta(days=1), 12.0).timestamp()
    trust, given, naive_given = synced_trust(), [], []
    alerts = care(drive(trust, rows, t0, end, offset, given=given))
    naive = care(drive(Naive(), rows, t0, end, offset, given=naive_given))
    # the lie-in, once each: not up, then no meal 2 h after getting up at 13:00
    assert [(a.kind, a.time.date()) for a in alerts] == [("not_up", d), ("no_meal", d)]
    assert [(a.kind, a.time.date()) for a in naive] == [("not_up", d), ("no_meal", d)]
    # the engine never saw time run backwards; a naive gateway made it live 14:00-16:00 twice
    assert min(b - a for a, b in pairwise(given)) >= -trust.watch.tolerance_s
    assert min(b - a for a, b in pairwise(naive_given)) < -3600
    held = [r for r in rows if back_at <= r[0] < back_at + 2 * 3600 - trust.watch.tolerance_s]
    assert held and trust.unjudged == len(held)  # Ann's events in the repeated hours: kept, not judged
    assert len(trust.watch.jumps) == 2 and len(trust.spans) == 2


def test_unsynchronised_clock_is_not_judged_until_synchronised() -> None:
    _, t0 = learned()
    synced = False
    trust = ClockTrust(ClockWatch(synchronised=lambda: synced))
    eng = RoutineEngine.restore(make_home(), learned()[0])
    assert not trust.admit(eng, 10.0, datetime.fromtimestamp(t0, UTC))
    trust.keep_unjudged([])
    assert trust.note() == "clock not synchronised: 0 events kept but not judged"
    synced = True
    assert trust.admit(eng, 20.0, datetime.fromtimestamp(t0 + 10, UTC))
    assert trust.spans == []  # ten seconds unjudged is not worth pausing anything
    assert trust.note().startswith("clock trusted (0 jumps, 0 unwatched spans paused)")
    assert engine_time(eng) is not None and t0 - 3600 <= engine_time(eng) <= t0


def test_restart_after_a_three_day_power_cut_judges_the_gap_as_unknown() -> None:
    blob, t0 = learned()
    before = synced_trust()
    assert before.admit(RoutineEngine.restore(make_home(), blob), 5.0, datetime.fromtimestamp(t0, UTC))
    saved = before.state()  # what the gateway saves beside the checkpoint
    back = t0 + 3 * DAY  # the Pi comes back three days later with a synchronised clock: no jump to see
    end = at(START + timedelta(days=LEARNED_DAYS + 4), 12.0).timestamp()
    naive = care(drive(Naive(), rows_of(), back, end, lambda r: 0.0))
    after = synced_trust()
    after.restore_state(saved)
    judged = care(drive(after, rows_of(), back, end, lambda r: 0.0))
    assert naive == [] and judged == []  # the engine alone also reads the three days as unknown time
    assert after.spans[0][0] == t0 and after.spans[0][1] > back
    fresh = synced_trust()
    fresh.restore_state(b"not json")  # an unreadable state falls back to the engine's own times
    assert care(drive(fresh, rows_of(), back, end, lambda r: 0.0)) == []
    assert t0 - 3600 <= fresh.spans[0][0] <= t0


def test_a_sped_up_demo_clock_is_not_taken_for_a_stepped_one() -> None:
    """At 2880x a few real milliseconds between reading now() and monotonic() are minutes of demo time;
    the demo logged 14 false clock jumps that way. Its tolerance is the real one, scaled."""
    import time

    from gateway.timebase import ScaledClock

    clock = ScaledClock(datetime(2026, 3, 2, 6, 50, tzinfo=UTC), 2880)
    watch = ClockTrust.for_clock(clock).watch
    for _ in range(20):
        mono = clock.monotonic()
        time.sleep(0.005)  # what a busy loop does between the two readings
        watch.observe(mono, clock.now().timestamp())
    assert watch.jumps == []
    real = ClockTrust.for_clock(type("Stepped", (ScaledClock,), {"speed": 1.0})(clock.start, 1.0)).watch
    real.observe(1000.0, 5000.0)
    assert real.observe(1001.0, 5000.0 + 1 + 3.0) is not None  # a 3 s step at real speed still counts
