"""Evaluation and benchmarks of the routine core, run on purpose (not part of the test suite).

- :mod:`benchmarks.homes`: the real recorded homes in ``../shared/data`` as Hearth configs and events.
- :mod:`benchmarks.streams`: longer streams by reordering whole days, anomaly injection with ground truth.
- :mod:`benchmarks.telecare`: fixed-threshold telecare rules, the baseline Hearth must beat.
- :mod:`benchmarks.slots`: per-time-slot features, river HalfSpaceTrees and scikit-learn IsolationForest.
- :mod:`benchmarks.scoring`: recall within a deadline, detection delay, false alarms per 30 days.
- :mod:`benchmarks.evaluate` (``hearth evaluate``) and :mod:`benchmarks.bench` (``hearth bench``).
"""
