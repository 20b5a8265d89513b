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

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from routines.models import GAP_BINS, GAP_EDGES, hour_either_side

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.settings import RoutineSettings
    from routines.state import PersonState, SensorState

UPPER = GAP_EDGES[1:]  # a limit at bin k waits UPPER[k]: the spells of bin k ended before it
_UPPER_LIST = UPPER.tolist()
# the bisection's step from which its last steps are tried in plain floats (:func:`_two_bins`); sooner, the
# bounds are so far apart that some row's limit nearly always changes more than once between them (on the
# quiet-home file: never at the third step, one call in nine at the second), and a try that fails costs
# about a step. Speed only: any step gives the same limits
TRY_FROM = 3


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
    # the bins out of range wait forever and flag nothing, set once here rather than at each price tried:
    # inside the range the sum below is the same UPPER[k] + price * over[k], to the last bit
    out, wait = _out_of_range(lo, hi)
    over_in = np.where(out, 0.0, over)
    # each price tried works in one scratch array and reads the flagged spells from the flat rows: the
    # same products, sums and picks as (wait + price * over_in).argmin and over[rows, k], without the
    # temporaries
    scratch = np.empty_like(wait)
    flat, row_start = over.ravel(), np.arange(len(hist)) * over.shape[1]
    budget = allowed + 1e-9

    def limits(price: float) -> np.ndarray:
        # the first (shortest) of equally good limits: what makes a limit grow only with the price
        np.multiply(over_in, price, out=scratch)
        np.add(wait, scratch, out=scratch)
        return scratch.argmin(axis=1)

    def fits(k: np.ndarray) -> bool:
        return float(flat.take(row_start + k).sum()) <= budget

    if fits(k := limits(0.0)):
        return k
    # bisect the price in log steps for the lowest whose limits fit (seconds saved per spell flagged: at
    # 1e12 no limit flags a spell it can avoid); a few steps in, the steps left are taken in plain floats
    # where that gives the same limits at every price still to try (:func:`_steps_left`)
    lo_p, hi_p = 1e-3, 1e12
    k_lo = k_hi = None  # the limits at lo_p and hi_p, once judged
    for step in range(80):
        mid = math.sqrt(lo_p * hi_p)  # (correctly rounded, as np.sqrt: the same float, a tenth of the call)
        # no float left between the two and this price already judged: every further step would judge it
        # again and change nothing, so stop (about 58 steps do; the same limits as all 80, exactly)
        if (mid == hi_p and k_hi is not None) or (mid == lo_p and lo_p != 1e-3):
            break
        if fits(k := limits(mid)):
            hi_p, k_hi = mid, k
        else:
            lo_p, k_lo = mid, k
        if step >= TRY_FROM and k_lo is not None and k_hi is not None:
            pairs = _two_bins(lo_p, k_lo, hi_p, k_hi, wait, over_in, over)
            if pairs is not None:
                return _steps_left(79 - step, lo_p, k_lo, hi_p, k_hi, pairs, fits)
    return limits(hi_p) if k_hi is None else k_hi


_RANGES: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # floors and caps -> (out, wait): see below


def _out_of_range(lo: np.ndarray, hi: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(each row's bins outside ``lo`` to ``hi``, the bins' waits with those infinite), read-only: made once
    for each set of floors and caps (a home's are the same every day end), not at every call."""
    top = None if hi is None else np.asarray(hi)  # (a single cap for every row too, as broadcast below)
    key = (lo.dtype.str, lo.tobytes(), None if top is None else (top.dtype.str, top.shape, top.tobytes()))
    if key not in _RANGES:
        if len(_RANGES) >= 64:  # (a bound on the memory: a home has a few, a test many)
            _RANGES.clear()
        cols = np.arange(GAP_BINS)
        cap = GAP_BINS - 1 if top is None else top
        out = (cols[None, :] < lo[:, None]) | (cols[None, :] > np.broadcast_to(cap, lo.shape)[:, None])
        wait = np.where(out, np.inf, UPPER[None, :])
        out.flags.writeable = wait.flags.writeable = False
        _RANGES[key] = out, wait
    return _RANGES[key]


Pair = tuple[float, float, int, float, float, float, float]  # zone from, to; row; UPPER, over of bins j and k


def _two_bins(lo_p: float, k_lo: np.ndarray, hi_p: float, k_hi: np.ndarray, wait: np.ndarray,
              over_in: np.ndarray, over: np.ndarray) -> list[Pair] | None:
    """When every row's limit at any price between ``lo_p`` and ``hi_p`` is provably its limit at one bound
    or the other (``k_lo``, ``k_hi``, bins j and k): the rows whose limits differ, each as a :data:`Pair`;
    None otherwise.

    Bin by bin, a row's wait plus price times its flagged spells is a line in the price. A bin 1e-9 dearer
    than the cheapest of j and k at both bounds and (where they differ) where those two tie, is dearer at
    every price between (its distance from the cheaper of the two is least at one of these three), by far
    more than rounding (about 2e-16). So only j and k are left to compare, as ``limits`` does. Each row's
    *zone* is where rounding might decide between the two (their exact difference within the error of
    their two roundings each, widened eight times); outside it the exact sign does."""
    rows = np.flatnonzero(k_lo != k_hi)
    j, k = k_lo[rows], k_hi[rows]
    o_j, o_k, w_j, w_k = over[rows, j], over[rows, k], UPPER[j], UPPER[k]
    drop, rise = o_j - o_k, w_k - w_j  # the spells a row stops flagging, the wait it adds
    if np.count_nonzero(drop <= 0):
        return None
    tie = rise / drop
    cost = w_j + tie * o_j
    at_tie = over_in[rows] * tie[:, None]
    at_tie += wait[rows]
    if np.count_nonzero(at_tie <= (cost * (1 + 1e-9))[:, None]) != 2 * len(rows):  # j and k only
        return None
    zone = 8 * (9e-16 * cost / rise + 1e-15)  # (relative to the tie: see the docstring)
    if np.count_nonzero(zone >= 1e-3):  # a row so flat that rounding decides it anywhere: bisect on instead
        return None
    # (the rows whose limits differ first: where one changes more than once between the bounds, a third
    # of the tries on the quiet-home file, the full rows need not be made)
    n = np.arange(len(k_lo))
    for p, kb in ((lo_p, k_lo), (hi_p, k_hi)):
        at_p = over_in * p
        at_p += wait
        if np.count_nonzero(at_p <= at_p[n, kb][:, None] * (1 + 1e-9)) != len(kb):  # a bin near a row's cheapest
            return None
    return list(zip((tie * (1 - zone)).tolist(), (tie * (1 + zone)).tolist(), rows.tolist(),
                    w_j.tolist(), o_j.tolist(), w_k.tolist(), o_k.tolist(), strict=True))


def _steps_left(steps: int, lo_p: float, k_lo: np.ndarray, hi_p: float, k_hi: np.ndarray, pairs: list[Pair],
                fits: Callable[[np.ndarray], bool]) -> np.ndarray:
    """The bisection's last ``steps`` from ``lo_p`` (its limits ``k_lo`` do not fit) and ``hi_p`` (``k_hi``
    fit), each price judged from ``pairs`` (:func:`_two_bins`): which rows have taken their longer bin k,
    by the exact sign outside their zones and inside in plain floats with the same two roundings as
    ``limits``; the spells those limits flag are summed by ``fits`` as at every step, once for each set
    of rows. The same prices, judgements and limits as the bisection run on: the same answer, without
    presuming that the fit turns only once as the price grows (rounding can turn it back and forth)."""
    judged: dict[tuple[int, ...], tuple[bool, np.ndarray]] = {}

    def judge(took: tuple[int, ...]) -> tuple[bool, np.ndarray]:
        if took not in judged:
            k = k_lo.copy()
            for row in took:
                k[row] = k_hi[row]
            judged[took] = fits(k), k
        return judged[took]

    best, active, longer = k_hi, pairs, ()  # longer: the rows whose zone is below lo_p: bin k for good
    while steps:
        # a price below every zone still between the bounds, or above every one, needs no row compared:
        # most steps, in a loop of their own until a bound passes a zone
        fro, fro_max = min((a[0] for a in active), default=math.inf), max((a[0] for a in active), default=0.0)
        to, to_min = max((a[1] for a in active), default=0.0), min((a[1] for a in active), default=math.inf)
        below = above = None
        while steps:
            steps -= 1
            mid = math.sqrt(lo_p * hi_p)
            if mid == hi_p or (mid == lo_p and lo_p != 1e-3):  # the bisection's fixed point
                return best
            if mid < fro:
                ok, k = below = below or judge(longer)
            elif mid > to:
                ok, k = above = above or judge(longer + tuple(a[2] for a in active))
            else:  # inside a zone: row by row
                ok, k = judge(longer + tuple(row for a_fro, a_to, row, w_j, o_j, w_k, o_k in active
                                             if mid > a_to or (mid >= a_fro and w_k + mid * o_k < w_j + mid * o_j)))
            if ok:
                hi_p, best = mid, k
                if hi_p <= fro_max:
                    break
            else:
                lo_p = mid
                if lo_p >= to_min:
                    break
        # a zone now above every price left keeps its row's bin j, one below takes k for good
        longer += tuple(a[2] for a in active if a[1] <= lo_p)
        active = [a for a in active if lo_p < a[1] and a[0] < hi_p]
    return best


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


@functools.lru_cache(maxsize=64)
def _floors_and_caps(floor_s: float, sensor_floor_s: float, cap_s: float, sensors: int) -> tuple[np.ndarray, np.ndarray]:
    """The bins of the floors (24 hours', then the sensors') and of the cap, read-only: the same every day
    end of a home with as many sensors learned, so made once."""
    lo = np.array([floor_bin(floor_s)] * 24 + [floor_bin(sensor_floor_s)] * sensors)
    hi = np.array([floor_bin(cap_s)] * (24 + sensors))
    lo.flags.writeable = hi.flags.writeable = False
    return lo, hi


def refresh(eng: RoutineEngine, p: PersonState, sensors: list[SensorState], rate: float) -> list[float]:
    """Once ``situation_min_days`` of the person's own days are learned: the budgeted base (seconds, before
    the margin) of each hour's limit, returned, and of each sensor's in ``sensors`` (``ctx_limit``,
    ``ctx_base``), all from one daytime-quiet share, ``rate`` alerts a day."""
    st = eng.settings
    m = margin(st)
    hist = np.vstack([hour_spells(p.silence.hist), *[s.after_hist for s in sensors]])
    lo, hi = _floors_and_caps(st.silence_floor_min * 60 / m, st.stillness_context_floor_min * 60 / m,
                              st.silence_cap_min * 60 / m, len(sensors))
    # (the limits' seconds from a list: the same floats as float(UPPER[j]), without a numpy scalar each)
    edges = [_UPPER_LIST[j] for j in spend(hist, rate * p.activity_total.effective_days(), lo, hi).tolist()]
    for s, base in zip(sensors, edges[24:], strict=True):
        s.ctx_base = base
        s.ctx_limit = max(st.stillness_context_floor_min * 60, m * base)
    return edges[:24]
