"""The faster quantiles give the very floats the numpy formulas gave: a limit may not move by one bit.

Each reference below is the code the models used before the speed work, kept here verbatim; hypothesis
draws values with many ties (minutes, counts), decayed weights and missing features, and the cached,
plain-Python or all-columns-at-once versions must agree exactly, through learning, forgetting and a
checkpoint round trip.
"""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routines.models import GAP_BINS, GAP_EDGES, DailyProfileModel, MarkerModel, SilenceModel, gap_bin
from routines.pickling import loads
from routines.prior import Marker, blended_quantile


def ref_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float | None:
    if not len(values):
        return None
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    i = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(v[min(i, len(v) - 1)])


def ref_blended(values, weights, own, pr, q, weight_days, own_days):
    from routines.prior import prior_weight

    w_p = prior_weight(pr, own, weight_days, own_days)
    if w_p > 0 and pr is not None:
        values = np.concatenate([values, pr.values])
        weights = np.concatenate([weights, np.full(len(pr.values), w_p / len(pr.values))])
    if not len(values) or weights.sum() <= 0:
        return None
    return ref_quantile(values, weights, q)


def ref_wmedian(v: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    if cum[-1] <= 0:
        return float(np.median(v))
    return float(v[min(int(np.searchsorted(cum, 0.5 * cum[-1])), len(v) - 1)])


def ref_refit(m: DailyProfileModel) -> tuple[list[float], list[float]]:
    n = min(m.count, m.capacity)
    rows, w = m.rows[:n], m.weights[:n]
    med, scale = [], []
    for j in range(len(m.features)):
        col = rows[:, j]
        ok = ~np.isnan(col)
        if not ok.any():
            med.append(0.0)
            scale.append(1.0)
            continue
        md = ref_wmedian(col[ok], w[ok])
        mad = ref_wmedian(np.abs(col[ok] - md), w[ok])
        med.append(md)
        scale.append(max(1.4826 * mad, 0.1 * abs(md), 1.0))
    return med, scale


QS = (0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0)
days = st.lists(st.one_of(st.integers(0, 30).map(float), st.floats(-1e4, 1e4, allow_nan=False)),
                min_size=0, max_size=300)


@settings(max_examples=60, deadline=None)
@given(days, st.integers(1, 5), st.sampled_from([20, 60, 120]))
def test_marker_quantiles_are_numpys_bit_for_bit(xs: list[float], every: int, capacity: int) -> None:
    m = MarkerModel(half_life_days=7.0, capacity=capacity, warmup=3)
    for k, x in enumerate(xs):
        m.learn_one(x)
        if k % every == 0:
            m.decay()
        n = m.n
        for q in QS:
            assert m.quantile(q) == ref_quantile(m.values[:n], m.weights[:n], q)
    back = loads(pickle.dumps(m))  # the cache is not stored, and a loaded model answers the same
    assert "_table_cache" not in back.__dict__
    assert [back.quantile(q) for q in QS] == [m.quantile(q) for q in QS]


@settings(max_examples=60, deadline=None)
@given(days, st.floats(0.0, 200.0), st.lists(st.floats(0.0, 1440.0), min_size=1, max_size=40))
def test_blended_quantiles_are_the_same(xs: list[float], own: float, prior_points: list[float]) -> None:
    v = np.array(xs, dtype=float)
    w = np.array([0.9 ** k for k in range(len(xs))], dtype=float)
    pr = Marker(np.array(prior_points), per_day=1.0)
    for q in QS:
        assert blended_quantile(v, w, own, pr, q, 3.0, 14) == ref_blended(v, w, own, pr, q, 3.0, 14)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(0, 20).map(float), st.floats(-500, 1500)),
                         min_size=3, max_size=3), min_size=1, max_size=120))
def test_daily_profile_refit_is_the_same(rows: list[list[float | None]]) -> None:
    m = DailyProfileModel(("a", "b", "c"), half_life_days=5.0, capacity=90, warmup=200)  # never refuses
    for r in rows:
        m.learn_one(dict(zip(("a", "b", "c"), r, strict=True)))
        m.decay()
        med, scale = ref_refit(m)
        m._refit()
        assert m._median.tolist() == med and m._scale.tolist() == scale


def ref_silence_quantiles(m: SilenceModel, q: float, extra: np.ndarray | None) -> list[float | None]:
    hist = m.hist if extra is None else m.hist + extra
    count = m.count if extra is None else m.count + extra.sum(axis=1)
    pooled = hist + np.roll(hist, 1, axis=0) + np.roll(hist, -1, axis=0)
    counts = count + np.roll(count, 1) + np.roll(count, -1)
    cum = np.cumsum(pooled, axis=1)
    out: list[float | None] = []
    for h in range(24):
        if counts[h] < m.warmup or cum[h, -1] <= 0:
            out.append(None)
            continue
        i = int(np.searchsorted(cum[h], q * cum[h, -1], side="left"))
        out.append(float(GAP_EDGES[min(i, GAP_BINS - 1) + 1]))
    return out


spells = st.lists(st.tuples(st.integers(0, 23), st.one_of(st.floats(0, 3e5), st.sampled_from(GAP_EDGES.tolist()))),
                  max_size=200)


@settings(max_examples=60, deadline=None)
@given(spells, st.booleans())
def test_silence_limits_and_bins_are_the_same(xs: list[tuple[int, float]], with_prior: bool) -> None:
    m = SilenceModel(half_life_days=10.0, warmup=4)
    extra = np.full((24, GAP_BINS), 0.01) if with_prior else None
    for k, (hour, secs) in enumerate(xs):
        assert gap_bin(secs) == min(max(int(np.searchsorted(GAP_EDGES, secs, side="right")) - 1, 0), GAP_BINS - 1)
        m.learn_one((hour, secs))
        if k % 7 == 0:
            m.decay()
            for q in (0.5, 0.95, 0.99, 1.0):
                assert m.quantiles(q, extra) == ref_silence_quantiles(m, q, extra)


def _engine_with_cadences(cadences: list[tuple[list[float], int]]):
    """An engine whose sensors' cadences learned these values (and faded that many days each)."""
    from routines.engine import RoutineEngine
    from routines.home import Home, Person, SensorInfo
    from sensors.events import SensorKind

    roles = ("hall", "front_door", "kitchen", "fridge", "lounge")
    sensors = tuple(SensorInfo(f"s{i}", SensorKind.MOTION, roles[i % len(roles)], roles[i % len(roles)], "p1")
                    for i in range(len(cadences)))
    eng = RoutineEngine(Home("UTC", (Person("p1", "Ann", "she"),), sensors))
    for s, (xs, fade) in zip(eng.person_sensors["p1"], cadences, strict=True):
        for i, x in enumerate(xs):
            s.cadence.learn_one(x)
            if i % 7 < fade:
                s.cadence.decay()
    return eng


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(*(st.lists(x, min_size=100, max_size=160) for x in (
    st.integers(0, 30).map(float), st.floats(0.0, 30.0), st.one_of(st.integers(0, 30).map(float), st.floats(0.0, 30.0))))),
    st.integers(0, 7)), min_size=1, max_size=8))
def test_silent_limits_together_are_each_alone(cadences: list[tuple[list[float], int]]) -> None:
    """The day end's limits of all sensors read together (full rings sorted at once, whole hours as small
    integers) are each sensor's own ``_silent_limit``, to the last bit: whole hours and fractions, ties,
    faded weights, rings full or still filling."""
    from routines.detectors.health import _silent_limit, silent_limits

    eng = _engine_with_cadences(cadences)
    sensors = eng.person_sensors["p1"]
    alone = [_silent_limit(eng, s) for s in sensors]
    for s in sensors:
        s.silent_limit = None
    silent_limits(eng, sensors)
    assert [repr(s.silent_limit) for s in sensors] == [repr(x) for x in alone]


def ref_outside(m: DailyProfileModel, x: dict[str, float | None], min_z: float = 3.0) -> list:
    """DailyProfileModel.outside before the speed work, verbatim (one feature's column at a time)."""
    from routines.models import RANGE_SHARE

    if x is None or not m.ready:
        return []
    v = m._vector(x)
    rows = m.rows[: min(m.count, m.capacity)]
    out = []
    for j, f in enumerate(m.features):
        col = rows[:, j][~np.isnan(rows[:, j])]
        if np.isnan(v[j]) or len(col) < m.warmup:
            continue
        lo, hi = float(col.min()), float(col.max())
        z = abs(v[j] - m._median[j]) / m._scale[j]
        clear = max(m._scale[j], (hi - lo) * RANGE_SHARE)
        if (v[j] < lo - clear or v[j] > hi + clear) and z >= min_z:
            out.append((z, (f, float(v[j]), lo, hi, len(col))))
    return [r for _, r in sorted(out, key=lambda zr: -zr[0])]


feature = st.one_of(st.none(), st.integers(0, 20).map(float), st.floats(0, 1500))
far = st.one_of(st.none(), st.integers(-50, 50).map(float), st.floats(-5000, 5000))  # a day often out of range


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(feature, min_size=3, max_size=3), min_size=1, max_size=60),
       st.lists(far, min_size=3, max_size=3), st.floats(0.5, 4.0))
def test_daily_profile_outside_is_the_same(rows: list[list[float | None]], day: list[float | None],
                                           min_z: float) -> None:
    """What made a day unusual, all features' ranges read at once, is the one-column-at-a-time answer."""
    m = DailyProfileModel(("a", "b", "c"), half_life_days=5.0, capacity=40, warmup=3, flag_above=2.0)
    for r in rows:
        m.learn_one(dict(zip(("a", "b", "c"), r, strict=True)))
    x = dict(zip(("a", "b", "c"), day, strict=True))
    assert repr(m.outside(x, min_z)) == repr(ref_outside(m, x, min_z))
