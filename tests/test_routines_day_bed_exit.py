"""Up from a nap by day, then nothing (``day_bed_exit`` in routines.detectors.situations; the check in
routines.detectors.daytime.silence), on hand-built days.

Ann's home and days of test_routines_days, with a nap on every other afternoon: she stands up from her
chair at 13:55, lies down 14:00-15:00, and the living room shows her a minute after she gets up. Before
this situation a fall as she stepped off the bed was judged only by the daytime limit (3 h at the start).
"""

from __future__ import annotations

from datetime import date, timedelta

from test_routines_days import at, make_home, month
from test_routines_situations import DAY0, LEARNED, START, care, ev, feed, morning

from routines.detectors.situations import SITUATIONS, models
from routines.engine import RoutineEngine
from routines.waiting import WaitModel


def naps(i: int, d: date, day: list) -> list:
    """On even days a nap in bed 14:00-15:00 (nothing else moves then), the living room from 15:01."""
    if i % 2:
        return day
    lo, hi = at(d, 13.9), at(d, 15.1)
    kept = [e for e in day if not lo <= e[0] < hi]
    return [*kept, (at(d, 13.9), "chair", False), (at(d, 14.0), "bed", True), (at(d, 15.0), "bed", False),
            *[(at(d, 15 + k / 60), "living_pir", v) for k in (1, 4, 7) for v in (True, False)]]


def learned(days: int = LEARNED, st=START) -> tuple[RoutineEngine, list, date]:
    eng = RoutineEngine(make_home(), st)
    last = DAY0 + timedelta(days=days)
    return eng, feed(eng, month(DAY0, days, seed=7, edit=naps), at(last, 6.0)), last


def nap(d: date, then: list | None = None) -> list:
    """The morning, a nap 14:00-15:00, one step in the living room at 15:01, then ``then`` (nothing)."""
    return [*morning(d), ev(at(d, 13.5), "living_pir", True), ev(at(d, 13.85), "living_pir", True),
            ev(at(d, 13.9), "chair", False), ev(at(d, 14.0), "bed", True),
            ev(at(d, 15.0), "bed", False), ev(at(d, 15 + 1 / 60), "living_pir", True), *(then or [])]


def test_up_from_a_nap_and_then_nothing_is_caught_at_her_own_limit() -> None:
    eng, before, d = learned()
    assert care(before) == []  # her naps: never flagged
    p = eng._persons["p1"]
    # after her naps the living room shows her within a minute: the limit is the floor, not the hour's 3 h
    assert p.thr.wait_own["day_bed_exit"]
    limit = p.thr.wait_s["day_bed_exit"]
    assert limit == START.stillness_context_floor_min * 60
    [a] = care(feed(eng, nap(d), at(d, 19.0)))
    assert a.kind == "silence" and a.time == at(d, 15 + 1 / 60) + timedelta(seconds=limit)
    m = models(p, START.half_life_days)["day_bed_exit"]
    assert m.days_raw >= LEARNED
    assert a.message == (f"Ann got out of bed at 15:00, up for the day since 07:30, and there has been no movement "
                         f"since 15:01 (20 min). After getting out of bed by day, her quiet lasted 20 min or more "
                         f"on 0 of the {m.days_raw} days learned; sooner than the daytime limit for this hour.")
    assert a.evidence["day_bed_exit"] is True and a.evidence["limit_min"] == 20.0


def test_while_learning_the_starting_limit_is_used_and_said() -> None:
    """A technician's shorter start (the default is the 6 h cap: the daytime limits decide until her own days
    are learned), on her second day, while the daytime limit is the 3 h one starts with: the start decides."""
    eng, before, d = learned(days=1, st=START.model_copy(update={"day_bed_exit_start_min": 120}))
    assert care(before) == []
    p = eng._persons["p1"]
    start = 120 * 60
    assert not p.thr.wait_own["day_bed_exit"] and p.thr.wait_s["day_bed_exit"] == start
    [a] = care(feed(eng, nap(d), at(d, 20.0)))
    assert a.time == at(d, 15 + 1 / 60) + timedelta(seconds=start)
    n = models(p, START.half_life_days)["day_bed_exit"].days_raw
    h = f"{int(start // 3600)} h {int(start % 3600 // 60):02d} min"
    assert a.message == (f"Ann got out of bed at 15:00, up for the day since 07:30, and there has been no movement "
                         f"since 15:01 ({h}). After getting out of bed by day: the starting limit of {h} is used "
                         f"until her own days are learned ({n} of 28 days); sooner than the daytime limit for "
                         f"this hour.")
    assert a.evidence["day_bed_exit"] is True


def test_an_ordinary_nap_raises_nothing_and_ends_the_spell() -> None:
    eng, _, d = learned()
    p = eng._persons["p1"]
    about = [ev(at(d, 15.05 + k / 6), "living_pir", True) for k in range(12)]
    assert care(feed(eng, nap(d, about), at(d, 17.5))) == []
    assert "day_bed_exit" not in p.waiting.now  # life showed: the spell is over


def test_getting_up_itself_is_not_a_day_bed_exit() -> None:
    """The morning's exit is the getting up, judged by 'not up' and the night's limits, never this one."""
    eng, _, d = learned()
    p = eng._persons["p1"]
    feed(eng, [ev(at(d, 7.5), "bed", False), ev(at(d, 7.51), "bath_pir", True)], at(d, 7.6))
    assert "day_bed_exit" not in p.waiting.now


def test_a_false_alarm_moves_the_limit_by_one_step_and_nothing_else() -> None:
    eng, _, d = learned()
    p = eng._persons["p1"]
    # up from her nap at 15:00, then an hour sitting on the bed's edge with a visitor (no sensor sees it)
    about = [ev(at(d, 16.1 + k / 3), "living_pir", True) for k in range(12)]
    [a] = care(feed(eng, [*nap(d, about), ev(at(d, 22.5), "bed", True)], at(d, 29.0)))
    assert [k[1] for k in p.waiting.kept] == ["day_bed_exit"]  # kept back, not learned
    before = dict(p.thr.wait_s)
    eng.record_outcome(a.key, "false_alarm")
    after = p.thr.wait_s
    step = 15 * 60 * START.situation_margin
    assert before["day_bed_exit"] < after["day_bed_exit"] <= before["day_bed_exit"] + step
    assert {k: v for k, v in after.items() if k != "day_bed_exit"} == {
        k: v for k, v in before.items() if k != "day_bed_exit"}


def test_a_checkpoint_from_before_the_situation_starts_learning_it_and_keeps_the_others() -> None:
    eng, _, d = learned()
    p = eng._persons["p1"]
    kept = {name: m.days_raw for name, m in p.waiting.models.items() if name != "day_bed_exit"}
    del p.waiting.models["day_bed_exit"]  # as written before the situation existed: no model, no limit
    for field in (p.thr.wait_s, p.thr.wait_own, p.thr.wait_floor_s):
        del field["day_bed_exit"]
    back = RoutineEngine.restore(make_home(), eng.checkpoint(), START)
    q = back._persons["p1"]
    assert set(q.waiting.models) == set(SITUATIONS)
    assert {name: m.days_raw for name, m in q.waiting.models.items() if name != "day_bed_exit"} == kept
    assert isinstance(q.waiting.models["day_bed_exit"], WaitModel) and q.waiting.models["day_bed_exit"].days_raw == 0
    start = START.silence_cap_min * 60  # the default start: the cap
    assert q.thr.wait_s["day_bed_exit"] == start and not q.thr.wait_own["day_bed_exit"]
    # her learned limit after the living room (35 min) is sooner than the start: the daytime limit decides
    [a] = care(feed(back, nap(d), at(d, 20.0)))
    assert a.time < at(d, 15 + 1 / 60) + timedelta(seconds=start) and a.evidence["by_last_sensor"] is True
    assert a.message.startswith("Ann got out of bed at 15:00, up for the day since 07:30, and there has been no "
                                "movement since 15:01") and not a.evidence["day_bed_exit"]


def test_a_first_step_onto_her_chair_is_sitting_down_not_a_bed_exit() -> None:
    """Up from the nap at 15:00 and straight into her chair: quiet seated is the hour's question."""
    eng, _, d = learned()
    p = eng._persons["p1"]
    day = [e for e in nap(d) if e.sensor_id != "living_pir" or e.time < at(d, 14.0)]
    alerts = care(feed(eng, [*day, ev(at(d, 15 + 1 / 60), "chair", True)], at(d, 15.5)))
    assert "day_bed_exit" not in p.waiting.now and alerts == []  # not told at the bed exit's 20 min
