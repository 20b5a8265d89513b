"""The population prior: the shipped file loads, is versioned and says how it was made; a file Hearth
cannot read is refused with the file named; its weight fades as the person's own days grow."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from test_routines_days import make_home

from routines.engine import RoutineEngine
from routines.prior import MARKERS, PriorError, load, prior_weight
from routines.settings import RoutineSettings


def test_shipped_prior_loads_is_versioned_and_holds_no_events() -> None:
    pr = load()
    assert pr.version and pr.homes >= 2 and pr.days > 0
    assert "benchmarks.prior" in pr.made  # how it was made, in the file itself
    assert set(pr.markers) == set(MARKERS)
    for m in pr.markers.values():
        assert len(m.values) == 50 and np.all(np.diff(m.values) >= 0)  # quantile points, not days
    assert pr.silence is not None and pr.silence.shape[0] == 24
    # packaged with routines (pyproject package-data '*.json' under routines/priors)
    assert resources.files("routines").joinpath("priors/population.json").is_file()


def test_a_prior_of_another_format_is_refused_naming_the_file(tmp_path) -> None:
    doc = json.loads(resources.files("routines").joinpath("priors/population.json").read_text())
    doc["format"] = 2
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PriorError, match=r"p\.json: format 2"):
        load(path)
    doc["format"] = 1
    doc["markers"]["wake"]["values"] = [1.0, float("nan")]
    path.write_text(json.dumps(doc))
    with pytest.raises(PriorError, match="marker 'wake' needs finite values"):
        load(path)


def test_prior_counts_as_three_days_and_fades_to_nothing_in_two_weeks() -> None:
    pr = load().markers["wake"]
    assert prior_weight(pr, 0, 3.0, 14) == 3.0
    assert prior_weight(pr, 7, 3.0, 14) == 1.5
    assert prior_weight(pr, 14, 3.0, 14) == 0.0


def test_day_one_limits_come_from_the_prior_not_the_fixed_setting() -> None:
    with_prior = RoutineEngine(make_home())
    without = RoutineEngine(make_home(), RoutineSettings(population_prior=False))
    wake = load().markers["wake"].values
    p, q = with_prior._persons["p1"].thr, without._persons["p1"].thr
    assert q.wake_q == 270  # 08:30, the technician's starting setting
    assert wake[0] <= p.wake_q <= wake[-1] and p.wake_q != q.wake_q
