"""Where Hearth's false alarms and misses come from: a tuning aid, run on purpose (not a test).

For each home and seed: the clean stream's care alarms after learning, counted as the scorer counts
them (:func:`benchmarks.scoring.count_alarms`) and split by alert kind, and every injected anomaly that
was missed, with the alerts Hearth raised around it (kind, time, message) so a miss can be traced.

    .venv/bin/python -m benchmarks.diagnose --homes vk2010-B --seeds 1 2 --misses 5
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime

from benchmarks.homes import HOMES, aware, load_home, local_seconds
from benchmarks.scoring import count_alarms, is_care_alarm, score_anomalies
from benchmarks.streams import build_streams, day_of, profile
from benchmarks.telecare import Detection


def _run(p, stream) -> list[tuple[Detection, str]]:
    from gateway.config import parse_config_text
    from routines.replay import replay
    from sensors.events import SensorEvent

    cfg = parse_config_text(p.home.config_yaml(), f"{p.home.name}.yaml")
    home = cfg.to_home()
    tz = home.tz
    kinds = {s.id: s.kind for s in home.sensors}
    events = (SensorEvent(aware(t, tz), sid, kinds[sid], on, "replay") for t, sid, on in stream.events)
    out = []
    for a in replay(home, events, settings=cfg.routines, tick_every_s=60, until=aware(stream.end, tz)):
        t = local_seconds(a.time.astimezone(tz).replace(tzinfo=None))
        out.append((Detection(t, a.kind, str(a.severity), str(a.audience), a.key), a.message))
    return out


def _clock(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%a %m-%d %H:%M")


def diagnose(name: str, seed: int, learning: int, test: int, misses: int, show_fa: int,
             kinds: tuple[str, ...] = ()) -> None:
    p = profile(load_home(name))
    clean, anom, _ = build_streams(p, learning, test, seed)
    on_clean = _run(p, clean)
    by_kind = Counter()
    for det, _msg in on_clean:
        if is_care_alarm(det) and det.t >= clean.test_start:
            by_kind[det.kind] += 1
    distinct = {k: count_alarms([d for d, _ in on_clean if d.kind == k], clean.test_start) for k in by_kind}
    print(f"== {name} seed {seed}: false alarms (distinct) by kind: "
          + ", ".join(f"{k} {distinct[k]}" for k in sorted(distinct, key=lambda k: -distinct[k]))
          + f"  [total {count_alarms([d for d, _ in on_clean], clean.test_start)} in {test} days]")
    # test days are copies of a few recorded days: one odd recorded day recurs as many false alarms
    src = {clean.sources[day_of(d.t) - day_of(clean.start)] for d, _ in on_clean
           if is_care_alarm(d) and d.t >= clean.test_start}
    print(f"   false alarms come from {len(src)} distinct recorded days: {sorted(src)}")
    shown = 0
    for det, msg in on_clean:
        if is_care_alarm(det) and det.t >= clean.test_start and shown < show_fa and (not kinds or det.kind in kinds):
            print(f"   FA {_clock(det.t)} {det.kind}: {msg}")
            shown += 1
    on_anom = _run(p, anom)
    res = score_anomalies(anom.truths, [d for d, _ in on_anom])
    missed = Counter(tr.kind for tr, r in zip(anom.truths, res, strict=True) if not r[0])
    total = Counter(tr.kind for tr in anom.truths)
    print("   missed: " + ", ".join(f"{k} {missed[k]}/{total[k]}" for k in total))
    n = 0
    for tr, r in zip(anom.truths, res, strict=True):
        if r[0] or n >= misses or (kinds and tr.kind not in kinds):
            continue
        n += 1
        print(f"   MISS {tr.kind} onset {_clock(tr.onset)} (src day {tr.source_day}, deadline {_clock(tr.deadline)})")
        for det, msg in on_anom:
            if tr.onset - 6 * 3600 <= det.t <= tr.deadline + 6 * 3600 and det.audience == "care":
                print(f"      {_clock(det.t)} {det.kind}: {msg[:150]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--homes", nargs="*", default=list(HOMES))
    ap.add_argument("--seeds", nargs="*", type=int, default=[1])
    ap.add_argument("--learning", type=int, default=21)
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--misses", type=int, default=4, help="misses to trace per home and seed")
    ap.add_argument("--fa", type=int, default=0, help="false alarms to print per home and seed")
    ap.add_argument("--kinds", nargs="*", default=(),
                    help="only print misses of these injected kinds and false alarms of these alert kinds")
    a = ap.parse_args()
    for seed in a.seeds:
        for name in a.homes:
            diagnose(name, seed, a.learning, a.days, a.misses, a.fa, tuple(a.kinds))


if __name__ == "__main__":
    main()
