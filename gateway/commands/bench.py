"""``hearth bench``: events per second through the routine core, memory per person, and the baselines.

Runs from a source checkout (``benchmarks/`` beside ``gateway/``); see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gateway.commands.evaluate import _benchmarks_importable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="Measure the routine core's speed and memory against targets and baselines.",
                       description="Prints a table with targets and PASS/MISS. Numbers are noisy on a shared machine.")
    p.add_argument("--data", default=None, help="Folder of the recorded datasets (default ../shared/data; "
                                                "a generated home is used when it is missing).")
    p.add_argument("--events", type=int, default=200_000, help="Events for the in-process rows (default 200000).")
    p.add_argument("--replay-events", type=int, default=1_000_000,
                   help="Events in the file given to `hearth replay` (default 1000000).")
    p.add_argument("--no-quiet-home", dest="quiet", action="store_false",
                   help="Skip the quiet home's rows (a 1.2M-event file of 4,700 days, made once into ~/.cache).")
    p.add_argument("--json", dest="json_out", default=None, help="Also write the rows as JSON here.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _benchmarks_importable()
    from benchmarks import bench, homes

    data = Path(args.data) if args.data else homes.DEFAULT_DATA
    rows = bench.run_bench(data if data.is_dir() else None, args.events, args.replay_events,
                           quiet=args.quiet)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0
