"""How long the person goes without a sign of life in one situation, and the limit a false-alarm budget allows.

A :class:`WaitModel` holds, for one situation (just left the bed at night, just stood up from the chair,
...), how many times a day the quiet in it outlasted each wait of :data:`WAIT_EDGES_S`: a survival table
over the person's own days, with forgetting. It never needs the exact length of a wait, only whether it
was still going on at each edge, which the detectors can see by looking at those moments.

The limit is the shortest edge past which the learned days hold no more such quiet spells than the
situation's share of the false-alarm budget allows (alerts per day), times a margin for what a few weeks
cannot show; while too few days are learned it is the starting limit.

>>> m = WaitModel(30.0)
>>> for _ in range(20):          # 20 days, each with one quiet of 12 min and one of 25 min after standing up
...     m.add(12 * 60); m.add(25 * 60); m.close_day()
>>> m.limit(1 / 30, margin=1.0, start=3600.0, min_days=14) / 60   # 1 false alarm a month: past every spell seen
30.0
>>> m.limit(1.0, margin=1.0, start=3600.0, min_days=14) / 60      # one a day allowed: the 25-min spells may alarm
15.0
>>> m.days_over(20 * 60)          # the true count of days behind the explanation's words
20
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from routines.models import decay_factor

# the waits a situation is looked at (seconds): minutes apart where night limits fall, then every quarter
# of an hour up to 8 h, so a limit moves by one step (at most 15 min) when one spell more is learned
WAIT_EDGES_S = np.array([60, 120, 180, 300, 420, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 3000, 3300]
                        + [3600 + 900 * k for k in range(29)], dtype=float)
N_EDGES = len(WAIT_EDGES_S)
_EDGES = WAIT_EDGES_S.tolist()  # the same floats, for bisect: a look's probe costs a fraction of numpy's call


def edge_index(seconds: float) -> int:
    """Index of the last edge a wait of ``seconds`` reached (-1: none).

    >>> edge_index(59), edge_index(60), edge_index(1000), edge_index(4 * 3600)
    (-1, 0, 6, 27)
    """
    return bisect_right(_EDGES, seconds) - 1  # (= np.searchsorted(WAIT_EDGES_S, seconds, side="right") - 1)


class WaitModel:
    """Per situation: decayed count of quiet spells that reached each edge, per decayed day learned."""

    __slots__ = ("days", "days_raw", "factor", "over", "over_days", "today", "today_max")

    def __init__(self, half_life_days: float = 30.0) -> None:
        self.factor = decay_factor(half_life_days)
        self.over = np.zeros(N_EDGES)  # decayed spells that reached each edge
        self.over_days = np.zeros(N_EDGES, dtype=np.int64)  # days (not decayed) with a spell reaching it
        self.days = 0.0  # decayed days learned
        self.days_raw = 0  # days learned, a true count for the explanations
        self.today = np.zeros(N_EDGES)
        self.today_max = -1

    def add(self, seconds: float, cap: int | None = None) -> None:
        """One finished quiet spell of ``seconds`` today (only the edges it reached count), at most to edge
        index ``cap`` (what a kept-back alert may teach: see :func:`routines.detectors.situations.settle`)."""
        k = edge_index(seconds)
        if cap is not None:
            k = min(k, cap)
        if k >= 0:
            self.today[: k + 1] += 1.0
            self.today_max = max(self.today_max, k)

    def close_day(self, learn: bool = True) -> None:
        """End of a person day: forget a little, then learn today's spells (none on a day not learned)."""
        self.over *= self.factor
        self.days *= self.factor
        if learn:
            self.over += self.today
            self.days += 1.0
            self.days_raw += 1
            if self.today_max >= 0:
                self.over_days[: self.today_max + 1] += 1
        self.today[:] = 0.0
        self.today_max = -1

    def learn_late(self, seconds: float, cap: int) -> None:
        """A spell kept back from an earlier day, learned after all (a false alarm), at most to ``cap``."""
        k = min(edge_index(seconds), cap)
        if k >= 0:
            self.over[: k + 1] += 1.0
            self.over_days[: k + 1] += 1

    def base(self, rate_per_day: float) -> float:
        """The shortest edge that the learned days' spells outlast no more than ``rate_per_day`` a day."""
        allowed = rate_per_day * self.days
        k = int(np.argmax(self.over <= allowed)) if (self.over <= allowed).any() else N_EDGES - 1
        return float(WAIT_EDGES_S[k])

    def limit(self, rate_per_day: float, margin: float, start: float, min_days: int) -> float:
        """Seconds to wait in this situation: from the person's own days once ``min_days`` are learned,
        else ``start`` (the starting limit)."""
        if self.days_raw < min_days:
            return start
        return self.base(rate_per_day) * margin

    def days_over(self, seconds: float) -> int:
        """Days learned on which a spell in this situation lasted ``seconds`` or longer (edge resolution)."""
        k = edge_index(seconds)
        return int(self.over_days[k]) if k >= 0 else self.days_raw
