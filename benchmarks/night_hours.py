"""The default ``night_hours`` of a person (the technician's setting; issue 14), from the recorded homes.

The night-time checks that need no learning (the front door at night; out of bed at night with no sign
of life) watch from the first night within these hours. The default must fit a person nobody has
learned yet, so it is made from other people's nights: from the usual bed time (the median over the
homes' nights) to the usual EARLIEST getting up (the 10th percentile of their wakes), each home
weighted equally however many nights it recorded. The same rule the core uses for a person's own
sleep hours (``thr.sleep``: bed median to the 0.1 quantile of wakes), on the population.

A home is always judged with the hours made WITHOUT it (:func:`leave_one_out`); the shipped default
(:data:`gateway.config.DEFAULT_NIGHT_HOURS`) is made from all of them.

    .venv/bin/python -m benchmarks.night_hours
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.homes import DEFAULT_DATA, HOMES, load_home
from benchmarks.streams import DAY_START_S, profile

QUANTILES = (0.5, 0.1)  # bed time: the median night; getting up: the earliest usual (1 night in 10)
POINTS = 50


def nights(name: str, data: str = str(DEFAULT_DATA)) -> list[tuple[float, float]]:
    """(bed time, next getting up) of each recorded night, in hours after the day start (04:00)."""
    p = profile(load_home(name, data))
    by = {d.index: d for d in p.days}
    out = []
    for d in p.days:
        n = by.get(d.index + 1)
        if d.bedtime is not None and n is not None and n.wake is not None:
            out.append(((d.bedtime - d.start) / 3600, (n.wake - d.start) / 3600))
    return out


def hours(homes: list[str], data: str = str(DEFAULT_DATA)) -> tuple[str, str]:
    """("HH:MM", "HH:MM") from the nights of ``homes``: pooled quantile points, equal weight per home,
    rounded to the quarter hour inward (never wider than the data says)."""
    qs = np.linspace(0, 1, POINTS)
    per = [nights(h, data) for h in homes]
    beds = np.concatenate([np.quantile([b for b, _ in n], qs) for n in per if n])
    wakes = np.concatenate([np.quantile([w for _, w in n], qs) for n in per if n])
    bed, wake = float(np.quantile(beds, QUANTILES[0])), float(np.quantile(wakes, QUANTILES[1]))
    bed, wake = np.ceil(bed * 4) / 4, np.floor(wake * 4) / 4
    return _clock(bed), _clock(wake)


def _clock(h: float) -> str:
    m = round((h * 3600 + DAY_START_S) / 60) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def leave_one_out(home: str, data: str = str(DEFAULT_DATA)) -> str:
    """The night hours a technician leaving the default would set in ``home``: made without it."""
    start, end = hours([h for h in HOMES if h != home], data)
    return f"{start}-{end}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    a = ap.parse_args()
    print(f"{'home':<10} {'nights':>6}  {'own bed (median)':>16}  {'own earliest up (P10)':>21}  made without it")
    for h in HOMES:
        n = nights(h, a.data)
        bed = _clock(float(np.quantile([b for b, _ in n], QUANTILES[0])))
        up = _clock(float(np.quantile([w for _, w in n], QUANTILES[1])))
        print(f"{h:<10} {len(n):>6}  {bed:>16}  {up:>21}  {leave_one_out(h, a.data)}")
    s, e = hours(list(HOMES), a.data)
    print(f"all homes (the shipped default): {s}-{e}")


if __name__ == "__main__":
    main()
