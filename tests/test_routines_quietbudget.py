"""Daytime stillness limits spent from the budget's daytime-quiet share (routines.detectors.quietbudget):
more budget gives no longer limit and some shorter, the learned days stay within the share, the alert
names the person's own figures, and a carer's 'false alarm' moves the limit one bounded step.

The person's days come from the seeded generator of test_routines_days (see test_routines_situations).
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_routines_days import at, make_home, month
from test_routines_situations import DAY0, LEARNED, care, ev, feed, morning

from routines.detectors.days import FALSE_ALARM_MOVE_S
from routines.detectors.quietbudget import floor_bin, hour_spells, spend
from routines.detectors.situations import rate_per_day
from routines.engine import RoutineEngine
from routines.models import GAP_BINS, GAP_EDGES
from routines.settings import RoutineSettings

STEP = float(GAP_EDGES[1] / GAP_EDGES[0])  # one spell bin: a limit's finest step (about 14 %)


def flagged(hist: np.ndarray, k: np.ndarray) -> float:
    """The spells of ``hist`` past each row's limit bin: the alerts those limits would have raised."""
    return float(sum(hist[i, j + 1:].sum() for i, j in enumerate(k)))


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 30), a=st.floats(0.0, 3.0), more=st.floats(0.0, 3.0))
def test_spent_limits_fit_the_share_within_floor_and_cap_and_never_grow_with_more_budget(
        seed: int, rows: int, a: float, more: float) -> None:
    rng = np.random.default_rng(seed)
    hist = rng.poisson(rng.uniform(0, 2, (rows, 1)) * np.exp(-np.arange(GAP_BINS) / rng.uniform(2, 12)))
    hist = hist * rng.uniform(0.2, 1.0, hist.shape)  # forgetting: old spells count less
    lo = rng.integers(0, 10, rows)
    hi = lo + rng.integers(5, 30, rows)
    k = spend(hist, a, lo, hi)
    assert ((lo <= k) & (k <= hi)).all()
    at_cap = flagged(hist, hi)  # what the caps flag anyway
    assert flagged(hist, k) <= max(a, at_cap) + 1e-6
    k2 = spend(hist, a + more, lo, hi)
    assert (k2 <= k).all()  # more budget: no limit longer


def spend_80_steps(hist: np.ndarray, allowed: float, lo: np.ndarray, hi: np.ndarray | None = None) -> np.ndarray:
    """``spend`` as it was before the speed work (every bin's wait made at each price, all 80 steps), verbatim."""
    upper = GAP_EDGES[1:]
    tail = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]
    over = np.concatenate([tail[:, 1:], np.zeros((len(hist), 1))], axis=1)
    cols = np.arange(GAP_BINS)
    top = GAP_BINS - 1 if hi is None else hi
    out = (cols[None, :] < lo[:, None]) | (cols[None, :] > np.broadcast_to(top, lo.shape)[:, None])

    def limits(price: float) -> np.ndarray:
        return np.argmin(np.where(out, np.inf, upper[None, :] + price * over), axis=1)

    def flagged(k: np.ndarray) -> float:
        return float(over[np.arange(len(hist)), k].sum())

    if flagged(limits(0.0)) <= allowed + 1e-9:
        return limits(0.0)
    lo_p, hi_p = 1e-3, 1e12
    for _ in range(80):
        mid = float(np.sqrt(lo_p * hi_p))
        lo_p, hi_p = (lo_p, mid) if flagged(limits(mid)) <= allowed + 1e-9 else (mid, hi_p)
    return limits(hi_p)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 40), share=st.sampled_from([0.0, 1e-4, 0.01, 0.1, 0.5, 1.0]),
       capped=st.booleans())
def test_the_bisection_stopped_at_its_fixed_point_gives_the_limits_of_all_80_steps(
        seed: int, rows: int, share: float, capped: bool) -> None:
    rng = np.random.default_rng(seed)
    hist = rng.poisson(rng.uniform(0, 3, (rows, 1)) * np.exp(-np.arange(GAP_BINS) / rng.uniform(1, 15)))
    hist = hist * rng.uniform(0.05, 1.0, hist.shape) * (rng.random(hist.shape) < rng.uniform(0.2, 1.0))
    lo = rng.integers(0, 20, rows)
    hi = np.minimum(lo + rng.integers(0, 30, rows), GAP_BINS - 1) if capped else None
    allowed = share * float(hist.sum())
    assert spend(hist, allowed, lo, hi).tolist() == spend_80_steps(hist, allowed, lo, hi).tolist()


def test_two_limits_whose_prices_differ_by_1e_13_are_told_apart_as_by_all_80_steps() -> None:
    # two spenders with their spells in bin 1, each cut at bin 0 or 1: the first lengthens at the price
    # (UPPER[1] - UPPER[0]) / 1000, the second 1e-13 of that later; the budget fits once the first has
    # lengthened, so only a bisection run to its end keeps the second short (a short one lengthens both)
    hist = np.zeros((2, GAP_BINS))
    hist[0, 1], hist[1, 1] = 1000.0, 1000.0 / (1 + 1e-13)
    lo, hi = np.zeros(2, int), np.ones(2, int)
    allowed = hist[1, 1] + 1e-7
    assert spend_80_steps(hist, allowed, lo, hi).tolist() == [1, 0]
    assert spend(hist, allowed, lo, hi).tolist() == [1, 0]


def test_a_shorter_spell_is_cut_first_where_it_saves_most() -> None:
    hist = np.zeros((2, GAP_BINS))
    hist[0, 10], hist[1, 30] = 1.0, 1.0  # one spell each: of about 20 min, and of about 5 h
    lo = np.zeros(2, dtype=int)
    assert list(spend(hist, 0.5, lo)) == [10, 30]  # half a spell: past every spell seen
    assert list(spend(hist, 1.0, lo)) == [10, 0]  # one: the 5-hour spell's hour, where hours are saved


def some_long_quiet(i: int, d, day: list) -> list:
    """Every tenth day Ann is still for two hours from 13:30 (a nap in bed clothes on the sofa)."""
    if i % 10 != 3:
        return day
    lo, hi = at(d, 13.5), at(d, 15.5)
    return [e for e in day if not (lo <= e[0] < hi)]


def learned(budget: float) -> RoutineEngine:
    eng = RoutineEngine(make_home(), RoutineSettings(population_prior=False, false_alarm_budget_per_30d=budget))
    feed(eng, month(DAY0, LEARNED, seed=7, edit=some_long_quiet), at(DAY0 + timedelta(days=LEARNED), 6.0))
    return eng


def test_more_budget_gives_shorter_limits_and_the_learned_days_stay_within_the_share() -> None:
    lims = {}
    for budget in (1.0, 30.0):
        eng = learned(budget)
        p = eng._persons["p1"]
        assert p.thr.silence_budget  # a month learned: the limits are the budget's
        ctx = [s for s in eng.person_sensors["p1"] if s.ctx_limit is not None]
        # the learned days' spells past every limit (before the margin) fit the daytime-quiet share
        hist = np.vstack([hour_spells(p.silence.hist), *[s.after_hist for s in ctx]])
        k = [floor_bin(b) for b in p.thr.silence_q] + [floor_bin(s.ctx_base) for s in ctx]
        assert flagged(hist, np.array(k)) <= rate_per_day(eng, p) * p.activity_total.effective_days() + 1e-9
        lims[budget] = [*p.thr.silence_thr, *[s.ctx_limit for s in ctx]]
    assert all(b <= a for a, b in zip(lims[1.0], lims[30.0], strict=True))
    # the two-hour quiets after the living room's motion sensor: a thirtyfold budget may flag them
    assert sum(lims[30.0]) < sum(lims[1.0])


def quiet_from_13_30(eng: RoutineEngine) -> list:
    """The test day: up as usual, in the chair 11:00-12:30, last moving in the living room at 13:30, then
    nothing until 17:00 (asleep on the sofa, say), about again until bed at 22:30; fed past the day's end,
    so the spell is kept back, not learned."""
    d = DAY0 + timedelta(days=LEARNED)
    day = sorted([*morning(d), ev(at(d, 11.0), "chair", True), ev(at(d, 12.5), "chair", False),
                  ev(at(d, 13.5), "living_pir", True), *[ev(at(d, 17.0 + k / 3), "living_pir", True) for k in range(15)],
                  ev(at(d, 22.5), "bed", True)], key=lambda e: e.time)
    return [a for a in care(feed(eng, day, at(d, 29.0))) if a.kind == "silence"]


def test_the_alert_names_her_own_figures_and_a_false_alarm_moves_the_limit_one_bounded_step() -> None:
    eng = learned(1.0)  # (a far larger budget could afford one more spell past the limit: it would not move)
    p = eng._persons["p1"]
    before = p.thr.silence_thr[13]
    spells = int(p.silence.count[[12, 13, 14]].sum())
    base, days = round(p.thr.silence_q[13] / 60), p.activity_total.n
    [a] = quiet_from_13_30(eng)
    d = DAY0 + timedelta(days=LEARNED)
    assert timedelta(seconds=before) <= a.time - at(d, 13.5) < timedelta(seconds=before + 60)  # ticks each minute
    assert (f"At this time of day her quiet spells at home have rarely lasted longer than {base} min "
            f"({spells} quiet spells around this hour, over {days} days learned)") in a.message
    assert a.evidence["limit_min"] == round(before / 60, 1) and not a.evidence["by_last_sensor"]
    assert p.thr.silence_thr[13] == before  # kept back: the alert's own spell is not learned by itself
    eng.record_outcome(a.key, "false_alarm")
    after = p.thr.silence_thr[13]
    assert before < after <= (before + FALSE_ALARM_MOVE_S) * STEP  # later, by the hour's clip and one bin at most


def test_the_no_meal_deadline_waits_for_all_but_the_budgets_share_of_her_days() -> None:
    """'No meal' from the same budget: the learned days whose first kitchen use came later than the usual
    time it waits for (before its margin) fit the share, and more budget never waits longer."""
    usual = {}
    for budget in (1.0, 30.0):
        eng = learned(budget)
        p = eng._persons["p1"]
        m, n = p.kitchen_model, p.kitchen_model.n
        later = float(m.weights[:n][m.values[:n] > p.thr.kitchen_q + 1e-6].sum())
        assert later <= rate_per_day(eng, p) * m.effective_days() + 1e-9
        usual[budget] = p.thr.kitchen_q
    assert usual[30.0] <= usual[1.0]


def random_case(rng: np.random.Generator) -> tuple[np.ndarray, float, np.ndarray, np.ndarray | None]:
    """A random ``spend`` input of the awkward kinds: whole or decayed counts, empty rows, rows repeated
    (their ties at the same price), floors and caps anywhere (a single bin too), and a share that is
    exactly what some limits flag (the budget's edge) or a random one."""
    rows = int(rng.integers(1, 36))
    scale = rng.uniform(0.01, 5.0) * np.exp(-np.arange(GAP_BINS) / rng.uniform(0.5, 15))
    hist = rng.poisson(scale * rng.uniform(0, 3, (rows, 1))).astype(float)
    if rng.random() < 0.5:
        hist *= rng.choice([1.0, 0.97 ** rng.integers(0, 400), 1e-6], hist.shape)  # forgetting, unevenly
    hist[rng.random(rows) < 0.15] = 0.0
    dup = rng.random(rows) < 0.2
    hist[dup] = hist[rng.integers(0, rows, int(dup.sum()))]
    lo = rng.integers(0, GAP_BINS, rows)
    hi = None if rng.random() < 0.3 else np.minimum(lo + rng.integers(0, 30, rows), GAP_BINS - 1)
    if rng.random() < 0.5:  # exactly the spells some limits flag
        k = rng.integers(lo, GAP_BINS if hi is None else hi + 1)
        allowed = float(sum(hist[i, j + 1:].sum() for i, j in enumerate(k)))
    else:
        allowed = float(rng.uniform(0, 1.2) * hist.sum())
    return hist, allowed, lo, hi


def test_the_last_steps_in_plain_floats_give_the_bisections_limits_on_thousands_of_random_inputs() -> None:
    # spend's last steps (quietbudget._last_steps) stand for the bisection's: the same limits, exactly
    rng = np.random.default_rng(20261207)
    for _ in range(3000):
        hist, allowed, lo, hi = random_case(rng)
        assert spend(hist, allowed, lo, hi).tolist() == spend_80_steps(hist, allowed, lo, hi).tolist()


def test_where_rounding_turns_the_fit_back_and_forth_the_limits_are_still_the_bisections() -> None:
    # two spenders, each cut at bin 0 or 1 and with one spell in bin 1: their ties fall at the same price,
    # but their other spells differ, so their waits round differently near it, and which one lengthens
    # first flips from float to float. The budget lets one lengthen: the fit turns on and off near the tie
    # and the bisection's answer depends on the prices it tried, not only on the lowest fitting one
    rng = np.random.default_rng(5)
    upper = GAP_EDGES[1:]
    lo, hi = np.zeros(2, int), np.ones(2, int)
    path_dependent = 0
    for _ in range(300):
        hist = np.zeros((2, GAP_BINS))
        hist[:, 1] = 1.0
        hist[:, 2:] = rng.integers(0, 20, (2, GAP_BINS - 2))
        over = np.stack([hist[:, 1:].sum(axis=1), hist[:, 2:].sum(axis=1)], axis=1)
        allowed = float(over[:, 0].sum() - 1.0)
        ref = spend_80_steps(hist, allowed, lo, hi).tolist()
        assert spend(hist, allowed, lo, hi).tolist() == ref
        price = float(upper[1] - upper[0]) * (1 - 1e-13)  # the lowest fitting float, from below the tie
        while over[[0, 1], (k := (upper[:2] + price * over).argmin(axis=1))].sum() > allowed:
            price = math.nextafter(price, math.inf)
        path_dependent += k.tolist() != ref
    assert path_dependent > 10  # the inputs do reach the rounding's back and forth
