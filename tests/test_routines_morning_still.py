"""'Not up' sooner from the person's own morning stillness in bed (issue 11): situation ``morning_still``.

Past the median wake, 'not up' alerts before the usual deadline when not even the bed mat has moved for
longer than this person's bed stays still on ordinary mornings (learned, calibrated to the false-alarm
budget; until then ``morning_still_start_min``, by default the cap). Hand-built days on a mat that pulses.
"""

from __future__ import annotations

import pickle

from test_explanations_wording import learn
from test_routines_beds import pulses
from test_routines_days import make_home
from test_routines_detectors import START, moving, run, t

from routines import detectors
from routines.detectors import situations
from routines.engine import RoutineEngine

MEDIAN = START.model_copy(update={"still_wake_quantile": 0.5})  # 'still in bed' from the median wake


def pulsing_engine(settings=MEDIAN) -> RoutineEngine:
    """An engine that has seen enough brief on-spells (a nap) to know its mat pulses."""
    eng, _ = run(pulses(t("14:00", -1), t("14:30", -1)), t("14:30", -1), engine=RoutineEngine(make_home(), settings))
    return eng


WAKES = [180.0] * 18 + [230.0, 240.0]  # up by 07:00 on most days (median 07:00; latest usual 08:00)


def mornings(eng: RoutineEngine, still_s: float, days: int = 30) -> None:
    """Teach ``days`` mornings on which the bed stayed still for ``still_s`` seconds before getting up
    (what the detectors' looks teach the model each morning), then refresh the limits."""
    p = eng._persons["p1"]
    m = situations.models(p, eng.settings.half_life_days)["morning_still"]
    for _ in range(days):
        m.add(still_s)
        m.close_day()
    detectors.refresh_thresholds(eng, p)


def still_night(woke: str | None = None) -> list:
    """In bed at 22:40, the mat last moved at 06:00; then up and about at ``woke`` (None: not up)."""
    evs = [*moving(t("14:31", -1), t("22:30", -1)), *pulses(t("22:40", -1), t("23:00", -1)),
           *pulses(t("06:00"), t("06:01"))]
    return evs + (moving(t(woke), t("12:00")) if woke else [])


def test_a_learned_short_stillness_tells_not_up_sooner_with_her_own_mornings() -> None:
    """Thirty mornings whose bed moved within 20 min: still since 06:00, 'not up' is told at 07:30 (the
    median wake 07:00 plus 30 min; her limit is the 45 min floor), not at the usual 08:30, with her counts."""
    eng = pulsing_engine()
    learn(eng, WAKES)
    mornings(eng, 20 * 60)
    p = eng._persons["p1"]
    assert p.thr.wait_own["morning_still"] and p.thr.wait_s["morning_still"] == 45 * 60
    _, alerts = run(still_night(), t("12:00"), engine=eng)
    [a] = [a for a in alerts if a.kind == "not_up"]
    assert a.time == t("07:30")
    assert a.message.endswith("Told before 08:30: not even the bed has moved for 1 h 29 min; in bed in the "
                              "morning, her bed was still 45 min or more on 0 of the 31 days learned.")
    assert (a.evidence["still_limit_min"], a.evidence["still_learned"]) == (45.0, True)


def test_a_person_whose_bed_stays_still_for_hours_is_not_flagged_for_it() -> None:
    """Thirty mornings lying still for 3 h before getting up: the same morning, up at 08:15, raises nothing
    (her limit is past 3 h); nor does it on the starting limit (the cap: the usual deadline decides until
    her mornings are learned), where a 45-min start set by the technician tells 'not up' at 07:30."""
    eng = pulsing_engine()
    learn(eng, WAKES)
    mornings(eng, 3 * 3600)
    assert eng._persons["p1"].thr.wait_s["morning_still"] > 3 * 3600
    _, alerts = run(still_night("08:15"), t("12:00"), engine=eng)
    assert [a for a in alerts if a.kind == "not_up"] == []
    fresh = pulsing_engine()  # the same morning on the starting limit: nothing before the usual 08:30
    learn(fresh, WAKES)
    _, alerts = run(still_night("08:15"), t("12:00"), engine=fresh)
    assert [a for a in alerts if a.kind == "not_up"] == []
    short = pulsing_engine(MEDIAN.model_copy(update={"morning_still_start_min": 45.0}))
    learn(short, WAKES)
    _, alerts = run(still_night("08:15"), t("12:00"), engine=short)
    assert [a.time for a in alerts if a.kind == "not_up"] == [t("07:30")]

    # on the usual (0.9) wake, as installed, with the 45-min start: told at 08:20, from 07:50 plus 30 min
    usual = pulsing_engine(START.model_copy(update={"morning_still_start_min": 45.0}))
    learn(usual, WAKES)
    _, alerts = run(still_night(), t("12:00"), engine=usual)
    assert [a.time for a in alerts if a.kind == "not_up"] == [t("08:20")]


def test_a_morning_is_learned_from_the_looks_and_a_flagged_one_is_kept_back() -> None:
    """A real morning through the engine: for someone who lies still for hours, still from 06:00 to getting
    up at 08:15 teaches the model one more morning past 2 h (looked at from 07:30, the median wake plus
    30 min); a morning that raised 'not up' is kept back, not learned."""
    eng = pulsing_engine()
    learn(eng, WAKES)
    mornings(eng, 3 * 3600)
    p = eng._persons["p1"]
    m = situations.models(p, eng.settings.half_life_days)["morning_still"]
    run(still_night("08:15"), t("04:10", 1), engine=eng)  # past the day's end: the morning is learned
    assert (m.days_over(2 * 3600), m.days_over(3 * 3600), m.days_raw) == (31, 30, 32)
    eng2 = pulsing_engine()
    learn(eng2, WAKES)
    mornings(eng2, 20 * 60)
    p2 = eng2._persons["p1"]
    _, alerts = run(still_night("08:15"), t("04:10", 1), engine=eng2)
    assert [a.kind for a in alerts if a.kind == "not_up"] == ["not_up"]
    m2 = situations.models(p2, eng2.settings.half_life_days)["morning_still"]
    assert m2.days_over(45 * 60) == 0  # the flagged morning taught nothing
    assert [k[1] for k in p2.waiting.kept] == ["morning_still"]


def test_the_morning_model_pickles_and_an_old_state_without_it_gets_the_starting_limit() -> None:
    eng = pulsing_engine()
    learn(eng, WAKES)
    mornings(eng, 3 * 3600)
    p = eng._persons["p1"]
    back = pickle.loads(pickle.dumps(p.waiting))
    assert back.models["morning_still"].days_over(3 * 3600) == 30
    del p.waiting.models["morning_still"]  # a state from before the situation: it starts learning now
    detectors.refresh_thresholds(eng, p)
    assert p.thr.wait_s["morning_still"] == 300 * 60 and not p.thr.wait_own["morning_still"]  # the cap
