"""A person who leaves a home's heartbeat (sharing paused, or consent to the team withdrawn) shows workers
no more than a partial consent would: urgent alerts only (found by the session 7 security audit: workers
saw every category of such a person's stored history, more than while they shared a part)."""

from __future__ import annotations

from hub.auth import User
from hub.views import SEES, Home, allowed

WORKER = User("sam", "worker", None, None, ("home1",))


def _home(people: list[dict]) -> dict[str, Home]:
    return {"home1": Home("home1", 0.0, {"people": people})}


def test_withdrawing_all_consent_never_shows_more_than_withdrawing_part_of_it() -> None:
    part = allowed(WORKER, _home([{"id": "p1", "shared": ["urgent", "concern"]}]), "home1", "p1")
    gone = allowed(WORKER, _home([{"id": "p2"}]), "home1", "p1")  # p1 no longer in the heartbeat
    assert part == ("urgent", "concern")
    assert gone == ("urgent",) and set(gone) <= set(part)
    # every partial consent that still shares urgent alerts shows at least what a withdrawal does
    for cats in (["urgent"], ["urgent", "digest"], ["urgent", "trends", "technical"]):
        shown = allowed(WORKER, _home([{"id": "p1", "shared": cats}]), "home1", "p1")
        assert set(gone) <= set(shown) <= set(cats)


def test_a_home_not_heard_from_and_other_teams_are_unchanged() -> None:
    assert allowed(WORKER, {}, "home1", "p1") == SEES["worker"]
    assert allowed(WORKER, _home([]), "home2", "p1") == ()
