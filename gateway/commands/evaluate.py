"""``hearth evaluate``: Hearth against fixed telecare rules and generic detectors on the recorded homes.

Runs from a source checkout (the ``benchmarks/`` folder sits beside ``gateway/``); see
benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

BASELINES = ("river", "sklearn")  # what the figures are compared against; the gateway itself needs neither


def _benchmarks_importable() -> None:
    """``benchmarks`` is not installed with the package: find it beside ``gateway/`` in the checkout.
    The baselines are an extra (``hearth[evaluate]``): say how to install them rather than fail later."""
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    missing = []
    for name in BASELINES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise SystemExit(f"hearth: the baselines the figures are compared with are not installed "
                         f"({', '.join(missing)}): pip install 'hearth[evaluate]' "
                         "(in a checkout: .venv/bin/pip install -e '.[evaluate]')")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="Score Hearth and baselines on the recorded homes with injected anomalies.",
                       description="Reorders whole days of the recorded homes into longer streams, injects anomalies "
                                   "with known onsets and prints recall, delay and false alarms per 30 days.")
    p.add_argument("--data", default=None, help="Folder of the recorded datasets (default ../shared/data).")
    p.add_argument("--days", type=int, default=200, help="Test days after the learning period (default 200).")
    p.add_argument("--learning-days", type=int, default=21, help="Clean days learned first (default 21).")
    p.add_argument("--seed", type=int, default=1, help="Seed for day order and injections (default 1).")
    p.add_argument("--homes", nargs="+", default=None, help="Only these homes (vk2010-B vk2010-C vk2008-A).")
    p.add_argument("--systems", nargs="+", default=None,
                   help="Only these systems (hearth telecare halfspacetrees isolationforest).")
    p.add_argument("--kits", nargs="+", default=None,
                   help="Kits of a home with motion sensors: full, no-motion (default both; a home without "
                        "motion sensors is evaluated once, as door/bed/plug); no-bed, no-door: probes, a home as "
                        "if it had no bed mats / no front door sensor.")
    p.add_argument("--json", dest="json_out", default=None, help="Also write the results as JSON here.")
    p.add_argument("--convert-to", default=None,
                   help="Only write each home's config (NAME.yaml) and EVENTS.csv (NAME.events.csv) here.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _benchmarks_importable()
    from benchmarks import evaluate, homes, kits

    data = Path(args.data) if args.data else homes.DEFAULT_DATA
    if not data.is_dir():
        print(f"hearth evaluate: no data folder at {data} (give --data PATH)", file=sys.stderr)
        return 2
    if args.convert_to:
        for path in homes.convert_all(args.convert_to, data):
            print(path)
        return 0
    unknown = [h for h in args.homes or () if h not in homes.HOMES]
    unknown += [s for s in args.systems or () if s not in evaluate.SYSTEMS]
    unknown += [k for k in args.kits or () if k not in kits.ALL_KITS]
    if unknown or args.days < 2 or args.learning_days < 1:
        print(f"hearth evaluate: unknown home/system/kit {unknown} or too few days", file=sys.stderr)
        return 2
    evaluate.main(data, args.days, args.learning_days, args.seed, tuple(args.homes or homes.HOMES),
                  tuple(args.systems or evaluate.SYSTEMS), args.json_out, kits=tuple(args.kits or kits.KITS))
    return 0
