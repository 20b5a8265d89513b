"""``python -m benchmarks.reliability``: nothing lost, nothing doubled, nobody let in, in figures.

Run on purpose (not by the test suite; its fast parts run in tests/test_reliability.py). Prints a
table and writes it, with what each figure means, to RELIABILITY.md::

    python -m benchmarks.reliability                  # everything, ~20-25 min (load 10 min)
    python -m benchmarks.reliability --quick          # short durations, a few kills, ~4 min
    python -m benchmarks.reliability --only kills --only receiver
    python -m benchmarks.reliability --load-minutes 2 --out /tmp/r.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import reliability_faults as faults
from benchmarks import reliability_hostile as hostile
from benchmarks.reliability_clock import clock_jumps
from benchmarks.reliability_load import capacity, load
from benchmarks.reliability_privacy import demo_scan
from benchmarks.reliability_rig import REPO, Row

# name -> (full run, quick run); the load's length comes from --load-minutes
SCENARIOS: dict[str, tuple[Callable[[argparse.Namespace], list[Row]], Callable[[argparse.Namespace], list[Row]]]] = {
    "load": (lambda a: load(seconds=a.load_minutes * 60), lambda a: load(seconds=30, homes=100, rate=200)),
    "capacity": (lambda a: capacity(), lambda a: capacity(messages=5_000)),
    "kills": (lambda a: faults.gateway_kills(kills=20), lambda a: faults.gateway_kills(kills=4)),
    "broker": (lambda a: faults.broker_kill(seconds=20), lambda a: faults.broker_kill(seconds=6)),
    "disk": (lambda a: faults.disk_full(events=300), lambda a: faults.disk_full(events=60)),
    "receiver": (lambda a: faults.receiver_faults(), lambda a: faults.receiver_faults()),
    "clock": (lambda a: clock_jumps(per_phase=100), lambda a: clock_jumps(per_phase=20, settle_s=5)),
    "parsers": (lambda a: hostile.parsers(5000), lambda a: hostile.parsers(500)),
    "console": (lambda a: hostile.console_other_origin(), lambda a: hostile.console_other_origin()),
    "privacy": (lambda a: demo_scan(seconds=150), lambda a: demo_scan(seconds=40)),
}

MEANING = """\
## What each figure means

- **load**: one `hearth run` serves 100 homes (100 people, 4 door contacts each) from a real mosquitto;
  a publisher plays zigbee2mqtt at a steady offered rate at QoS 1, each message flipping one contact
  (so each is exactly one stored event). *Events offered / stored per s*: the rate offered and the rate
  stored while offering; *backlog*: seconds of input not yet stored when offering stopped (commits are
  1 s apart, so about 1 s is normal). *Lost* / *stored twice*: per sensor, published vs rows in the
  events table. *Event-to-alert*: every 2 s one sensor reports a 3 % battery, which the core turns into
  a technical alert at once; the time is from that message's publish to the webhook receiver's 2xx
  (broker, adapter, store queue, core, consent gate, outbox, signed webhook). *Memory growth*: the
  gateway's RSS at the end minus after warm-up (a quarter of the run, at most 1 min).
- **capacity**: the same gateway and home, 20,000 messages published at once (QoS 1), timed from
  the first publish to the last stored event: the most this machine's gateway stores per second. A Pi
  4 core runs this Python about 3-4x slower; the Pi figure divides by 4 and converts to homes' worth at
  500 events a day (a home sends 200-500). An estimate, not a measurement on a Pi.
- **faults**: each with its own broker, gateway and recording webhook receiver. *Events lost*: QoS 1
  messages the broker acknowledged to the publisher that are not rows in the events table at the end.
  *Alerts lost*: alert keys the core raised (`--alerts-out` and the alerts table) never delivered.
  *Delivered twice with different ids*: alert-recipient pairs delivered under more than one
  `Idempotency-Key` (a receiver cannot drop those repeats). *Time to recover*: as stated per row.
  - *gateway SIGKILLed*: every other kill at a random moment, the others 0-100 ms after the gateway
    logs a freshly raised alert; events keep flowing while it is down.
  - *mosquitto SIGKILLed*: halfway through a 100 msg/s stream, started again 1 s later from its
    persistence file. *Stored twice* counts QoS 1 redeliveries the gateway stored again.
  - *disk full*: RLIMIT_FSIZE of 1 byte set on the running gateway with `prlimit` (no privilege needed;
    writes fail with EFBIG as a full card fails with ENOSPC, and even rewrites fail); events and an
    alert arrive; then the limit is lifted.
  - *receiver*: one alert meets a 500, one a 404, one a request held open (as if for an hour: until
    the client's timeout, 2 s here) on its first try; later tries are answered 200.
- **hostile input**: each parser's public entry point gets seeded mutations of real payloads (the
  fixtures under tests/fixtures) and a table of known-nasty values (NaN, Infinity, 1e400, 2,000-deep
  JSON, huge strings, wrong types). A crash is any exception other than the parser's documented one
  escaping it. *Console from another origin*: `text/plain` POSTs with `Origin: http://evil.example`
  (what any web page can make a browser send) to pause sharing, end a pause and record an outcome;
  state changes are counted in the database; and a page asked for with a foreign `Host` (DNS rebinding).
- **privacy**: the demo home (`hearth run` with no config) runs sped up; then its JSON log, its
  database dump and every outgoing message (the outbox) are scanned for the webhook secret, messages
  in a category the recipient's consent does not list, and raw sensor data in messages.

  - *clock jumps*: the wall clock steps three days forward, then an hour back, while events flow (the
    gateway in-process with a wall clock the scenario steps, as a wrong NTP answer or a fake-hwclock
    restore would; this machine's clock is never touched). *Care alerts for the unwatched time*: alerts
    to people raised because of the step (three days forward is not three days of stillness).
    *Time to recover*: from the forward step to judging again (the settle time; 60 s by default).
    After the backward step judging is held until wall time passes what was already judged.

A Raspberry Pi: not measured here (see *capacity* for the estimate and how it is made).
"""


def table(rows: list[Row]) -> str:
    out = ["| scenario | figure | value | target | ok |", "|---|---|---|---|---|"]
    out += [f"| {r.scenario} | {r.figure} | {r.value.replace('|', '/')} | {r.target} | {'pass' if r.ok else 'FAIL'} |"
            for r in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reliability", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="Short durations and a few kills (a few minutes).")
    p.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="Run only this scenario (repeatable).")
    p.add_argument("--load-minutes", type=float, default=10.0, help="Length of the load run (default 10).")
    p.add_argument("--out", type=Path, default=REPO / "RELIABILITY.md", help="Where to write the report.")
    args = p.parse_args(argv)
    rows: list[Row] = []
    t0 = time.monotonic()
    for name in args.only or SCENARIOS:
        full, quick = SCENARIOS[name]
        print(f"running {name} ...", file=sys.stderr, flush=True)
        got = (quick if args.quick else full)(args)
        rows += got
        print(table(got), flush=True)
    took = (time.monotonic() - t0) / 60
    run = (f"`python -m benchmarks.reliability{' --quick' if args.quick else ''}"
           f"{''.join(f' --only {o}' for o in args.only or [])}`"
           f"{'' if args.quick else f' (load {args.load_minutes:g} min)'}")
    head = (f"# Reliability figures\n\nRun: {run}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {took:.1f} min, on "
            f"{platform.machine()} with {len(os.sched_getaffinity(0))} cores (shared), Python "
            f"{platform.python_version()}. {sum(not r.ok for r in rows)} of {len(rows)} figures miss their "
            "target.\n\nHow to run: `python -m benchmarks.reliability` (about 20-25 min), `--quick` (a few "
            "minutes), `--only NAME` (" + ", ".join(SCENARIOS) + "), `--load-minutes N`. Fast parts run in "
            "`tests/test_reliability.py`.\n\n")
    args.out.write_text(head + table(rows) + "\n\n" + MEANING)
    print(f"\nwritten to {args.out}", file=sys.stderr)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
