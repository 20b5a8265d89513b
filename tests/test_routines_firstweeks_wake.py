"""Issue 11: "a learned wake time of 01:41 in a home with broken nights, and an urgent 'usually up by 01:41'
at 02:11". Getting up is the end of the night's main sleep, and a wake or bed time outside plausible hours
is refused (never learned, never a limit) and technicians are told."""

from __future__ import annotations

from datetime import date, timedelta

from test_routines_days import _motion, at, make_home, month

from routines.alert import Audience
from routines.engine import RoutineEngine
from routines.replay import replay_into
from routines.settings import RoutineSettings

START = date(2026, 3, 2)
DAYS = 16
START_SETTINGS = RoutineSettings(population_prior=False)


def broken_nights(back_to_bed: float | None):
    """Every night from the second: out of bed at 01:41 and up and about (the living room every 8 min),
    back to bed at ``back_to_bed`` and up for the day at 09:30 (None: no return to bed, the day goes on)."""
    def edit(i, d, day):
        out = [e for e in day if at(d, 9.5) <= e[0] < at(d, 25.0)]
        if i == 0:
            return out
        out.append((at(d, 1 + 41 / 60), "bed", False))
        t, until = at(d, 1.75), at(d, back_to_bed if back_to_bed is not None else 9.5)
        while t < until:
            _motion(out, t, "living_pir")
            t += timedelta(minutes=8)
        if back_to_bed is not None:
            out += [(at(d, back_to_bed), "bed", True), (at(d, 9.5), "bed", False)]
        return out
    return edit


def run(edit) -> tuple[RoutineEngine, list]:
    eng = RoutineEngine(make_home(), START_SETTINGS)
    evs = month(START, DAYS, seed=21, edit=edit)
    alerts = list(replay_into(eng, ((e.time.timestamp(), e.sensor_id, e.value) for e in evs)))
    return eng, alerts


def test_broken_nights_then_back_to_bed_learn_the_end_of_the_main_sleep() -> None:
    eng, alerts = run(broken_nights(back_to_bed=5.5))
    # up from 01:41 to 05:30, back in bed until 09:30: she got up at 09:30, every day
    wakes = [eng.day_summary("p1", START + timedelta(days=i)).wake_time for i in range(1, DAYS - 1)]
    assert {w.strftime("%H:%M") for w in wakes} == {"09:30"}
    # her usual latest wake moves from the starting 08:30 towards 09:30 (at most half an hour a week through
    # the unmarked 'not up' days of her first weeks), never to 01:41
    assert "08:30" < eng.status()["p1"]["usual"]["wake_by"] <= "09:30"
    assert not any("01:41" in a.message for a in alerts if a.kind == "not_up")
    # the hours awake are one night exit, not a 4-hour 'trip' that would stretch the night-exit limit
    # (no trip of hours learned; the alert's limit is the starting 4 h until her own nights are learned)
    m = eng._persons["p1"].exit_len
    assert m.n and all(x < 3600 for x in m.values[: m.n])
    assert eng.status()["p1"]["usual"]["night_exit_limit_min"] == eng.settings.night_back_cap_min
    assert eng.day_summary("p1", START + timedelta(days=5)).night_bed_exits == 1


def test_a_getting_up_read_at_01_41_is_refused_and_the_technician_told() -> None:
    # up from 01:41 and never back to bed: the core reads 'up' at 01:41, outside 04:00-14:00
    eng, alerts = run(broken_nights(back_to_bed=None))
    assert eng.day_summary("p1", START + timedelta(days=3)).wake_time.strftime("%H:%M") == "01:41"
    status = eng.status()["p1"]
    assert status["usual"]["wake_by"] == "08:30"  # the starting setting: 01:41 was never learned
    assert eng._persons["p1"].wake_model.n == 1  # only the first, ordinary day
    # (the first day, before the broken nights, she got up at 09:52: past the starting setting's 09:00)
    assert [a.time.date() for a in alerts if a.kind == "not_up"] == [START]
    told = [a for a in alerts if a.evidence.get("marker") == "wake"]
    assert told and all(a.audience == Audience.TECHNICAL and a.kind == "blind_check" for a in told)
    assert told[0].message.startswith("Ann's getting-up time read today (01:41) is outside the plausible hours "
                                      "04:00-14:00 for her main sleep, so it was not learned")
    # once a week per person, not every morning
    assert len(told) == len({a.time.isocalendar()[1] for a in told}) <= 3


def test_limits_made_on_any_path_never_use_an_implausible_usual_getting_up() -> None:
    """A refresh outside the day end (a restored checkpoint, an outcome) refuses an implausible usual time
    too: the wake model holding 01:41 days (as an older core could have learned) gives the starting
    setting, and the refusal is kept for the day end to tell technicians."""
    from routines import detectors
    from routines.detectors.common import _parse_hhmm

    eng = RoutineEngine(make_home(), RoutineSettings(population_prior=False))
    p = eng._persons["p1"]
    for _ in range(10):  # 01:41 is 21 h 41 min after the 04:00 day start
        detectors.learn_day(eng, p, {"weekend": False, "wake": 1301.0, "whole_day": False})
    detectors.refresh_thresholds(eng, p)
    start = _parse_hhmm(eng.settings.default_wake_time, eng.settings.day_start_hour)
    assert (p.thr.wake_q, p.thr.wake_learned, p.thr.refused) == (start, False, {"wake": 1301.0})
