"""Every person's limits after every day end on the evaluation's streams, hashed, so a speed change can
prove it left the learning exactly as it was (the alerts alone could hide a changed limit never reached).

After each rollover (day end: learning the day, refreshing the limits) the hash takes ``repr`` of each
person's :class:`~routines.limits.Thresholds` and each of their sensors' stillness limit (``ctx_limit``,
``ctx_base``); floats are written exactly by ``repr``. The streams are those of
:mod:`benchmarks.alert_fingerprint` (every recorded home, leave-one-home-out prior and night hours, the
clean and the anomalous stream of each seed); one digest per stream.

    .venv/bin/python -m benchmarks.limits_fingerprint --out /tmp/before.json
    .venv/bin/python -m benchmarks.limits_fingerprint --out /tmp/after.json --against /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.homes import DEFAULT_DATA, HOMES


def _digests(job: tuple[str, str, int, int, int]) -> dict[str, str]:
    from benchmarks import evaluate, night_hours
    from benchmarks.homes import aware, load_home
    from benchmarks.prior import leave_one_out
    from benchmarks.streams import build_streams, profile
    from gateway.config import parse_config_text
    from routines.engine import RoutineEngine
    from routines.replay import replay_into

    name, data, learning, days, seed = job
    p = profile(load_home(name, data))
    prior = leave_one_out(name, data)
    cfg = parse_config_text(p.home.config_yaml(), f"{name}.yaml")
    home = evaluate.with_night_hours(cfg.to_home(), night_hours.leave_one_out(name, data))
    out = {}
    for label, stream in zip(("clean", "anomalous"), build_streams(p, learning, days, seed)[:2], strict=True):
        engine = RoutineEngine(home, cfg.routines, prior)
        h = hashlib.sha256()
        rollover = engine._rollover

        def hashed(engine=engine, h=h, rollover=rollover) -> list:
            alerts = rollover()
            for pid, ps in engine._persons.items():
                h.update(repr(ps.thr).encode())
                h.update(repr([(s.id, s.ctx_limit, s.ctx_base) for s in engine.person_sensors[pid]]).encode())
            return alerts

        engine._rollover = hashed  # type: ignore[method-assign]  # an instance attribute: only this engine
        rows = ((aware(t, home.tz).timestamp(), sid, on) for t, sid, on in stream.events)
        for _ in replay_into(engine, rows, until=aware(stream.end, home.tz).timestamp()):
            pass
        out[f"{name} seed {seed} {label}"] = h.hexdigest()[:16]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="Where to write the digests (JSON).")
    ap.add_argument("--against", default=None, help="An earlier --out file: name the streams that differ.")
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--learning", type=int, default=21)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    jobs = [(h, a.data, a.learning, a.days, s) for s in a.seeds for h in HOMES]
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        digests = {k: v for chunk in pool.map(_digests, jobs) for k, v in chunk.items()}
    Path(a.out).write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(digests)} streams, limits after every day end hashed -> {a.out}")
    if a.against:
        before = json.loads(Path(a.against).read_text(encoding="utf-8"))
        differ = sorted(k for k in before.keys() | digests.keys() if before.get(k) != digests.get(k))
        if differ:
            print(f"{len(differ)} streams differ: {', '.join(differ[:5])}")
            return 1
        print("identical to", a.against)
    return 0


if __name__ == "__main__":
    sys.exit(main())
