"""Up and about at night for a while, then still (situation ``night_up``): awake at night, not a trip.

Some people are up for an hour at night and then doze in a chair no sensor sees (house B: still 50 min or
more after 12 min to 2 h up). The night's 50-min quiet limit told carers each time 'possible fall'. Once
up for ``night_up_after_min`` the quiet is judged by the person's own nights within ``night_up_cap_min``
(2 h, the starting limit); a quiet right after getting out of bed keeps the night's limits.
"""

from __future__ import annotations

from datetime import timedelta

from test_routines_days import make_home
from test_routines_detectors import START, evening, moving, run, t

from routines.detectors import situations
from routines.engine import RoutineEngine


def up_at_night(until: str = "03:00") -> list:
    """Out of bed at 02:00 and about the home (the living room) until ``until``, then nothing."""
    return [*evening(), (t("02:00"), "bed", False), *moving(t("02:01"), t(until), every_min=10)]


def test_up_for_an_hour_then_still_waits_the_up_at_night_limit_and_says_so() -> None:
    _, alerts = run(up_at_night(), t("06:00"))
    [a] = [a for a in alerts if a.kind == "night_bed_exit"]
    last = max(e[0] for e in up_at_night() if e[2])  # the last movement the core saw: 02:51
    assert a.time == last + timedelta(hours=2)  # not at 50 min: the starting limit is the 2 h cap
    assert a.message == ("Ann got out of bed at 02:00 and has not returned (2 h 51 min); last seen by the motion sensor (living room) at 02:51, "
                         "no movement since. Up and about at night for a while, and nothing moving since: the "
                         "starting limit of 2 h 00 min is used until her own days are learned (1 of 28 days). "
                         "Possible fall.")
    assert a.evidence["limit"] == "up_still" and a.evidence["learned"] is False


def test_a_quiet_right_after_getting_up_keeps_the_nights_limit() -> None:
    # up for 20 min (under night_up_after_min), then nothing: the 50-min night quiet decides, as before
    _, alerts = run(up_at_night("02:20"), t("06:00"))
    [a] = [a for a in alerts if a.kind == "night_bed_exit"]
    last = max(e[0] for e in up_at_night("02:20") if e[2])
    assert a.time == last + timedelta(minutes=50) and a.evidence["limit"] == "still_away"


def test_the_up_at_night_limit_is_learned_from_her_own_nights() -> None:
    """Thirty nights up for a while and moving again within 10 min: her own limit is short (the 20-min
    floor), so the same night is told well before the 2 h start."""
    eng = RoutineEngine(make_home(), START)
    p = eng._persons["p1"]
    m = situations.models(p, eng.settings.half_life_days)["night_up"]
    for _ in range(30):
        m.add(10 * 60)
        m.close_day()
    situations.refresh(eng, p, {})
    assert p.thr.wait_own["night_up"] and p.thr.wait_s["night_up"] == 20 * 60
    _, alerts = run(up_at_night(), t("06:00"), engine=eng)
    [a] = [a for a in alerts if a.kind == "night_bed_exit"]
    last = max(e[0] for e in up_at_night() if e[2])
    assert a.time == last + timedelta(minutes=20) and a.evidence["learned"] is True
