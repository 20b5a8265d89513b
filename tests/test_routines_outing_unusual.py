"""The daily profile earns its place: the team's weekly note names the week's least usual day, with what
was unusual in the person's own figures (routines.unusual, alerts.digest.unusual_day_lines)."""

from __future__ import annotations

from datetime import date, timedelta

from test_routines_days import at, make_home, month

from alerts.digest import weekly_trends
from routines.engine import RoutineEngine

START = date(2026, 3, 2)


def _weeks(edit=None) -> list:
    eng = RoutineEngine(make_home())
    for e in month(START, 28, edit=edit):
        eng.process(e)
    eng.tick(at(START + timedelta(days=28), 4.5))  # the 28 days end (and nothing after them is summarised)
    return list(eng._persons["p1"].summaries)


def _late_morning(i: int, d: date, day: list) -> list:
    """Day 25 (a Friday): nothing until she gets up at 11:00."""
    if i != 25:
        return day
    return [(at(d, 11.0), "bed", False)] + [e for e in day if (e[0] > at(d, 11.0) and e[1] != "bed") or e[0] > at(d, 20)]


def test_a_late_morning_is_named_with_her_own_range_of_days() -> None:
    days = _weeks(_late_morning)
    late = next(s for s in days if s.date == START + timedelta(days=25))
    up = next(x for x in late.unusual if x.startswith("up at 11:00 (on all "))
    learned = int(up.split("on all ")[1].split(" ")[0])
    assert 7 <= learned <= 25  # a count of days actually learned before it (not the day itself)
    note = weekly_trends(days[-7:], "Ann")
    line = next(x for x in note.splitlines() if x.startswith("Least usual day"))
    assert line.startswith("Least usual day, Friday 27 Mar: ") and "up at 11:00 (on all " in line
    # the usual range it names holds her own learned wake times (about 07:30)
    lo, hi = line.split("up at 11:00")[1].split("between ")[1].split(")")[0].split(" and ")
    assert "06:30" <= lo <= hi <= "08:30"


def test_ordinary_weeks_name_no_unusual_day() -> None:
    days = _weeks()
    assert not any(x.startswith("Least usual day") for x in weekly_trends(days[-7:], "Ann").splitlines())
