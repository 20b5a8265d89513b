"""Why each first-month false alarm fires: a tuning aid for issue 14, run on purpose (not a test).

The same run as :mod:`benchmarks.first_month` (the leave-one-home-out prior and night hours, no learning
days) on the clean stream, printing every care alert that the scorer counts with its message, the limit
the core used (evidence) and the person's learned wake/bed state at that moment; ``--misses`` also lists
the injected night exits the anomalous stream missed, with the alerts raised around them.

    .venv/bin/python -m benchmarks.first_month_why --home vk2010-B --seeds 1 2 --kinds night_bed_exit
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from benchmarks import night_hours
from benchmarks.evaluate import detection, hearth_alerts
from benchmarks.first_month import FIRST_DAYS, FIRST_KINDS
from benchmarks.homes import DEFAULT_DATA, HOMES, load_home
from benchmarks.prior import leave_one_out
from benchmarks.scoring import count_alarms, is_care_alarm, score_anomalies
from benchmarks.streams import build_streams, day_of, profile
from benchmarks.telecare import Detection


def _run(p, stream, prior, night: str) -> list[tuple[Detection, object]]:
    """The core on one stream, as the evaluation runs it, keeping whole alerts."""
    return [(detection(t, a), a) for t, a in hearth_alerts(p, stream, prior, night_hours=night)]


def _clock(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%a %m-%d %H:%M")


def why(name: str, seed: int, kinds: tuple[str, ...], misses: bool, data: str = str(DEFAULT_DATA)) -> None:
    p = profile(load_home(name, data))
    clean, anom, _ = build_streams(p, 0, FIRST_DAYS, seed, kinds=FIRST_KINDS)
    prior, night = leave_one_out(name, data), night_hours.leave_one_out(name, data)
    on_clean = _run(p, clean, prior, night)
    counted = count_alarms([d for d, _ in on_clean], clean.start)
    print(f"== {name} seed {seed}: {counted} care alerts in {FIRST_DAYS} days (night hours {night})")
    seen: set[str] = set()
    for det, a in on_clean:
        if not is_care_alarm(det) or (kinds and det.kind not in kinds) or det.key in seen:
            continue
        seen.add(det.key)
        day = day_of(det.t) - day_of(clean.start)
        print(f"  FA day {day:2d} (src {clean.sources[day]}) {_clock(det.t)} {det.kind}: {a.message}")
        print(f"     evidence {a.evidence}")
    if not misses:
        return
    on_anom = _run(p, anom, prior, night)
    for tr, r in zip(anom.truths, score_anomalies(anom.truths, [d for d, _ in on_anom]), strict=True):
        if r[0] or (kinds and tr.kind not in kinds):
            continue
        print(f"  MISS {tr.kind} onset {_clock(tr.onset)} deadline {_clock(tr.deadline)}")
        for det, a in on_anom:
            if tr.onset - 3 * 3600 <= det.t <= tr.deadline + 3 * 3600 and det.audience == "care":
                print(f"     {_clock(det.t)} {det.kind}: {a.message[:160]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", default="vk2010-B", choices=list(HOMES))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1])
    ap.add_argument("--kinds", nargs="*", default=[])
    ap.add_argument("--misses", action="store_true")
    a = ap.parse_args()
    for s in a.seeds:
        why(a.home, s, tuple(a.kinds), a.misses)


if __name__ == "__main__":
    main()
