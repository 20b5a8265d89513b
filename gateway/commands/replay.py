"""``hearth replay --config HOME.yaml --events EVENTS.csv --alerts-out ALERTS.jsonl``.

Runs recorded events through the same routine engine as the live gateway, on a simulated clock, as fast
as possible. Bad CSV rows are reported (file:line: reason) on stderr, counted and skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime

from gateway.config import ConfigError, load_config

MAX_REPORTED = 50


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="Replay recorded events through the routine engine.",
                       description="Replay EVENTS.csv (time,sensor,value) through the routine core on a simulated "
                                   "clock and write one JSON alert per line.")
    p.add_argument("--config", required=True, help="The home's YAML config.")
    p.add_argument("--events", required=True, help="EVENTS.csv with header time,sensor,value.")
    p.add_argument("--alerts-out", required=True, help="Where to write ALERTS.jsonl ('-' for stdout).")
    p.add_argument("--tick", type=int, default=60, help="Simulated seconds between ticks (default 60).")
    p.add_argument("--until", default=None,
                   help="Keep the clock running after the last event up to this ISO time (default: stop).")
    p.add_argument("--checkpoint-out", default=None, help="Write the engine's state here at the end.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    from routines.engine import RoutineEngine
    from routines.replay import replay_into
    from sensors.replay import read_rows

    home = cfg.to_home()
    engine = RoutineEngine(home, cfg.routines)
    bad = 0

    def on_bad_row(line_no: int, reason: str) -> None:
        nonlocal bad
        bad += 1
        if bad <= MAX_REPORTED:
            print(f"{args.events}:{line_no}: skipped: {reason}", file=sys.stderr)

    until = None
    if args.until:
        u = datetime.fromisoformat(args.until)
        until = (u if u.tzinfo else u.replace(tzinfo=home.tz)).timestamp()
    n = 0

    def rows():
        nonlocal n
        for t, sid, _kind, value in read_rows(args.events, home, on_bad_row):
            n += 1
            yield t, sid, value

    try:
        out = sys.stdout if args.alerts_out == "-" else open(args.alerts_out, "w", encoding="utf-8")
    except OSError as exc:
        print(f"{args.alerts_out}: cannot write: {exc.strerror}", file=sys.stderr)
        return 1
    n_alerts = 0
    try:
        for alert in replay_into(engine, rows(), args.tick, until):
            out.write(json.dumps(alert.to_json(), ensure_ascii=False) + "\n")
            n_alerts += 1
    except OSError as exc:
        print(f"cannot read events: {exc}", file=sys.stderr)
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    if args.checkpoint_out:
        with open(args.checkpoint_out, "wb") as f:
            f.write(engine.checkpoint())
    if bad > MAX_REPORTED:
        print(f"... and {bad - MAX_REPORTED} more bad rows", file=sys.stderr)
    secs = time.perf_counter() - started
    print(f"replayed {n} events ({bad} bad rows skipped, {engine.unknown_events} unknown) -> {n_alerts} alerts "
          f"in {secs:.2f} s", file=sys.stderr)
    return 0
