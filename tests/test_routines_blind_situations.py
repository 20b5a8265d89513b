"""Without a working front door, the situations capped by the daytime quiet's cap (standing up from the
chair, up from a nap) wait up to the home's own, longer cap: an outing looks like stillness there.

House C with its front door left out (a probe, 5 seeds): 'no movement for 6 h since standing up from the
couch' on 8 of 28 learned days he had gone out; false alarms 10.5 -> 1.5 a month, no collapse fewer found.
"""

from __future__ import annotations

from test_routines_lying import HOUR, _taught


def _learned(door: bool):
    """20 days: quiet spells of 20-30 min at every hour, and one of 10 h from 09:00 (out, unseen or not)."""
    return _taught(door=door, longest=(9, 10 * HOUR))


def test_without_a_front_door_standing_up_waits_up_to_the_homes_own_cap() -> None:
    blind = _learned(door=False)._persons["p1"].thr
    seen = _learned(door=True)._persons["p1"].thr
    assert seen.silence_cap_s == 6 * HOUR and seen.wait_s["stood_up"] == 6 * HOUR  # the everyday cap
    assert blind.silence_blind is not None and blind.silence_cap_s > 10 * HOUR  # her 10-h outings, unseen
    for situation in ("stood_up", "day_bed_exit"):  # the starting limit is that cap, not the everyday 6 h
        assert blind.wait_s[situation] == blind.silence_cap_s
    assert seen.wait_s["day_bed_exit"] == 6 * HOUR
