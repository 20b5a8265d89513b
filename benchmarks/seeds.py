"""``hearth evaluate`` over several seeds: the mean and the spread, because one day order is not enough.

The recordings hold 19-24 usable days, so a 200-day stream is copies of them in a seeded order, and a
single odd recorded day that the order happens to repeat often moves a home's false alarms a month by
1-3 (house C: 1.4 with seed 1, 2.7 with seed 2). This runs the same evaluation (same streams, same
scoring: :mod:`benchmarks.evaluate`) for each seed and prints, per home, kit and system, the mean recall
and false alarms a month with the lowest and highest seed in brackets, and the overall recall per kind.

Kits (issue 11, decision 3; :mod:`benchmarks.kits`): a home with motion sensors is evaluated with them
(``full``) and as if they had never been installed (``no-motion``); a home without any is evaluated once
(``door/bed/plug``). The overall figures pool one row per home for each kit.

    .venv/bin/python -m benchmarks.seeds                          # seeds 1-5, Hearth and telecare rules
    .venv/bin/python -m benchmarks.seeds --seeds 1 2 3 --systems hearth --jobs 2
    .venv/bin/python -m benchmarks.seeds --kits no-motion          # only the kit without motion sensors
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from statistics import mean

from benchmarks.evaluate import SYSTEMS, TARGET_FA_PER_30D, TARGET_RECALL, by_kit, evaluate_home, overall
from benchmarks.homes import DEFAULT_DATA, HOMES, load_home
from benchmarks.kits import ALL_KITS, KITS, kits_for
from benchmarks.streams import KINDS


def _one(args: tuple) -> tuple[int, dict]:
    name, data, learning, days, seed, systems, kit = args
    return seed, evaluate_home(name, data, learning, days, seed, systems, kit)


def run(seeds: list[int], homes: list[str], systems: list[str], data: str = str(DEFAULT_DATA),
        learning: int = 21, days: int = 200, jobs: int = 2,
        kits: tuple[str, ...] = KITS) -> dict[int, list[dict]]:
    """seed -> the per-home-and-kit results of :func:`benchmarks.evaluate.evaluate_home`, homes in order,
    each home's kits in :data:`benchmarks.kits.KITS` order."""
    pairs = [(h, k) for h in homes for k in kits_for(load_home(h, data), kits)]
    work = [(h, data, learning, days, s, tuple(systems), k) for s in seeds for h, k in pairs]
    by_seed: dict[int, list[dict]] = {s: [] for s in seeds}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for seed, res in pool.map(_one, work):
            by_seed[seed].append(res)
    return by_seed


def _spread(xs: list[float], digits: int) -> str:
    return f"{mean(xs):.{digits}f} [{min(xs):.{digits}f}-{max(xs):.{digits}f}]"


def _rows(by_seed: dict[int, list[dict]]) -> list[tuple[int, str, str]]:
    """(index in each seed's list, home, kit) of every home-and-kit evaluated, in order."""
    return [(i, r["home"], r.get("kit", "full")) for i, r in enumerate(by_seed[min(by_seed)])]


def table(by_seed: dict[int, list[dict]], systems: list[str]) -> str:
    """Per home and kit, and overall per kit: mean recall and false alarms a month [lowest-highest seed]."""
    seeds = sorted(by_seed)
    rows = _rows(by_seed)
    kits = list(dict.fromkeys(k for _, _, k in rows))
    totals = {s: {kit: overall(rs) for kit, rs in by_kit(by_seed[s], kits).items()} for s in seeds}
    lines = [f"seeds {' '.join(map(str, seeds))}: mean [lowest-highest seed]", ""]
    head = f"{'system':<16} {'home':<10} {'kit':<14} {'recall':<20} {'FA/30d':<20}"
    lines.append(head)
    for system in systems:
        for i, home, kit in rows:
            rs = [by_seed[s][i]["systems"][system] for s in seeds]
            if any("recall" not in r or r["recall"] is None for r in rs):
                continue
            lines.append(f"{system:<16} {home:<10} {kit:<14} {_spread([r['recall'] for r in rs], 2):<20} "
                         f"{_spread([r['false_alarms_per_30d'] for r in rs], 1):<20}")
        for kit in totals[seeds[0]]:
            ts = [totals[s][kit]["systems"][system] for s in seeds]
            if any("recall" not in t for t in ts):
                continue
            worst = [t["worst_home_false_alarms_per_30d"] for t in ts]
            lines.append(f"{system:<16} {'overall':<10} {kit:<14} {_spread([t['recall'] for t in ts], 2):<20} "
                         f"{_spread([t['false_alarms_per_30d'] for t in ts], 1):<20} worst home "
                         f"{_spread(worst, 1)}")
            per_kind = []
            for kind in KINDS:
                ks = [t["kinds"][kind] for t in ts if kind in t["kinds"]]
                if ks:
                    per_kind.append(f"{kind} {sum(k['detected'] for k in ks) / sum(k['n'] for k in ks):.2f}")
            lines.append(f"{'':<16} {'by kind':<10} {kit:<14} " + ", ".join(per_kind))
        lines += _not_back_lines(by_seed, seeds, rows, system)
        lines += _fa_kind_lines(by_seed, seeds, rows, system)
        lines.append("")
    lines.append(f"Targets for Hearth: recall >= {TARGET_RECALL}, <= {TARGET_FA_PER_30D:g} false alarm per 30 days "
                 "in every home; a kit without motion sensors: every kind but the collapse (its own figure).")
    return "\n".join(lines)


def _fa_kind_lines(by_seed: dict[int, list[dict]], seeds: list[int], rows: list[tuple[int, str, str]],
                   system: str) -> list[str]:
    """Per home and kit: which kinds its false alarms were, per 30 days (mean over the seeds), most first."""
    out = []
    for i, home, kit in rows:
        rs = [by_seed[s][i]["systems"][system] for s in seeds]
        total: dict[str, float] = {}
        for r in rs:
            for kind, v in r.get("false_alarms_by_kind_per_30d", {}).items():
                total[kind] = total.get(kind, 0.0) + v / len(rs)
        if total:
            kinds = ", ".join(f"{k} {v:.1f}" for k, v in sorted(total.items(), key=lambda kv: -kv[1]) if v >= 0.05)
            out.append(f"{'':<16} {'FA kinds':<10} {home} {kit}: {kinds}")
    return out


def _not_back_lines(by_seed: dict[int, list[dict]], seeds: list[int], rows: list[tuple[int, str, str]],
                    system: str) -> list[str]:
    """Per home and kit with a front door: not_back's recall, median delay (h) and the false alarms it adds."""
    out = []
    for i, home, kit in rows:
        rs = [by_seed[s][i]["systems"][system] for s in seeds]
        ks = [r["kinds"]["not_back"] for r in rs if "not_back" in r.get("kinds", {})]
        if not ks:
            continue
        delays = sorted(k["median_delay_min"] for k in ks if k["median_delay_min"] is not None)
        fa = [r.get("false_alarms_by_kind_per_30d", {}).get("not_back", 0.0) for r in rs]
        out.append(f"{'':<16} {'not_back':<10} {home} {kit}: recall "
                   f"{sum(k['detected'] for k in ks) / sum(k['n'] for k in ks):.2f} "
                   f"({sum(k['n'] for k in ks)} injected), median delay "
                   + (f"{delays[len(delays) // 2] / 60:.1f} h" if delays else "-")
                   + f", its false alarms {_spread(fa, 1)} per 30 d")
    return out


def kind_table(by_seed: dict[int, list[dict]], system: str) -> str:
    """Per home, kit and kind: detected/injected pooled over the seeds, and the median of the seeds' median
    delays (minutes, from the onset; 'not up' from the person's real getting-up time)."""
    seeds = sorted(by_seed)
    lines = [f"{system}, per home, kit and kind: detected/injected over seeds {' '.join(map(str, seeds))} "
             "(median delay, min)", f"{'home':<10} {'kit':<14} " + " ".join(f"{k:<17}" for k in KINDS) + " FA/30d"]
    for i, home, kit in _rows(by_seed):
        rs = [by_seed[s][i]["systems"][system] for s in seeds]
        if any("kinds" not in r for r in rs):
            continue
        cells = []
        for kind in KINDS:
            ks = [r["kinds"][kind] for r in rs if kind in r.get("kinds", {})]
            n = sum(k["n"] for k in ks)
            if not n:
                cells.append(f"{'-':<17}")
                continue
            delays = sorted(k["median_delay_min"] for k in ks if k["median_delay_min"] is not None)
            delay = f" ({delays[len(delays) // 2]:.0f})" if delays else ""
            cells.append(f"{sum(k['detected'] for k in ks)}/{n}{delay}".ljust(17))
        lines.append(f"{home:<10} {kit:<14} " + " ".join(cells) + f" {mean(r['false_alarms_per_30d'] for r in rs):.1f}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--homes", nargs="+", default=list(HOMES))
    ap.add_argument("--systems", nargs="+", default=["hearth", "telecare"], choices=list(SYSTEMS))
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--learning", type=int, default=21)
    ap.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    ap.add_argument("--kits", nargs="+", default=list(KITS), choices=list(ALL_KITS),
                    help="kits of a home with motion sensors (default both); a home without is evaluated once; "
                         "no-bed, no-door: probes, a home as if it had no bed mats / no front door sensor")
    a = ap.parse_args()
    by_seed = run(a.seeds, a.homes, a.systems, a.data, a.learning, a.days, a.jobs, tuple(a.kits))
    print(table(by_seed, a.systems))
    for system in a.systems:
        print("\n" + kind_table(by_seed, system))


if __name__ == "__main__":
    main()
