"""``hearth pause``: the person's privacy mode: stop all sharing about them for a while.

    hearth pause --config home.yaml --person p1 --for 4h
    hearth pause --config home.yaml --person p1 --until 2026-01-05T18:00
    hearth pause --config home.yaml --person p1 --end
    hearth pause --config home.yaml --list

The pause is stored in the gateway's SQLite file, so the running gateway honours it at its next
consent decision. Nothing about the person is sent while it runs, urgent alerts included; the team is
told afterwards if an urgent alert was held.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts.pause import PauseStore, parse_duration
from gateway.config import load_config
from gateway.paths import database_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pause", help="Pause all sharing about a person for a while (privacy mode).",
                       description="Pause all sharing about a person; urgent alerts too. Logged, with its end.")
    p.add_argument("--config", help="The home's YAML config (to check the person and find the database).")
    p.add_argument("--db", help="The SQLite file (default: from the config, or the data dir).")
    p.add_argument("--person", help="Id of the person (from people in the config).")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--for", dest="duration", help="How long: 4h, 90m, 1d12h.")
    when.add_argument("--until", help="Until a local time in the home's timezone, e.g. 2026-01-05T18:00.")
    when.add_argument("--end", action="store_true", help="End the person's pause now.")
    when.add_argument("--list", action="store_true", help="List running pauses.")
    p.add_argument("--by", default="hearth pause (command line)", help="Who asked for it, for the log.")
    p.add_argument("--reason", default="", help="Optional note, e.g. 'visitors this afternoon'.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    cfg = load_config(args.config) if args.config else None
    tz = ZoneInfo(cfg.timezone) if cfg else UTC
    store = PauseStore(Path(args.db) if args.db else database_path(cfg.storage.path if cfg else None))
    try:
        if args.list:
            for p in store.active(now):
                print(f"{p.person}: paused since {p.start.astimezone(tz):%Y-%m-%d %H:%M} until "
                      f"{p.end.astimezone(tz):%Y-%m-%d %H:%M} (by {p.by})")
            return 0
        if not args.person:
            print("hearth pause: give --person (or --list)", file=sys.stderr)
            return 2
        if cfg is not None and args.person not in {p.id for p in cfg.people}:
            print(f"hearth pause: person {args.person!r} is not one of people "
                  f"({', '.join(p.id for p in cfg.people)}) in {args.config}", file=sys.stderr)
            return 1
        if args.end:
            ended = store.end(args.person, by=args.by, now=now)
            print(f"{args.person}: {len(ended)} pause(s) ended; sharing resumes now" if ended
                  else f"{args.person}: no pause is running")
            return 0
        try:
            if args.duration:
                until = now + parse_duration(args.duration)
            elif args.until:
                local = datetime.fromisoformat(args.until)
                until = (local if local.tzinfo else local.replace(tzinfo=tz)).astimezone(UTC)
            else:
                print("hearth pause: give --for, --until, --end or --list", file=sys.stderr)
                return 2
            pause = store.start(args.person, until, by=args.by, now=now, reason=args.reason)
        except ValueError as exc:
            print(f"hearth pause: {exc}", file=sys.stderr)
            return 1
        print(f"{args.person}: all sharing paused until {pause.end.astimezone(tz):%Y-%m-%d %H:%M %Z}")
        return 0
    finally:
        store.close()
