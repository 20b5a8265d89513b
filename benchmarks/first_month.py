"""The first month of a new install, per home, leave-one-home-out (issue 14).

A home's first ``days`` days (28) from the moment the gateway is installed: no learning period, the
core starts from the population prior made WITHOUT this home (:func:`benchmarks.prior.leave_one_out`).
Two streams share one day order (:func:`benchmarks.streams.build_streams` with no learning days):

- the clean stream: every care alert (urgent or warning) on it is a false alarm (target: <= 2 a home);
- the anomalous stream: every other day carries an injected night door exit or night bed exit with no
  return (the checks that need no learning), scored with the same deadlines as after learning (bed 60 min, door 45 min)
  (target: recall >= 0.9).

"start defaults" is the same core with no prior (the fixed starting settings alone), for comparison.

    .venv/bin/python -m benchmarks.first_month --seeds 1 2 3 4 5
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from statistics import mean, median

from benchmarks import night_hours
from benchmarks.evaluate import LOHO_PRIORS, run_hearth
from benchmarks.homes import DEFAULT_DATA, HOMES, load_home
from benchmarks.prior import leave_one_out
from benchmarks.scoring import count_alarms, is_care_alarm, score_anomalies
from benchmarks.streams import build_streams, profile

FIRST_DAYS = 28
FIRST_KINDS = ("night_bed_exit", "night_door_exit")
TARGET_FA = 2
TARGET_RECALL = 0.9
VARIANTS = ("prior", "start defaults")


def first_month(name: str, data: Path | str = DEFAULT_DATA, seed: int = 1, days: int = FIRST_DAYS) -> dict:
    """One home's first month, with the leave-one-home-out prior and with the starting settings alone."""
    p = profile(load_home(name, data))
    clean, anom, skipped = build_streams(p, 0, days, seed, kinds=FIRST_KINDS)
    priors = {"prior": leave_one_out(name, data), "start defaults": None}
    night = night_hours.leave_one_out(name, str(data))  # the default a technician leaves, made without this home
    out: dict = {"home": name, "seed": seed, "days": days, "skipped": skipped, "variants": {}}
    from gateway.config import parse_config_text

    cfg = parse_config_text(p.home.config_yaml(), f"{name}.yaml")
    for variant, prior in priors.items():
        settings = cfg.routines.model_copy(update={"population_prior": prior is not None})
        with _no_fallback_prior(name, prior):
            on_clean = run_hearth(p, clean, seed, prior, settings, night)
            on_anom = run_hearth(p, anom, seed, prior, settings, night)
        hits = score_anomalies(anom.truths, on_anom)
        kinds = {}
        for kind in FIRST_KINDS:
            got = [h for tr, h in zip(anom.truths, hits, strict=True) if tr.kind == kind]
            if got:
                kinds[kind] = {"n": len(got), "detected": sum(h[0] for h in got),
                               "delays": [h[1] for h in got if h[0] and h[1] is not None]}
        out["variants"][variant] = {
            "care_alerts": count_alarms(on_clean, clean.start),
            "by_kind": dict(Counter(d.kind for d in on_clean if is_care_alarm(d))),
            "kinds": kinds,
        }
    return out


@contextmanager
def _no_fallback_prior(name: str, prior: object) -> Iterator[None]:
    """For "start defaults" (no prior): hide the home's leave-one-home-out prior from
    :func:`benchmarks.evaluate.run_hearth`, which falls back to it for any prior that is None. Once
    ``hearth evaluate`` had filled that table (its after-learning run comes first, in the same process),
    "start defaults" ran WITH the prior, and its rows were the "prior" rows again (the oddity of issue 14)."""
    saved = LOHO_PRIORS.pop(name, None) if prior is None else None
    try:
        yield
    finally:
        if saved is not None:
            LOHO_PRIORS[name] = saved


def _one(args: tuple) -> dict:
    return first_month(*args)


def run(seeds: list[int], homes: list[str], data: str = str(DEFAULT_DATA), jobs: int = 2) -> list[dict]:
    work = [(h, data, s) for s in seeds for h in homes]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_one, work))


def table(results: list[dict]) -> str:
    """Per home and variant: care alerts in the first month (mean [lowest-highest seed]), the alert kinds
    over all seeds, and recall of injected night exits (detected / injected over all seeds)."""
    seeds = sorted({r["seed"] for r in results})
    homes = list(dict.fromkeys(r["home"] for r in results))
    lines = [f"First {results[0]['days']} days after installing, leave-one-home-out prior, seeds "
             f"{' '.join(map(str, seeds))}",
             f"{'home':<10} {'starts from':<15} {'care alerts':<16} {'bed exit':<16} {'door exit':<16} kinds of alert"]
    for home in homes:
        rs = [r for r in results if r["home"] == home]
        for variant in VARIANTS:
            vs = [r["variants"][variant] for r in rs]
            fa = [v["care_alerts"] for v in vs]
            cells = []
            for kind in FIRST_KINDS:
                n = sum(v["kinds"].get(kind, {}).get("n", 0) for v in vs)
                d = sum(v["kinds"].get(kind, {}).get("detected", 0) for v in vs)
                delays = [x for v in vs for x in v["kinds"].get(kind, {}).get("delays", [])]
                late = f" {median(delays) / 60:.0f}m" if delays else ""
                cells.append(f"{d / n:.2f} ({d}/{n}){late}" if n else f"skip: {rs[0]['skipped'].get(kind, '-')}"[:12])
            kinds = Counter()
            for v in vs:
                kinds.update(v["by_kind"])
            lines.append(f"{home:<10} {variant:<15} {mean(fa):.1f} [{min(fa)}-{max(fa)}]".ljust(43)
                         + f"{cells[0]:<16} {cells[1]:<16} "
                         + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    lines.append(f"Targets: <= {TARGET_FA} care alerts in the first {results[0]['days']} days per home; recall "
                 f">= {TARGET_RECALL} for night exits (night bed exit 60 min, night door 45 min, as after learning). Recall: detected/injected, "
                 "median delay after the onset in minutes.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--homes", nargs="+", default=list(HOMES), choices=list(HOMES))
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    print(table(run(a.seeds, a.homes, a.data, a.jobs)))


if __name__ == "__main__":
    main()
