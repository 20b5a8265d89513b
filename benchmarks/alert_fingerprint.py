"""Every alert Hearth raises on the evaluation's streams, written out so a speed change can prove it changed none.

A change made for speed must leave every alert as it was: kind, time, severity, audience, key, message and
evidence. This replays the same streams as :mod:`benchmarks.seeds` (every recorded home, leave-one-home-out
prior and night hours, the clean and the anomalous stream of each seed) and writes one JSON line per alert;
run it before and after a change and compare the files (``cmp``), or pass ``--against`` an earlier file.

    .venv/bin/python -m benchmarks.alert_fingerprint --out /tmp/before.jsonl
    .venv/bin/python -m benchmarks.alert_fingerprint --out /tmp/after.jsonl --against /tmp/before.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.homes import DEFAULT_DATA, HOMES

Job = tuple[str, str, int, int, int]  # (home, data folder, learning days, test days, seed)


def evaluation_setup(job: Job) -> tuple:
    """(home with the leave-one-home-out night hours, its routine settings, the leave-one-home-out prior,
    the clean and the anomalous stream) of one job: what :mod:`benchmarks.seeds` replays."""
    from benchmarks import evaluate, night_hours
    from benchmarks.homes import load_home
    from benchmarks.prior import leave_one_out
    from benchmarks.streams import build_streams, profile
    from gateway.config import parse_config_text

    name, data, learning, days, seed = job
    p = profile(load_home(name, data))
    cfg = parse_config_text(p.home.config_yaml(), f"{name}.yaml")
    home = evaluate.with_night_hours(cfg.to_home(), night_hours.leave_one_out(name, data))
    return home, cfg.routines, leave_one_out(name, data), build_streams(p, learning, days, seed)[:2]


def add_stream_args(ap: argparse.ArgumentParser) -> None:
    """The options both fingerprints share: which streams to replay, and in how many processes."""
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--learning", type=int, default=21)
    ap.add_argument("--jobs", type=int, default=2)


def jobs_of(a: argparse.Namespace) -> list[Job]:
    return [(h, a.data, a.learning, a.days, s) for s in a.seeds for h in HOMES]


def _alerts(job: Job) -> list[str]:
    from benchmarks.homes import aware
    from routines.replay import replay
    from sensors.events import SensorEvent

    name, seed = job[0], job[4]
    home, settings, prior, streams = evaluation_setup(job)
    kinds = {s.id: s.kind for s in home.sensors}
    out = []
    for label, stream in zip(("clean", "anomalous"), streams, strict=True):
        events = (SensorEvent(aware(t, home.tz), sid, kinds[sid], on, "replay") for t, sid, on in stream.events)
        for a in replay(home, events, settings=settings, until=aware(stream.end, home.tz), prior=prior):
            out.append(json.dumps({"home": name, "seed": seed, "stream": label, **a.to_json()},
                                  sort_keys=True, ensure_ascii=False, default=str))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="Where to write the alerts, one JSON line each.")
    ap.add_argument("--against", default=None, help="An earlier --out file: report the first difference.")
    add_stream_args(ap)
    a = ap.parse_args()
    jobs = jobs_of(a)
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        lines = [line for chunk in pool.map(_alerts, jobs) for line in chunk]
    Path(a.out).write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    digest = hashlib.sha256("".join(lines).encode()).hexdigest()[:16]
    print(f"{len(lines)} alerts, sha256 {digest} -> {a.out}")
    if a.against:
        before = Path(a.against).read_text(encoding="utf-8").splitlines()
        for i, (x, y) in enumerate(zip(before, lines, strict=False)):
            if x != y:
                print(f"first difference at alert {i}:\n  before {x}\n  after  {y}")
                return 1
        if len(before) != len(lines):
            print(f"{len(before)} alerts before, {len(lines)} now")
            return 1
        print("identical to", a.against)
    return 0


if __name__ == "__main__":
    sys.exit(main())
