"""Streaming models of one person's normal, with a river-like contract and forgetting.

Every model has ``learn_one(x) -> bool`` (False when it refused), ``score_one(x) -> float`` (0 = usual,
1 = as unusual as it can say), ``ready`` (warm-up done), ``decay()`` (one day of forgetting, called at day
rollover) and ``missing`` handling: ``None`` (a feature whose sensor is missing) is ignored when learning
and scores 0, because a blind model must never claim something is wrong.

Per-slot z-scores and HalfSpaceTrees were too noisy on real homes, so these are robust, quantile-based
summaries of the person's own days: a weighted empirical distribution per daily marker, a log-binned
survival table of quiet spells per hour of day, an hourly activity profile and a median/MAD daily profile.
A model never learns from what it flags: ``learn_one`` refuses a value it would score at or above
``flag_above`` once warmed up.

>>> m = MarkerModel(warmup=3)
>>> [m.learn_one(v) for v in (480.0, 490.0, 500.0, 470.0)]
[True, True, True, True]
>>> round(m.quantile(0.5))
480
>>> m.score_one(2000.0)
1.0
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import Any

import numpy as np


def decay_factor(half_life_days: float) -> float:
    """Per-day weight multiplier so a day ``half_life_days`` old counts half."""
    return 0.5 ** (1.0 / half_life_days)


class MarkerModel:
    """Weighted distribution of one daily marker (wake minute, first kitchen use, exits, minutes out, ...).

    Bounded: keeps at most ``capacity`` values in a ring; old ones also fade by ``decay()``.

    Its quantiles are read many times a day (every limit at day end, each sensor's cadence) but change
    only when a value is learned or a day fades, so the sorted values and their running weight are kept
    until then (:meth:`_table`), as plain lists read with ``bisect``. The arithmetic is numpy's own (a
    stable sort, a running sum left to right, the first point at or above the share), so every quantile is
    the same float as before, to the last bit. A day fading changes the weights but never the values, so
    the sort order is kept through :meth:`decay` (only the running weight is summed again, in the same
    order, to the same floats); only a value learned or changed (:meth:`values_changed`) sorts again.
    """

    _table_cache: tuple[list[float], list[float]] | None = None  # (sorted values, running weight); not pickled
    _order_cache: tuple[Any, list[float]] | None = None  # (sort order, sorted values): values only; not pickled

    def __init__(self, half_life_days: float = 30.0, capacity: int = 120, warmup: int = 7,
                 flag_above: float = 1.0) -> None:
        self.factor = decay_factor(half_life_days)
        self.capacity = capacity
        self.warmup = warmup
        self.flag_above = flag_above  # 1.0: refuse only values beyond everything seen (set lower to be stricter)
        self.values = np.zeros(capacity)
        self.weights = np.zeros(capacity)
        self.count = 0  # values ever learned (capped reads use min(count, capacity))
        self._pos = 0

    @property
    def n(self) -> int:
        return min(self.count, self.capacity)

    @property
    def ready(self) -> bool:
        return self.n >= self.warmup

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_table_cache", None)  # derived: rebuilt on the first quantile after loading
        state.pop("_order_cache", None)
        return state

    def decay(self) -> None:
        self.weights *= self.factor
        self._table_cache = None  # (the values, so their sort order, are unchanged)

    def values_changed(self) -> None:
        """Call after writing into ``values`` from outside: the kept sort order and table are stale."""
        self._table_cache = self._order_cache = None

    def learn_one(self, x: float | None) -> bool:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return False
        if self.ready and self.flag_above < 1.0 and self.score_one(x) >= self.flag_above:
            return False
        self.values[self._pos] = x
        self.weights[self._pos] = 1.0
        self._pos = (self._pos + 1) % self.capacity
        self.count += 1
        self._table_cache = self._order_cache = None
        return True

    def _table(self) -> tuple[list[float], list[float]]:
        """(values sorted, stable; running sum of their weights), kept until the model changes."""
        table = self._table_cache
        if table is None:
            n = self.n
            order = self._order_cache
            if order is None:
                order = self._order_cache = sort_order(self.values[:n])
            table = self._table_cache = (order[1], running_weight(self.weights[:n], order[0]))
        return table

    def quantile(self, q: float) -> float | None:
        """Weighted quantile (None before any value): the value below which a share ``q`` of the weight lies."""
        if self.n == 0:
            return None
        v, cum = self._table()
        return v[min(bisect_left(cum, q * cum[-1]), len(v) - 1)]

    def share_at_most(self, x: float) -> float:
        """Weighted share of learned values <= x."""
        n = self.n
        if n == 0:
            return 0.0
        w = self.weights[:n]
        total = float(w.sum())
        return float(w[self.values[:n] <= x].sum()) / total if total > 0 else 0.0

    def score_one(self, x: float | None) -> float:
        """Upper-tail unusualness: the share of the person's days with a smaller value (0 before warm-up)."""
        if x is None or not self.ready:
            return 0.0
        n = self.n
        w = self.weights[:n]
        total = float(w.sum())
        return float(w[self.values[:n] < x].sum()) / total if total > 0 else 0.0

    def effective_days(self) -> float:
        return float(self.weights[: self.n].sum())


# Quiet-spell lengths are binned on a log scale from 5 minutes to 2 days.
GAP_MIN_S = 300.0
_GAP_BINS = GAP_BINS = 48
_GAP_EDGES = GAP_EDGES = np.geomspace(GAP_MIN_S, 2 * 86400.0, _GAP_BINS + 1)
_EDGES = _GAP_EDGES.tolist()  # the same floats, for bisect: one spell's bin costs a microsecond, not numpy's call


def gap_bin(seconds: float) -> int:
    """The log bin of a quiet spell of ``seconds`` (as ``searchsorted(GAP_EDGES, s, "right") - 1``, clipped).

    >>> gap_bin(0.0), gap_bin(300.0), gap_bin(1e9)
    (0, 0, 47)
    """
    return min(max(bisect_right(_EDGES, seconds) - 1, 0), _GAP_BINS - 1)


def hour_either_side(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the hour before and of the hour after each hour (the first axis, wrapping round the day):
    ``np.roll(a, 1, axis=0)`` and ``np.roll(a, -1, axis=0)``, the same arrays by slicing, at a fraction of
    its cost (asked for at every day end).

    >>> [x.tolist() for x in hour_either_side(np.arange(4))]
    [[3, 0, 1, 2], [1, 2, 3, 0]]
    """
    return np.concatenate((a[-1:], a[:-1])), np.concatenate((a[1:], a[:1]))


class SilenceModel:
    """Survival table of quiet spells at home, by the hour of day the spell started.

    ``learn_one((hour, seconds))`` adds one finished spell (only spells of 5+ minutes matter);
    ``score_one((hour, seconds))`` is the share of the person's spells started around that hour that
    ended sooner: how unusual it is that this silence is still going on.
    """

    def __init__(self, half_life_days: float = 30.0, warmup: int = 8, flag_above: float = 1.0) -> None:
        self.factor = decay_factor(half_life_days)
        self.warmup = warmup  # spells in the pooled 3-hour window before the slot is trusted
        self.flag_above = flag_above
        self.hist = np.zeros((24, _GAP_BINS))
        self.count = np.zeros(24, dtype=np.int64)

    def decay(self) -> None:
        self.hist *= self.factor

    @staticmethod
    def _bin(seconds: float) -> int:
        return gap_bin(seconds)

    def _pooled(self, hour: int) -> tuple[np.ndarray, int]:
        idx = [(hour - 1) % 24, hour, (hour + 1) % 24]
        return self.hist[idx].sum(axis=0), int(self.count[idx].sum())

    def ready_at(self, hour: int) -> bool:
        return self._pooled(hour)[1] >= self.warmup

    @property
    def ready(self) -> bool:
        return int(self.count.sum()) >= self.warmup

    def learn_one(self, x: tuple[int, float] | None) -> bool:
        if x is None or x[1] is None or x[1] < GAP_MIN_S:
            return False
        if self.flag_above < 1.0 and self.ready_at(x[0]) and self.score_one(x) >= self.flag_above:
            return False
        self.hist[x[0], self._bin(x[1])] += 1.0
        self.count[x[0]] += 1
        return True

    def score_one(self, x: tuple[int, float] | None) -> float:
        if x is None or x[1] is None or not self.ready_at(x[0]):
            return 0.0
        h, _ = self._pooled(x[0])
        total = float(h.sum())
        return float(h[: self._bin(x[1])].sum()) / total if total > 0 else 0.0

    def quantiles(self, q: float, extra: np.ndarray | None = None) -> list[float | None]:
        """:meth:`quantile` for all 24 hours at once (what the engine refreshes daily); ``extra``: pseudo-
        spells (24 x bins, a population prior) counted with the person's own."""
        hist = self.hist if extra is None else self.hist + extra
        count = self.count if extra is None else self.count + extra.sum(axis=1)
        before, after = hour_either_side(hist)
        pooled = hist + before + after
        before, after = hour_either_side(count)
        counts = count + before + after
        cum = np.cumsum(pooled, axis=1)
        # per hour, searchsorted(left): how many running totals lie below the share (all hours in one go)
        i = np.minimum((cum < (q * cum[:, -1])[:, None]).sum(axis=1), _GAP_BINS - 1)
        limit = _GAP_EDGES[i + 1].tolist()
        unknown = ((counts < self.warmup) | (cum[:, -1] <= 0)).tolist()
        return [None if unknown[h] else limit[h] for h in range(24)]

    def longest(self) -> float:
        """Upper edge (seconds) of the longest quiet spell learned at any hour (0 before any)."""
        filled = np.nonzero(self.hist.sum(axis=0) > 0)[0]
        return float(_GAP_EDGES[filled[-1] + 1]) if len(filled) else 0.0

    def overall_quantile(self, q: float, extra: np.ndarray | None = None) -> float | None:
        """Spell length (seconds, upper bin edge) below which a share ``q`` of ALL spells ended, any hour.

        >>> m = SilenceModel(warmup=2)
        >>> for x in [(9, 600.0), (14, 600.0), (15, 5 * 3600.0)]:
        ...     _ = m.learn_one(x)
        >>> round(m.overall_quantile(0.5)), round(m.overall_quantile(0.99) / 3600, 1)
        (664, 5.1)
        """
        h = self.hist.sum(axis=0) if extra is None else (self.hist + extra).sum(axis=0)
        n = float(self.count.sum()) + (0.0 if extra is None else float(extra.sum()))
        if n < self.warmup or h.sum() <= 0:
            return None
        cum = np.cumsum(h)
        i = int(np.searchsorted(cum, q * cum[-1], side="left"))
        return float(_GAP_EDGES[min(i, _GAP_BINS - 1) + 1])

    def quantile(self, hour: int, q: float) -> float | None:
        """Spell length (seconds, upper bin edge) below which a share ``q`` of spells near ``hour`` ended."""
        h, n = self._pooled(hour)
        if n < self.warmup or h.sum() <= 0:
            return None
        cum = np.cumsum(h)
        i = int(np.searchsorted(cum, q * cum[-1], side="left"))
        return float(_GAP_EDGES[min(i, _GAP_BINS - 1) + 1])


class ActivityProfile:
    """Expected sensor activity per hour of day, separately for weekdays and weekends, with forgetting."""

    def __init__(self, half_life_days: float = 30.0, warmup: int = 3) -> None:
        self.factor = decay_factor(half_life_days)
        self.warmup = warmup
        self.sums = np.zeros((2, 24))
        self.weights = np.zeros(2)
        self.days = np.zeros(2, dtype=np.int64)

    @property
    def ready(self) -> bool:
        return int(self.days.sum()) >= self.warmup

    def decay(self) -> None:
        self.sums *= self.factor
        self.weights *= self.factor

    def expected(self, weekend: bool) -> np.ndarray:
        k = int(weekend)
        if self.days[k] == 0:  # no weekend learned yet: the other kind of day is the best guess
            k = 1 - k
        return self.sums[k] / self.weights[k] if self.weights[k] > 0 else np.zeros(24)

    def learn_one(self, x: tuple[bool, list[int] | np.ndarray] | None) -> bool:
        if x is None:
            return False
        k = int(x[0])
        self.sums[k] += np.asarray(x[1], dtype=float)
        self.weights[k] += 1.0
        self.days[k] += 1
        return True

    def score_one(self, x: tuple[bool, list[int] | np.ndarray] | None) -> float:
        """Share of the usual day's activity missing from this day (0 = as busy as usual, 1 = nothing)."""
        if x is None or not self.ready:
            return 0.0
        exp = self.expected(x[0])
        total = float(exp.sum())
        if total <= 0:
            return 0.0
        got = np.asarray(x[1], dtype=float)
        return float(np.clip(exp - got, 0, None).sum()) / total


RANGE_SHARE = 0.25  # DailyProfileModel.outside: how far past the learned range, as a share of it, is clearly past


class DailyProfileModel:
    """Multivariate daily-profile anomaly score: robust distance of a day's features from the person's days.

    Each feature is compared with the weighted median and MAD of the person's recent days; a day's score
    is the mean, over present features, of the capped robust distance, mapped to 0..1. Missing
    features (``None`` or NaN) are skipped, so a dead sensor cannot make a day look odd.
    """

    def __init__(self, features: tuple[str, ...], half_life_days: float = 30.0, capacity: int = 90,
                 warmup: int = 7, flag_above: float = 0.9) -> None:
        self.features = features
        self.factor = decay_factor(half_life_days)
        self.warmup = warmup
        self.flag_above = flag_above
        self.capacity = capacity
        self.rows = np.full((capacity, len(features)), np.nan)
        self.weights = np.zeros(capacity)
        self.count = 0
        self._pos = 0
        self._median = np.zeros(len(features))
        self._scale = np.ones(len(features))

    @property
    def ready(self) -> bool:
        return min(self.count, self.capacity) >= self.warmup

    def decay(self) -> None:
        self.weights *= self.factor

    def _vector(self, x: dict[str, float | None]) -> np.ndarray:
        return np.array([np.nan if x.get(f) is None else float(x[f]) for f in self.features])

    def _refit(self) -> None:
        """Weighted median and MAD of every feature, all features at once (once a day; one numpy call per
        step rather than per feature)."""
        n = min(self.count, self.capacity)
        rows, w = self.rows[:n], self.weights[:n]
        med = column_wmedians(rows, w)
        mad = column_wmedians(np.abs(rows - med), w)
        for j in range(len(self.features)):
            if math.isnan(med[j]):  # no value of this feature learned yet
                self._median[j], self._scale[j] = 0.0, 1.0
                continue
            m, d = float(med[j]), float(mad[j])
            self._median[j] = m
            self._scale[j] = max(1.4826 * d, 0.1 * abs(m), 1.0)

    def learn_one(self, x: dict[str, float | None] | None) -> bool:
        if x is None:
            return False
        if self.ready and self.score_one(x) >= self.flag_above:
            return False
        self.rows[self._pos] = self._vector(x)
        self.weights[self._pos] = 1.0
        self._pos = (self._pos + 1) % self.capacity
        self.count += 1
        self._refit()
        return True

    def score_one(self, x: dict[str, float | None] | None) -> float:
        if x is None or not self.ready:
            return 0.0
        v = self._vector(x)
        ok = ~np.isnan(v)
        if not ok.any():
            return 0.0
        z = np.minimum(np.abs(v[ok] - self._median[ok]) / self._scale[ok], 6.0)
        return float(np.mean(z) / 6.0)

    def outside(self, x: dict[str, float | None] | None, min_z: float = 3.0) -> list[tuple[str, float, float, float, int]]:
        """What made a day unusual, furthest first: (feature, the day's value, the lowest and the highest
        of the learned days, how many days learned had it) for each feature clearly beyond every learned
        day's value and at least ``min_z`` robust scales from their median. Empty before warm-up.

        >>> m = DailyProfileModel(("wake", "events"), warmup=3)
        >>> for w, e in ((420, 300), (440, 320), (430, 310)):
        ...     _ = m.learn_one({"wake": w, "events": e})
        >>> m.outside({"wake": 600.0, "events": 305.0})
        [('wake', 600.0, 420.0, 440.0, 3)]
        """
        if x is None or not self.ready:
            return []
        v = self._vector(x)
        rows = self.rows[: min(self.count, self.capacity)]
        # every feature's learned range and count at once (a min and a max are exact in any grouping),
        # not three numpy calls per feature at each day end
        present = ~np.isnan(rows)
        counts = present.sum(axis=0).tolist()
        lows = np.where(present, rows, np.inf).min(axis=0).tolist()
        highs = np.where(present, rows, -np.inf).max(axis=0).tolist()
        out = []
        for j, f in enumerate(self.features):
            if np.isnan(v[j]) or counts[j] < self.warmup:
                continue
            lo, hi = lows[j], highs[j]
            z = abs(v[j] - self._median[j]) / self._scale[j]
            # clearly beyond: by a robust scale or a quarter of the learned range, whichever is more (a
            # new record by a minute or one event is what any run of days makes now and then)
            clear = max(self._scale[j], (hi - lo) * RANGE_SHARE)
            if (v[j] < lo - clear or v[j] > hi + clear) and z >= min_z:
                out.append((z, (f, float(v[j]), lo, hi, counts[j])))
        return [r for _, r in sorted(out, key=lambda zr: -zr[0])]


SMALL = 40  # below this many values a plain Python sort beats numpy's per-call overhead, above it numpy wins


def sort_order(values: np.ndarray) -> tuple[Any, list[float]]:
    """(the stable sort order of ``values``, the values in it as a list), as :func:`sorted_running_weight`."""
    if len(values) < SMALL:
        vs = values.tolist()
        order = sorted(range(len(vs)), key=vs.__getitem__)
        return order, [vs[i] for i in order]
    order = np.argsort(values, kind="stable")
    return order, values[order].tolist()


def running_weight(weights: np.ndarray, order: Any) -> list[float]:
    """The running sum of ``weights`` taken in ``order`` (from :func:`sort_order`), left to right, exactly
    as :func:`sorted_running_weight` adds them."""
    if len(weights) < SMALL:
        ws = weights.tolist()
        return list(accumulate([ws[i] for i in order]))
    return np.cumsum(weights[order]).tolist()


def sorted_running_weight(values: np.ndarray, weights: np.ndarray) -> tuple[list[float], list[float]]:
    """``values`` sorted (stable, as numpy's ``argsort(kind="stable")``) and the running sum of their weights
    added left to right (as ``np.cumsum``), as plain lists, so a quantile read from them with
    :func:`bisect.bisect_left` is numpy's ``searchsorted`` result to the last bit.

    >>> sorted_running_weight(np.array([3.0, 1.0, 2.0]), np.array([0.5, 1.0, 0.25]))
    ([1.0, 2.0, 3.0], [1.0, 1.25, 1.75])
    """
    if len(values) < SMALL:
        vs, ws = values.tolist(), weights.tolist()
        order = sorted(range(len(vs)), key=vs.__getitem__)
        return [vs[i] for i in order], list(accumulate([ws[i] for i in order]))
    order = np.argsort(values, kind="stable")
    return values[order].tolist(), np.cumsum(weights[order]).tolist()


def _wmedian(v: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    if cum[-1] <= 0:
        return float(np.median(v))
    return float(v[min(int(np.searchsorted(cum, 0.5 * cum[-1])), len(v) - 1)])


class OutingModel:
    """The outings a person came back from, by the time of day they began: for 'not back when usual'.

    Keeps the last ``capacity`` outings as (start, minutes since the person-day start; length, seconds;
    the day, an ordinal), so an explanation can name true figures: the longest outing begun within
    ``window_min`` of a moment and on how many days those outings were seen, and how late the person
    has come home. Outings are rare (a few a day at most), so a window of hours, not an hourly table.

    >>> m = OutingModel(warmup=2)
    >>> for day, (start, hours) in enumerate([(600, 2.0), (620, 3.0), (960, 1.0)]):
    ...     _ = m.learn_one((start, hours * 3600, day))
    >>> m.around(610.0)
    (10800.0, 2, 2)
    >>> m.around(1300.0) is None
    True
    """

    def __init__(self, capacity: int = 240, window_min: float = 120.0, warmup: int = 5,
                 nights_kept: int = 120) -> None:
        self.capacity = capacity
        self.window_min = window_min
        self.warmup = warmup  # outings within the window before it speaks for that time of day
        self.starts = np.zeros(capacity)
        self.lengths = np.zeros(capacity)
        self.days = np.zeros(capacity, dtype=np.int64)
        self.count = 0
        self._pos = 0
        self.nights_kept = nights_kept
        # person-day ordinal -> was the person still out at their usual bed time that day (an outing that
        # ended by itself later): the last ``nights_kept`` days learned, so the figure said is a count of days
        self.nights: dict[int, bool] = {}
        # (day learned, the outing's day, alert key): an outing still out at bed time that raised the alert,
        # counted as a night out only once nobody marked the alert real (routines.detectors.outing)
        self.late_held: list[tuple[int, int, str]] = []
        # (start, minutes since the day start; seconds added to the length limit there; the day learned):
        # outings that ran past their limit and ended by themselves, learned a bounded step at a time
        self.steps: list[tuple[float, float, int]] = []
        # (day learned, start, seconds past its limit, alert key): such an outing waiting for its alert to settle
        self.step_held: list[tuple[int, float, float, str]] = []
        self.bed_told: float | None = None  # the start of the last outing told by the bed-time limit

    def __setstate__(self, state: dict) -> None:
        # a checkpoint from before the nights and steps were learned: none yet (they are learned from here on)
        state.setdefault("nights_kept", 120)
        state.setdefault("nights", {})
        state.setdefault("late_held", [])
        state.setdefault("steps", [])
        state.setdefault("bed_told", None)
        state.setdefault("step_held", [])
        self.__dict__.update(state)

    def _near_steps(self, start: float) -> list[tuple[float, float, int]]:
        return [s for s in self.steps if min(abs(s[0] - start), 1440.0 - abs(s[0] - start)) <= self.window_min]

    def extension(self, start: float) -> tuple[float, int]:
        """(seconds added to the length limit of an outing begun at ``start``, the outings that added them).

        >>> m = OutingModel()
        >>> m.step(600.0, 1800.0, 1); m.step(650.0, 1800.0, 9); m.step(1200.0, 900.0, 9)
        >>> m.extension(620.0)
        (3600.0, 2)
        """
        near = self._near_steps(start)
        return sum(s[1] for s in near), len(near)

    def may_step(self, start: float, day: int, every_days: int) -> bool:
        """No step near ``start`` in the last ``every_days`` days."""
        return all(day - s[2] >= every_days for s in self._near_steps(start))

    def step(self, start: float, seconds: float, day: int) -> None:
        self.steps.append((start, seconds, day))
        del self.steps[: -self.capacity]

    def learn_night(self, day: int, out: bool = False) -> None:
        """Count the person-day ``day`` as learned; ``out``: the person was still out at their bed time."""
        self.nights[day] = self.nights.get(day, False) or out
        while len(self.nights) > self.nights_kept:
            del self.nights[min(self.nights)]

    def stays_out(self) -> tuple[int, int]:
        """(days the person was still out at their usual bed time, days learned), over the last days kept.

        >>> m = OutingModel()
        >>> for d in range(10):
        ...     m.learn_night(d, out=d == 3)
        >>> m.stays_out()
        (1, 10)
        """
        return sum(self.nights.values()), len(self.nights)

    @property
    def n(self) -> int:
        return min(self.count, self.capacity)

    @property
    def ready(self) -> bool:
        return self.n >= self.warmup

    def decay(self) -> None:
        """Forgetting is by capacity (the last outings), so that every figure said is a count of outings seen."""

    def learn_one(self, x: tuple[float, float, int] | None) -> bool:
        if x is None or x[1] is None or x[1] <= 0:
            return False
        self.starts[self._pos], self.lengths[self._pos], self.days[self._pos] = x
        self._pos = (self._pos + 1) % self.capacity
        self.count += 1
        return True

    def _near(self, start: float) -> np.ndarray:
        d = np.abs(self.starts[: self.n] - start)
        return np.minimum(d, 1440.0 - d) <= self.window_min

    def around(self, start: float) -> tuple[float, int, int] | None:
        """(longest length in seconds, outings, distinct days) of the outings begun within the window of
        ``start`` (minutes since the day start), or None while fewer than ``warmup`` are known there."""
        near = self._near(start)
        k = int(near.sum())
        if k < self.warmup:
            return None
        return float(self.lengths[: self.n][near].max()), k, len(set(self.days[: self.n][near].tolist()))

    def longest(self) -> tuple[float, int, int] | None:
        """(longest length, outings, distinct days) at any time of day, or None before ``warmup`` outings."""
        if not self.ready:
            return None
        return float(self.lengths[: self.n].max()), self.n, len(set(self.days[: self.n].tolist()))

    def latest_return(self, start: float) -> tuple[float, int, int, bool] | None:
        """(the latest return, minutes since the day start, of the outings begun within the window of
        ``start``; outings; distinct days; True) or, with too few there, the same over all outings (False);
        None before ``warmup`` outings. An outing over the day end counts as ending at it."""
        if not self.ready:
            return None
        near = self._near(start)
        sel = near if int(near.sum()) >= self.warmup else np.ones(self.n, dtype=bool)
        ends = np.minimum(self.starts[: self.n][sel] + self.lengths[: self.n][sel] / 60.0, 1440.0)
        return (float(ends.max()), int(sel.sum()), len(set(self.days[: self.n][sel].tolist())),
                sel is near)


def column_wmedians(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted median of each column of ``x`` (rows weighted by ``w``), NaN cells left out; NaN for a
    column without a value. All columns in one go, each exactly what :func:`_wmedian` gives on the column's
    values: numpy sorts NaN last and stably, so the running weight of the values is the same sum, and
    cells left out weigh 0, which leaves every running total as it was.

    >>> column_wmedians(np.array([[1.0, np.nan], [5.0, np.nan], [3.0, 2.0]]), np.ones(3)).tolist()
    [3.0, 2.0]
    """
    missing = np.isnan(x)
    order = np.argsort(x, axis=0, kind="stable")
    # (plain indexing, not take_along_axis: the same cells, without its index building each day end; a
    # sorted cell is NaN where its row's was, so its weight is read from the row's)
    sv = x[order, np.arange(x.shape[1])]
    cum = np.cumsum(np.where(np.isnan(sv), 0.0, w[order]), axis=0)
    total = cum[-1]
    i = np.minimum((cum < 0.5 * total).sum(axis=0), len(x) - 1)  # searchsorted(left) on each column
    out = sv[i, np.arange(x.shape[1])]
    present = (~missing).sum(axis=0)
    for j in np.nonzero((total <= 0) & (present > 0))[0]:  # no weight left at all: the plain median
        col = x[:, j]
        out[j] = float(np.median(col[~np.isnan(col)]))
    out[present == 0] = np.nan
    return out
