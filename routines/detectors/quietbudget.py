"""Daytime stillness limits (per hour of the day, per sensor last seen) spent from one share of the budget.

The person's false-alarm budget (``false_alarm_budget_per_30d``) is split evenly over the situations the
home can see (:func:`routines.detectors.situations.rate_per_day`); daytime quiet is one of them. Its
share, in quiet spells a day, is spent across *spenders*: each hour of the day (the quiet spells that
began in it, ``SilenceModel.hist``, smoothed over the hour either side) and each sensor whose gaps after
it are learned (``SensorState.after_hist``). A spender's limit is an upper edge of the spell bins
(:data:`routines.models.GAP_EDGES`); the learned days' spells past it are the alerts it would have raised.

:func:`spend` sets every limit at one price, minutes of waiting a flagged spell must save: each spender
takes the limit with the least wait plus price times the spells it flags, and the price is the lowest at
which the spells flagged in all stay within the share times the decayed days learned. So the share goes
where the quiet spells are short (a shorter limit is cheap there), and recall rises where it costs least.
A sensor's spells are also an hour's, so counting both is on the safe side. The limits are then times
``situation_margin`` (for what a few weeks cannot show), within the floors and caps of the detector.

>>> import numpy as np
>>> quiet = np.zeros((2, GAP_BINS)); quiet[0, 10] = 20.0; quiet[1, 30] = 20.0; quiet[1, 31] = 1.0
>>> [round(GAP_EDGES[k + 1] / 60) for k in spend(quiet, allowed=0.5, lo=np.zeros(2, int))]  # nothing to spare
[21, 346]
>>> [round(GAP_EDGES[k + 1] / 60) for k in spend(quiet, allowed=1.0, lo=np.zeros(2, int))]  # one spell: cut hour 1
[21, 303]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from routines.models import GAP_BINS, GAP_EDGES, hour_either_side

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.settings import RoutineSettings
    from routines.state import PersonState, SensorState

UPPER = GAP_EDGES[1:]  # a limit at bin k waits UPPER[k]: the spells of bin k ended before it


def spend(hist: np.ndarray, allowed: float, lo: np.ndarray, hi: np.ndarray | None = None) -> np.ndarray:
    """Per spender (rows of ``hist``: decayed spells per length bin), the bin whose upper edge is its limit,
    from ``lo`` to ``hi`` (the floor's and the cap's bins), flagging at most ``allowed`` of the spells in all
    (what the cap flags anyway counts too).

    Each spender takes the limit that minimises its wait plus ``price`` times the spells it flags, at the
    lowest price (minutes of waiting a flagged spell must save) whose limits fit ``allowed``: the shortest
    limits that fit, and a spender's limit never grows when ``allowed`` does (a higher price only lengthens
    a limit), so more budget means no limit longer and, where it buys anything, shorter ones.
    """
    tail = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # spells in bin k or longer
    over = np.concatenate([tail[:, 1:], np.zeros((len(hist), 1))], axis=1)  # spells past bin k's upper edge
    cols = np.arange(GAP_BINS)
    top = GAP_BINS - 1 if hi is None else hi
    out = (cols[None, :] < lo[:, None]) | (cols[None, :] > np.broadcast_to(top, lo.shape)[:, None])
    # the bins out of range wait forever and flag nothing, set once here rather than at each of the ~60
    # prices tried (a quiet home's day end is mostly this function): inside the range the sum below is
    # the same UPPER[k] + price * over[k], to the last bit
    wait = np.where(out, np.inf, UPPER[None, :])
    over_in = np.where(out, 0.0, over)
    # each price tried works in one scratch array and reads the flagged spells from the flat rows: the
    # same products, sums and picks as (wait + price * over_in).argmin and over[rows, k], without the
    # temporaries (about 60 prices a day end)
    scratch = np.empty_like(wait)
    flat, row_start = over.ravel(), np.arange(len(hist)) * over.shape[1]

    def limits(price: float) -> np.ndarray:
        # the first (shortest) of equally good limits: what makes a limit grow only with the price
        np.multiply(over_in, price, out=scratch)
        np.add(wait, scratch, out=scratch)
        return scratch.argmin(axis=1)

    def flagged(k: np.ndarray) -> float:
        return float(flat.take(row_start + k).sum())

    if flagged(limits(0.0)) <= allowed + 1e-9:
        return limits(0.0)
    lo_p, hi_p = 1e-3, 1e12  # seconds saved per spell flagged: at 1e12 no limit flags a spell it can avoid
    best = None  # limits(hi_p), once a price tried fits
    for _ in range(80):  # bisect the price in log steps: the lowest whose limits fit
        mid = math.sqrt(lo_p * hi_p)  # (correctly rounded, as np.sqrt: the same float, a tenth of the call)
        # no float left between the two and this price already judged: every further step would judge it
        # again and change nothing, so stop (about 60 steps do; the same limits as all 80, exactly)
        if (mid == hi_p and best is not None) or (mid == lo_p and lo_p != 1e-3):
            break
        k = limits(mid)
        if flagged(k) <= allowed + 1e-9:
            hi_p, best = mid, k
        else:
            lo_p = mid
    return limits(hi_p) if best is None else best


def margin(st: RoutineSettings) -> float:
    """The multiplier on a budgeted stillness limit, for what a few weeks cannot show: the situations' own.
    Leave-one-home-out (benchmarks.seeds, 5 seeds) over 1.0, 1.25 and 1.5, each held-out home's limits
    chosen by the other two as the most collapses found without more silence false alarms than before:
    every fold picks 1.25 (1.0 cost house A 3.3 silence false alarms a month; 1.5 found fewer in A and C)."""
    return st.situation_margin


def floor_bin(seconds: float) -> int:
    """The lowest bin whose upper edge is at least ``seconds`` (a floor a limit may not go below)."""
    return int(min(np.searchsorted(UPPER, seconds, side="left"), GAP_BINS - 1))


def hour_spells(hist: np.ndarray) -> np.ndarray:
    """The spells of each hour smoothed with the hour either side (as the quantile rule pooled them), per
    hour: the pooled count over three, so the 24 hours together still hold each spell once."""
    before, after = hour_either_side(hist)
    return (hist + before + after) / 3.0


def refresh(eng: RoutineEngine, p: PersonState, sensors: list[SensorState], rate: float) -> list[float]:
    """Once ``situation_min_days`` of the person's own days are learned: the budgeted base (seconds, before
    the margin) of each hour's limit, returned, and of each sensor's in ``sensors`` (``ctx_limit``,
    ``ctx_base``), all from one daytime-quiet share, ``rate`` alerts a day."""
    st = eng.settings
    m = margin(st)
    hist = np.vstack([hour_spells(p.silence.hist), *[s.after_hist for s in sensors]])
    lo = np.array([floor_bin(st.silence_floor_min * 60 / m)] * 24
                  + [floor_bin(st.stillness_context_floor_min * 60 / m)] * len(sensors))
    hi = np.array([floor_bin(st.silence_cap_min * 60 / m)] * (24 + len(sensors)))
    k = spend(hist, rate * p.activity_total.effective_days(), lo, hi)
    for s, j in zip(sensors, k[24:], strict=True):
        s.ctx_base = float(UPPER[j])
        s.ctx_limit = max(st.stillness_context_floor_min * 60, m * s.ctx_base)
    return [float(UPPER[j]) for j in k[:24]]
