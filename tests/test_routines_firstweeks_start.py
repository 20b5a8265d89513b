"""Issue 14, item 1: 'no meal' starts with a conservative limit and tightens with the person's own days;
and decision 4 of issue 11 (learning from unmarked alerts moves no limit later by more than
30 minutes a week) without a late day clipped for ever: it is released within that budget."""

from __future__ import annotations

from datetime import date, timedelta

from test_routines_days import _motion, at, make_home, month

from routines.detectors.common import _parse_hhmm
from routines.engine import RoutineEngine
from routines.replay import replay_into
from routines.settings import RoutineSettings

START = date(2026, 3, 2)
KITCHEN = ("kitchen_pir", "fridge", "kettle")


def late_kitchen(first: float, every: int = 1, none_on: int | None = None):
    """Every ``every``-th day the kitchen is first used at ``first`` (hours; nothing there before it); on
    day ``none_on`` not at all."""
    def edit(i, d, day):
        if i == none_on:
            return [e for e in day if e[1] not in KITCHEN]
        if i % every:
            return day
        out = [e for e in day if e[1] not in KITCHEN or e[0] >= at(d, first)]
        _motion(out, at(d, first), "kitchen_pir")
        return out
    return edit


def run_days(eng: RoutineEngine, days: int, edit) -> tuple[list, list[float]]:
    """Replay day by day: (alerts, the 'no meal' limit after each day, minutes since day start)."""
    evs = month(START, days, seed=5, edit=edit)
    alerts, limits = [], []
    for i in range(days):
        end = at(START + timedelta(days=i + 1), 4.0)
        chunk = [e for e in evs if at(START + timedelta(days=i), 4.0) <= e.time < end]
        if i == 0:
            chunk = [e for e in evs if e.time < end]
        alerts += replay_into(eng, ((e.time.timestamp(), e.sensor_id, e.value) for e in chunk))
        limits.append(eng._persons["p1"].thr.no_meal_dsm)
    return alerts, limits


def test_a_late_eater_is_not_told_no_meal_while_learning_and_the_limit_tightens() -> None:
    # the population prior (shipped): first kitchen use at 18:00 every third day, and one day none at all
    eng = RoutineEngine(make_home(), RoutineSettings())
    alerts, limits = run_days(eng, 21, late_kitchen(18.0, every=3, none_on=4))
    no_meal = [a for a in alerts if a.kind == "no_meal"]
    # the day with no kitchen use is told, before decision 1's 21:00, with the starting limit named
    assert [a.time.date() for a in no_meal] == [START + timedelta(days=4)]
    assert no_meal[0].time.astimezone(at(START, 0).tzinfo).strftime("%H:%M") <= "21:00"
    assert "starting limit set at install" in no_meal[0].message
    # the start waits until 20:30, then tightens as her own days grow, to her own latest usual (18:00,
    # plus the margin) once the prior has faded: never earlier than a day she showed
    h0 = eng.settings.day_start_hour
    assert limits[0] >= _parse_hhmm("20:00", h0)
    assert limits[-1] <= limits[0]
    assert _parse_hhmm("18:00", h0) + 60 <= limits[-1] < _parse_hhmm("20:30", h0)


def test_a_late_day_learned_clipped_is_released_later_within_half_an_hour_a_week() -> None:
    # no prior: the starting setting's 11:00; Ann first uses the kitchen at 19:00 every fifth day. Those
    # days are told, nobody marks them, and two days later they are learned clipped (decision 4: at most
    # 30 min later a week); what was clipped is released later, within the same weekly budget
    eng = RoutineEngine(make_home(), RoutineSettings(population_prior=False))
    alerts, _ = run_days(eng, 42, late_kitchen(19.0, every=5))
    p = eng._persons["p1"]
    assert any(a.kind == "no_meal" for a in alerts)
    charges = [(on, moved.get("first_kitchen", 0.0)) for b in p.flagged.values()
               for on, moved in [b.get("settled") or (None, {}), *b.get("released", ())] if on is not None]
    assert any(b.get("released") for b in p.flagged.values())  # a clipped day was raised later
    for day, _ in charges:  # what settling and releasing moved, in any 7 days: half an hour at most
        assert sum(m for on, m in charges if 0 <= (day - on).days < 7) <= 1800 + 1e-6
    # the released values are still the person's own (never past the late day she really had)
    h0 = eng.settings.day_start_hour
    assert p.kitchen_model.values[: p.kitchen_model.n].max() <= _parse_hhmm("19:00", h0) + 1
