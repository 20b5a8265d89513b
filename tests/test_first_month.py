"""Issue 14: a new install's first month, from the shipped population prior, on a generated home.

A replay of the first 28 days with the alerts expected (none on ordinary days; a day Ann never gets up
and a night she goes out of the front door and does not come back are told, each once, the not-up naming
the limit it used); learning status moving from the starting limit to her own routine; and a gateway
installed mid-afternoon raising no silence alert for the hours before it ran.
"""

from __future__ import annotations

from datetime import date, timedelta

from test_routines_days import at, make_home, month

from routines.alert import Audience
from routines.engine import RoutineEngine
from routines.replay import replay_into
from sensors.events import SensorEvent, SensorKind

START = date(2026, 3, 2)  # a Monday


def _rows(evs: list[SensorEvent]) -> list[tuple[float, str, bool | float]]:
    return [(e.time.timestamp(), e.sensor_id, e.value) for e in evs]


def _care(alerts):
    return [a for a in alerts if a.audience == Audience.CARE]


def test_first_month_raises_only_the_real_alerts_and_names_the_limit_used() -> None:
    def edit(i, d, day):
        if i == 3:  # day 3: never up (nothing after the night's bed)
            return []
        if i == 17:  # night 17: out of bed at 02:10, the front door at 02:12, and nothing after
            keep = [e for e in day if e[0] < at(d, 26.0)]
            return [*keep, (at(d, 26.15), "bed", False), (at(d, 26.2), "maindoor", True), (at(d, 26.21), "maindoor", False)]
        return day

    evs = month(START, 28, seed=21, edit=edit)
    eng = RoutineEngine(make_home())
    assert eng.prior is not None  # a new install starts from the shipped prior
    # up to the end of the month's last person day: the morning after it has no events at all, which is a
    # real 'not up' (it was silenced only while the night-17 exit at 02:09 was learned as a getting-up time)
    care = _care(replay_into(eng, _rows(evs), 60, at(START, 24 * 28 + 4).timestamp()))
    kinds = [(a.kind, a.time.date()) for a in care]
    assert kinds == [("not_up", START + timedelta(days=3)), ("night_door", START + timedelta(days=18))], care
    not_up = care[0]
    assert not_up.evidence["limit"] == "learning"  # 3 own days learned, blended with the prior
    # the starting limit set at install (the prior), said as such, with the own days really learned
    assert ("(the starting limit set at install, from other people's routines, with 3 days of her own, until her "
            "own routine is learned: 3 of 14 days)") in not_up.message
    # the day-1 limit is conservative, not 'never': while her own wakes are few it waits for the prior's latest
    # getting up plus 2 h (at most the plausible latest, 14:00), plus the margin, fading as her wakes are learned
    assert f"Ann is not up by {not_up.evidence['deadline'][11:16]} " in not_up.message  # the deadline it used
    assert (not_up.time.hour, not_up.time.minute) <= (14, 30)


def test_learning_status_moves_from_the_starting_limit_to_her_own_routine() -> None:
    eng = RoutineEngine(make_home())
    evs = _rows(month(START, 20, seed=5))
    states = []
    for day in (0, 9, 20):
        until = at(START, 24 * day + 12).timestamp()
        list(replay_into(eng, [r for r in evs if r[0] <= until and (not states or r[0] > states[-1][0])], 60,
                         until))
        checks = {c["check"]: c for c in eng.status()["p1"]["checks"]}
        states.append((until, checks))
    first, mid, last = (s[1] for s in states)
    assert first["not_up"]["words"] == "watching with the starting limit (learning: 0 of 14 days)"
    assert first["night_door"]["words"] == "watching from the first night (needs no learning)"
    assert mid["not_up"]["words"] == "learning: 9 of 14 days" and mid["not_up"]["state"] == "learning"
    assert last["not_up"]["state"] == "own"
    assert last["not_up"]["words"] == "watching with Ann's own routine since 16 March"  # day 14's end
    assert last["not_up"]["since"] == "2026-03-16"


def test_installed_mid_afternoon_raises_no_silence_alert() -> None:
    """Installed on a Tuesday at 15:00: the hours before it ran are not stillness; an ordinary afternoon
    with its usual 2-hour quiet in the armchair (no chair mat used), bed, and up next morning."""
    d = START + timedelta(days=1)
    k = {"living_pir": SensorKind.MOTION, "kitchen_pir": SensorKind.MOTION, "bed": SensorKind.BED,
         "fridge": SensorKind.CONTACT}
    ev: list[tuple] = []
    for h in (15.0, 15.2, 17.4, 18.0, 18.5, 19.0, 20.0, 21.0, 22.0):
        ev += [(at(d, h), "living_pir", True), (at(d, h) + timedelta(seconds=60), "living_pir", False)]
    ev += [(at(d, 18.3), "fridge", True), (at(d, 18.31), "fridge", False), (at(d, 22.5), "bed", True),
           (at(d, 31.5), "bed", False)]
    for h in (31.6, 32.0, 32.5, 33.0, 34.0, 35.0, 36.0):
        ev += [(at(d, h), "kitchen_pir", True), (at(d, h) + timedelta(seconds=60), "kitchen_pir", False)]
    ev += [(at(d, 32.1), "fridge", True), (at(d, 32.11), "fridge", False)]
    ev.sort(key=lambda e: e[0])
    eng = RoutineEngine(make_home())
    alerts = []
    for t, sid, v in ev:
        alerts += eng.process(SensorEvent(t, sid, k[sid], v, "test"))
        alerts += eng.tick(t)
    now = ev[0][0]
    while now <= at(d, 37.0):
        alerts += eng.tick(now)
        now += timedelta(minutes=1)
    assert eng.first_t == at(d, 15.0).timestamp()
    assert _care(alerts) == []
    # and a quiet far past any limit the same afternoon still alerts: the check is on, not off
    eng2 = RoutineEngine(make_home())
    eng2.process(SensorEvent(at(d, 15.0), "living_pir", SensorKind.MOTION, True, "test"))
    late = eng2.tick(at(d, 22.0))
    assert [a.kind for a in _care(late)] == ["silence"]
