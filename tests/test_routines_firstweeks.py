"""Issue 11 decision 4: learning from alerts nobody marked (``settle_unconfirmed_days``) moves no limit
later by more than 30 minutes in a week, and one "false alarm" outcome does not move a deadline by hours."""

from __future__ import annotations

from datetime import date, timedelta

from test_routines_days import at, make_home, month

from routines.engine import RoutineEngine
from routines.replay import replay_into
from routines.settings import RoutineSettings

START = date(2026, 3, 2)
NORMAL_DAYS = 21
START_SETTINGS = RoutineSettings(population_prior=False)


def late_mornings(first: int, last: int, hour: float):
    """Days ``first``..``last``: no sign of Ann until ``hour`` (she lies in, then her day goes on)."""
    def edit(i, d, day):
        if not first <= i <= last:
            return day
        return [e for e in day if e[0] >= at(d, hour) or e[0] < at(d, 4.0)]
    return edit


def run(days: int, edit, settings: RoutineSettings = START_SETTINGS) -> tuple[RoutineEngine, list]:
    eng = RoutineEngine(make_home(), settings)
    evs = month(START, days, seed=21, edit=edit)
    alerts = list(replay_into(eng, ((e.time.timestamp(), e.sensor_id, e.value) for e in evs)))
    return eng, alerts


def deadline(eng: RoutineEngine) -> float:
    """The weekday not-up deadline in force (minutes since the day start)."""
    return eng._persons["p1"].thr.wake_q_by_type[0] + eng.settings.wake_margin_min


def test_a_week_of_unmarked_late_mornings_moves_the_not_up_deadline_by_half_an_hour_at_most() -> None:
    before, _ = run(NORMAL_DAYS, None)
    # a week of lie-ins past the deadline: each raises 'not up', nobody marks it, she was up within the
    # two hours settle_unconfirmed learns from; by the week's end all but the last two are settled
    eng, alerts = run(NORMAL_DAYS + 7, late_mornings(NORMAL_DAYS, NORMAL_DAYS + 6, 10.0))
    late = [a for a in alerts if a.kind == "not_up"]
    assert len(late) >= 5
    moved = deadline(eng) - deadline(before)
    assert 0 < moved <= 30.0 + 1e-6
    settled = [b for b in eng._persons["p1"].flagged.values() if b.get("settled")]
    assert len(settled) >= 4
    # the next week may move it again, by at most another half hour
    eng2, _ = run(NORMAL_DAYS + 14, late_mornings(NORMAL_DAYS, NORMAL_DAYS + 13, 10.0))
    assert deadline(eng) < deadline(eng2) <= deadline(before) + 60.0 + 1e-6


def test_one_false_alarm_moves_the_deadline_by_an_hour_at_most() -> None:
    # settling off: only the carer's outcome may teach the late morning
    st = START_SETTINGS.model_copy(update={"settle_unconfirmed_days": 0})
    eng, alerts = run(NORMAL_DAYS + 2, late_mornings(NORMAL_DAYS, NORMAL_DAYS, 12.5), st)
    [a] = [a for a in alerts if a.kind == "not_up"]
    p = eng._persons["p1"]
    before = deadline(eng)
    day = START + timedelta(days=NORMAL_DAYS)
    assert p.flagged[day]["wake"] - before > 180  # she got up over three hours after the deadline
    eng.record_outcome(a.key, "false_alarm")
    assert day not in p.flagged
    moved = deadline(eng) - before
    assert 0 < moved <= 60.0 + 1e-6
