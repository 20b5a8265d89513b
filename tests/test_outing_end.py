"""An outing ends at the front door the person came in by, not at the first use of something indoors
(issue 13: the Circle's chart showed Ann out until her kettle, 20 minutes after she was back)."""

from __future__ import annotations

from datetime import timedelta

from test_routines_detectors import D, evening, moving, run, t

from routines.engine import RoutineEngine

S = timedelta(seconds=1)


def _door(at: str, shut_after_s: int = 20) -> list:
    return [(t(at), "maindoor", True), (t(at) + shut_after_s * S, "maindoor", False)]


def _morning_out(back_events: list) -> list:
    """Up at 07:30, busy until 10:00, out at 10:05 (door open, shut), then ``back_events``, then about the
    house in the afternoon."""
    return [*evening(), (t("07:30"), "bed", False), *moving(t("07:31"), t("10:00"), "living_pir", 15),
            *_door("10:05"), *back_events, *moving(t("12:30"), t("18:00"), "living_pir", 20)]


def _summary(evs: list) -> tuple[RoutineEngine, object]:
    eng, _ = run(evs, t("18:00"))
    return eng, eng.day_summary("p1", D)


def test_the_outing_ends_at_the_door_she_came_in_by_not_at_the_kettle() -> None:
    kettle = [(t("11:50"), "kettle", 2200.0), (t("11:53"), "kettle", 0.0)]
    eng, s = _summary(_morning_out([*_door("11:30"), *kettle]))
    # out from the door shut behind her to the door opened on coming back: 10:05:20 - 11:30:00
    assert s.outings == [(t("10:05") + 20 * S, t("11:30"))]
    assert s.minutes_out == round((t("11:30") - t("10:05") - 20 * S).total_seconds() / 60, 1)
    p = eng._persons["p1"]
    assert (p.away, p.door_in_t, p.door_t) == (False, None, None)


def test_a_second_trip_to_the_car_for_the_shopping_does_not_move_the_return() -> None:
    evs = _morning_out([*_door("11:30"), *_door("11:34", 60), (t("11:50"), "kitchen_pir", True)])
    _, s = _summary(evs)
    assert s.outings == [(t("10:05") + 20 * S, t("11:30"))]


def test_without_a_door_on_coming_back_the_return_still_dates_from_the_first_of_two_sensors() -> None:
    # (a door that did not fire, as house B's never does): unchanged, the first of two different sensors
    evs = _morning_out([(t("11:40"), "kitchen_pir", True), (t("11:45"), "living_pir", True)])
    _, s = _summary(evs)
    assert s.outings == [(t("10:05") + 20 * S, t("11:40"))]


def test_a_door_then_nothing_for_as_long_as_going_out_takes_is_going_out_again() -> None:
    # in at 11:30 by the door, and nothing at all after it for 30 min (going out is confirmed in 10): she
    # went out again through it, and came home by the door at 12:00 (house C: a door at 17:11, nothing for
    # 4 h 44 min, a door at 21:55 had her home since 17:11)
    evs = _morning_out([*_door("11:30"), *_door("12:00"), (t("12:05"), "kitchen_pir", True)])
    _, s = _summary(evs)
    assert s.outings == [(t("10:05") + 20 * S, t("12:00"))]
