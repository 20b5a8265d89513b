"""``hearth replay --config HOME.yaml --events EVENTS.csv --alerts-out ALERTS.jsonl``.

Runs recorded events through the same routine engine as the live gateway, on a simulated clock, as fast
as possible. Bad CSV rows are reported (file:line: reason) on stderr, counted and skipped; so are rows
whose time is far outside the file's own (sensors.replay). The simulated clock never ticks more than
``--max-gap-days`` past an event: across a longer gap, or up to a far ``--until``, it jumps (said on
stderr), so a replay always ends and its alerts file stays bounded by the events in it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config import HomeConfig, load_config

MAX_REPORTED = 50
DEFAULT_MAX_GAP_DAYS = 7.0


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
    p.add_argument("--max-gap-days", type=float, default=DEFAULT_MAX_GAP_DAYS,
                   help="Tick at most this many simulated days past an event; across a longer gap in the "
                        f"recording the clock jumps (default {DEFAULT_MAX_GAP_DAYS:g}).")
    p.add_argument("--checkpoint-out", default=None, help="Write the engine's state here at the end.")
    p.add_argument("--digests-out", default=None,
                   help="Write each closed day's family digest per person here as PERSON-YYYY-MM-DD.txt and .png.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    cfg = load_config(args.config)
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
        try:
            u = datetime.fromisoformat(args.until)
        except ValueError:
            print(f"--until {args.until[:40]!r} is not an ISO 8601 time", file=sys.stderr)
            return 2
        until = (u if u.tzinfo else u.replace(tzinfo=home.tz)).timestamp()
    if not args.max_gap_days > 0:
        print("--max-gap-days must be above 0", file=sys.stderr)
        return 2
    n = 0
    gaps: list[tuple[float, float]] = []

    digests = DigestWriter(engine, cfg, Path(args.digests_out)) if args.digests_out else None
    who = Recipients(cfg) if cfg.recipients else None

    def rows():
        nonlocal n
        day = None
        for t, sid, _kind, value in read_rows(args.events, home, on_bad_row):
            n += 1
            if t // 3600 != day:  # an hour later: any day closed meanwhile?
                day = t // 3600
                digests.write_closed(t)
            yield t, sid, value

    def plain_rows():  # the same without digests: one test less per event on a million events
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
        for alert in replay_into(engine, rows() if digests is not None else plain_rows(), args.tick, until, args.max_gap_days * 86400.0,
                                 lambda a, b: gaps.append((a, b))):
            if who is not None:
                alert.recipients = who.of(alert)
            out.write(json.dumps(alert.to_json(), ensure_ascii=False) + "\n")
            n_alerts += 1
    except OSError as exc:
        print(f"cannot read events: {exc}", file=sys.stderr)
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    if digests is not None:
        digests.write_closed(until)
    if args.checkpoint_out:
        with open(args.checkpoint_out, "wb") as f:
            f.write(engine.checkpoint())
    if bad > MAX_REPORTED:
        print(f"... and {bad - MAX_REPORTED} more bad rows", file=sys.stderr)
    for a, b in gaps[:MAX_REPORTED]:
        print(f"clock jumped over a gap of {(b - a) / 86400:.1f} days after {datetime.fromtimestamp(a, home.tz)} "
              f"(ticked only {args.max_gap_days:g} days of it)", file=sys.stderr)
    secs = time.perf_counter() - started
    if who is not None:
        who.close()
    print(f"replayed {n} events ({bad} bad rows skipped, {engine.unknown_events} unknown, {len(gaps)} gaps jumped) "
          f"-> {n_alerts} alerts "
          f"in {secs:.2f} s", file=sys.stderr)
    return 0


class Recipients:
    """Who would receive each alert under consent and escalation (no message is sent in a replay)."""

    def __init__(self, cfg: HomeConfig):
        from alerts.delivery import AlertDelivery

        self._tmp = tempfile.TemporaryDirectory(prefix="hearth-replay-")
        self._delivery = AlertDelivery(cfg, Path(self._tmp.name) / "outbox.sqlite3", {}, _NoClock())

    def of(self, alert: Any) -> list[str]:
        return self._delivery.recipients_for(alert, alert.time)

    def close(self) -> None:
        self._delivery.close()
        self._tmp.cleanup()


class _NoClock:
    speed = 1.0

    def now(self) -> datetime:  # recipients_for is given the alert's own time; nothing else runs
        raise RuntimeError("replay has no wall clock")

    def monotonic(self) -> float:
        return 0.0


class DigestWriter:
    """Writes each person's digest as soon as the engine has closed that day."""

    def __init__(self, engine: Any, cfg: HomeConfig, out_dir: Path):
        self.engine, self.cfg, self.out_dir = engine, cfg, out_dir
        self.tz = cfg.to_home().tz
        self.pending: dict[str, set[date]] = {p.id: set() for p in cfg.people}
        self.written = 0
        self.last_t: float | None = None
        self.first_day: date | None = None
        self.done: dict[str, set[date]] = {p.id: set() for p in cfg.people}

    def write_closed(self, t: float | None) -> None:
        """Write every day that is over by time ``t`` (None: the end of the replay, last time seen)."""
        from alerts.digest import write_digest_files

        if t is not None:
            self.last_t = t
            now = datetime.fromtimestamp(t, self.tz)
            if self.first_day is None:  # the replay starts mid-day: that first day is not told as a day
                self.first_day = (now - timedelta(hours=self.cfg.routines.day_start_hour)).date()
            for pid, days in self.pending.items():
                days.update(d for k in range(0, 3) if (d := now.date() - timedelta(days=k)) not in self.done[pid]
                            and d > self.first_day)
        if self.last_t is None:
            return
        # the person day containing the last time seen is still open: never write a partial day
        current = (datetime.fromtimestamp(self.last_t, self.tz)
                   - timedelta(hours=self.cfg.routines.day_start_hour)).date()
        for p in self.cfg.people:
            for d in sorted(x for x in self.pending[p.id] if x < current):
                try:
                    summary = self.engine.day_summary(p.id, d)
                except KeyError:  # not closed by the engine yet, or before the first event
                    if (current - d).days > 2:
                        self.pending[p.id].discard(d)
                    continue
                write_digest_files(summary, p.name, self.out_dir, self.tz)
                self.written += 1
                self.pending[p.id].discard(d)
                self.done[p.id].add(d)
