"""One contract for every model of the person's normal: warm-up, pickles, missing sensor, seeded, no
learning from what it flags."""

from __future__ import annotations

import pickle
import random

import pytest

from routines.models import ActivityProfile, DailyProfileModel, MarkerModel, SilenceModel
from routines.state import PROFILE_FEATURES


def _marker(rng: random.Random):
    return rng.gauss(200, 20)


def _silence(rng: random.Random):
    return (rng.randrange(8, 20), rng.expovariate(1 / 1200) + 300)


def _profile(rng: random.Random):
    return (rng.random() < 2 / 7, [rng.randrange(0, 30) for _ in range(24)])


def _daily(rng: random.Random):
    return {f: rng.gauss(100, 10) for f in PROFILE_FEATURES}


MODELS = {
    "marker": (lambda: MarkerModel(warmup=5), _marker, 10_000.0, None),
    "silence": (lambda: SilenceModel(warmup=5), _silence, (12, 80_000.0), (12, None)),
    "activity": (lambda: ActivityProfile(warmup=5), _profile, (False, [0] * 24), None),
    "daily": (lambda: DailyProfileModel(PROFILE_FEATURES, warmup=5), _daily,
              dict.fromkeys(PROFILE_FEATURES, 10_000.0), dict.fromkeys(PROFILE_FEATURES)),
}


def _trained(name: str, seed: int = 1):
    make, gen, _, _ = MODELS[name]
    m, rng = make(), random.Random(seed)
    for _ in range(60):
        m.learn_one(gen(rng))
        if rng.random() < 0.1:
            m.decay()
    return m, rng


@pytest.mark.parametrize("name", MODELS)
def test_warm_up_then_scores_the_odd_one_higher(name: str) -> None:
    make, gen, odd, _ = MODELS[name]
    fresh = make()
    assert not fresh.ready and fresh.score_one(odd) == 0.0  # says nothing before it knows the person
    m, rng = _trained(name)
    assert m.ready
    usual = [m.score_one(gen(rng)) for _ in range(20)]
    assert m.score_one(odd) > max(usual) or m.score_one(odd) >= 0.99


@pytest.mark.parametrize("name", MODELS)
def test_pickle_round_trip_gives_the_same_scores(name: str) -> None:
    m, rng = _trained(name)
    probes = [MODELS[name][1](rng) for _ in range(10)] + [MODELS[name][2]]
    clone = pickle.loads(pickle.dumps(m))
    assert [clone.score_one(x) for x in probes] == [m.score_one(x) for x in probes]


@pytest.mark.parametrize("name", MODELS)
def test_seeded_training_is_deterministic(name: str) -> None:
    a, _ = _trained(name, seed=5)
    b, _ = _trained(name, seed=5)
    rng = random.Random(9)
    probes = [MODELS[name][1](rng) for _ in range(10)]
    assert [a.score_one(x) for x in probes] == [b.score_one(x) for x in probes]


@pytest.mark.parametrize("name", MODELS)
def test_survives_a_missing_sensor(name: str) -> None:
    m, _ = _trained(name)
    missing = MODELS[name][3]
    assert m.learn_one(None) is False
    assert m.score_one(None) == 0.0
    if missing is not None:  # a feature whose sensor is gone: skipped, never "anomalous"
        assert m.score_one(missing) == 0.0
        before = pickle.dumps(m)
        m.learn_one(missing)
        assert m.score_one(None) == 0.0 and pickle.loads(before).ready


def test_never_learns_from_what_it_flags() -> None:
    m = DailyProfileModel(PROFILE_FEATURES, warmup=5, flag_above=0.5)
    rng = random.Random(3)
    for _ in range(30):
        assert m.learn_one(_daily(rng))
    odd = dict.fromkeys(PROFILE_FEATURES, 10_000.0)
    assert m.score_one(odd) >= 0.5
    assert m.learn_one(odd) is False
    strict = MarkerModel(warmup=5, flag_above=0.99)
    for _ in range(30):
        strict.learn_one(_marker(rng))
    n = strict.n
    assert strict.learn_one(10_000.0) is False and strict.n == n


def test_forgetting_lets_a_routine_drift() -> None:
    """Wake time moves from 07:00 to 09:00: with forgetting, the usual time follows within weeks."""
    m = MarkerModel(half_life_days=10, capacity=120, warmup=5)
    for _ in range(60):
        m.learn_one(180.0)
        m.decay()
    for _ in range(30):
        m.learn_one(300.0)
        m.decay()
    assert m.quantile(0.5) == 300.0
