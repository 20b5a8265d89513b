"""A week with the engine switched off is unknown time, not a week of stillness (issue 14 item 4): the
engine by itself, restored from a week-old checkpoint, raises no care alert for the gap and says so in
its status; a real lie-in the next morning still alerts."""

from __future__ import annotations

from test_routines_days import make_home, month
from test_routines_detectors import START, moving, run, t

from routines.engine import RoutineEngine
from routines.state import DAY

CARE = {"silence", "not_up", "no_meal", "night_bed_exit", "night_door", "appliance_on"}


def _learned_then_stopped() -> RoutineEngine:
    """A month of ordinary days, then the last evening: in bed at 22:40, the kettle left on; stopped at 23:00."""
    eng = RoutineEngine(make_home(), START)
    from routines.replay import replay_into

    rows = [(e.time.timestamp(), e.sensor_id, e.value) for e in month(t("00:00", -30).date(), 29)]
    list(replay_into(eng, rows))
    eng, _ = run([*moving(t("20:00", -1), t("22:30", -1)), (t("22:35", -1), "kettle", 2200.0),
                  (t("22:40", -1), "bed", True)], t("23:00", -1), engine=eng)
    return RoutineEngine.restore(eng.home, eng.checkpoint(), eng.settings)


def test_a_week_off_raises_no_care_alert_for_the_gap_and_a_lie_in_the_next_morning_still_does() -> None:
    eng = _learned_then_stopped()
    p = eng._persons["p1"]
    assert p.in_bed and eng._sensors["kettle"].on
    # a week later, the first event at 15:00: about the house until bed at 22:40, nothing the next morning
    later = [*moving(t("15:00", 6), t("22:30", 6), "living_pir", 20), (t("22:40", 6), "bed", True)]
    eng, alerts = run(later, t("12:00", 7), engine=eng)
    day = [a for a in alerts if a.kind in CARE and a.time < t("04:00", 7)]
    assert day == []  # no stillness, not up, no meal, kettle on or night door for the week nobody watched
    [lie_in] = [a for a in alerts if a.kind == "not_up"]
    assert t("07:00", 7) < lie_in.time < t("12:00", 7)
    st = eng.status()["p1"]
    assert st["unwatched"].startswith("not watched from 2026-03-09 23:00 to 2026-03-16 15:00")
    # the days in the gap were not learned as days at home
    assert all("clock_unreliable" in s.contexts for s in eng._persons["p1"].summaries if t("00:00", -1).date()
               <= s.date < t("00:00", 6).date())


def test_the_first_tick_after_the_gap_forgets_where_the_person_was_last_seen() -> None:
    eng = _learned_then_stopped()
    assert eng.tick(t("15:00", 6)) == []
    p = eng._persons["p1"]
    assert (p.phase, p.in_bed, p.last_act, p.wake_t, p.away) == (DAY, False, 0.0, None, False)
    assert eng._sensors["kettle"].on is None and eng._sensors["bed"].on is None
    assert [a for a in run([], t("23:59", 6), engine=eng)[1] if a.kind in CARE] == []  # ticks alone: nothing


def test_an_engine_ticked_through_a_quiet_week_still_judges_it() -> None:
    # the same quiet, watched (ticked hourly as any running caller does): a real silence, not unknown time
    eng = _learned_then_stopped()
    _, alerts = run([(t("08:00"), "bed", False), (t("08:05"), "living_pir", True)], t("20:00"), engine=eng)
    assert eng.unwatched is None
    assert "silence" in {a.kind for a in alerts}
