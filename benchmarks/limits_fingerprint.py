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

from benchmarks.alert_fingerprint import Job, add_stream_args, evaluation_setup, jobs_of


def _digests(job: Job) -> dict[str, str]:
    from benchmarks.homes import aware
    from routines.engine import RoutineEngine
    from routines.replay import replay_into

    name, seed = job[0], job[4]
    home, settings, prior, streams = evaluation_setup(job)
    out = {}
    for label, stream in zip(("clean", "anomalous"), streams, strict=True):
        engine = RoutineEngine(home, settings, prior)
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
    add_stream_args(ap)
    a = ap.parse_args()
    jobs = jobs_of(a)
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
