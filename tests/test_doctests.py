"""Every docstring example in the product's packages runs and shows what the code really does: an example
is a promise to the next reader (two had gone stale when 'not up' began waiting for its conservative start)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("sensors", "routines", "alerts", "gateway", "hub", "benchmarks")


def _modules() -> list[str]:
    """The modules that hold at least one example."""
    names, finder = [], doctest.DocTestFinder()
    for pkg in PACKAGES:
        root = importlib.import_module(pkg)
        for m in pkgutil.walk_packages(root.__path__, f"{pkg}."):
            if not m.ispkg and any(t.examples for t in finder.find(importlib.import_module(m.name))):
                names.append(m.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_the_examples_in_a_module_run_as_written(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
