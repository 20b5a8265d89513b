"""The learning status as the team's first weekly notes read it (routines.learning.weekly_note_lines)."""

from __future__ import annotations

from test_routines_days import make_home

from routines.engine import RoutineEngine
from routines.learning import learning_status, weekly_note_lines


def test_a_new_install_lists_every_check_in_the_status_words() -> None:
    eng = RoutineEngine(make_home())
    lines = weekly_note_lines(eng, "p1")
    rows = learning_status(eng, eng._persons["p1"])
    assert lines[0] == "How far Hearth has learned Ann's routine:"
    assert lines[1:] == [f"- {r['watches']}: {r['words']}" for r in rows]
    assert "- getting up: watching with the starting limit (learning: 0 of 14 days)" in lines
    assert "- the front door at night: watching from the first night (needs no learning)" in lines
