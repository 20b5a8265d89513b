"""What made a day unusual for this person, in words with their own figures (the team's weekly note).

The daily profile (:class:`routines.models.DailyProfileModel`) scores each day against the person's own
learned days; a feature is named only when the day's value lies beyond every learned day's value and
far from their middle (:meth:`~routines.models.DailyProfileModel.outside`), and the words give the day's
value and the range of the days learned: counts of days actually learned, times on the person's clock.

>>> unusual_words([("wake", 400.0, 180.0, 250.0, 30), ("kitchen_events", 2.0, 14.0, 40.0, 30)], 4)
('up at 10:40 (on all 30 days learned between 07:00 and 08:10)', '2 kitchen events (on all 30 days learned between 14 and 40)')
"""

from __future__ import annotations

from collections.abc import Callable

from routines.explain import duration, hhmm


def _count(word: str) -> Callable[[float, int], str]:
    return lambda v, h0: f"{round(v)}{word}"


def _clock(word: str) -> Callable[[float, int], str]:
    return lambda v, h0: f"{word}{hhmm(v + h0 * 60)}"


# feature -> (the day's value in words, a learned value in words); features as routines.state.PROFILE_FEATURES
FEATURE_WORDS: dict[str, tuple[Callable[[float, int], str], Callable[[float, int], str]]] = {
    "wake": (_clock("up at "), _clock("")),
    "first_kitchen": (_clock("first in the kitchen at "), _clock("")),
    "bed": (_clock("in bed at "), _clock("")),
    "night_exits": (lambda v, h0: f"up {round(v)} time{'s' if round(v) != 1 else ''} in the night", _count("")),
    "minutes_out": (lambda v, h0: f"out {duration(v * 60)} in all" if v >= 1 else "not out at all",
                    lambda v, h0: duration(v * 60) if v >= 1 else "0 min"),
    "events": (_count(" sensor events in the day"), _count("")),
    "events_morning": (_count(" sensor events in the morning (06:00-12:00)"), _count("")),
    "events_afternoon": (_count(" sensor events in the afternoon (12:00-18:00)"), _count("")),
    "events_evening": (_count(" sensor events in the evening (18:00-24:00)"), _count("")),
    "kitchen_events": (_count(" kitchen events"), _count("")),
}
MAX_NAMED = 3  # a line, not a list: the furthest few


def unusual_words(outside: list[tuple[str, float, float, float, int]], h0: int) -> tuple[str, ...]:
    """Phrases for :meth:`~routines.models.DailyProfileModel.outside`'s features (furthest first)."""
    out = []
    for f, v, lo, hi, n in outside[:MAX_NAMED]:
        day, usual = FEATURE_WORDS[f]
        out.append(f"{day(v, h0)} (on all {n} days learned between {usual(lo, h0)} and {usual(hi, h0)})")
    return tuple(out)
