"""Why 'not up' raises false alarms and misses injected days: a tuning aid for issue 11, run on purpose.

The same streams and leave-one-home-out start as :mod:`benchmarks.seeds` (its prior and night hours made
without the home, 21 learning days, 200 test days). For each home and seed it lists

- every clean-stream 'not up' alarm after learning: the alert time, the real getting-up time that day
  (:attr:`benchmarks.streams.SourceDay.wake`, the labels where a home has them), the last bed event and
  the first 'up' event (not bed, not bedroom motion) of that morning, and a cause;
- every injected 'not up' day missed: the real getting-up time, the scoring deadline (real wake + 3 h),
  the limit the core used (the alert's evidence, if it raised one later) and a cause;

then a table of causes per home. Causes are read off the times alone (no threshold of this script's own):

========================= ==================================================================
FA late-real              the real getting-up time is after the alert: a true late morning
FA up-unseen              the person was up (real wake before the alert) but the core did not see it
FA no-wake                the recorded day has no getting-up time (a night away, broken data)
MISS limit-late           the limit (usual deadline) is past real wake + 3 h: an early day
MISS still-late           a sooner 'still' limit existed but fell past real wake + 3 h too
MISS before-wake          'not up' was raised before the real getting-up time (a real late sleeper's day,
                          as on the clean stream: the scorer counts alarms from the real wake on)
MISS mat-silent           no alert in time, and the recorded day has no bed event before its getting up
                          (the mat recorded nothing that night: the core cannot see the person in bed)
MISS silent               no 'not up' alert that day at all (phase never NIGHT, away, blind)
MISS other-first          another care alert came first but outside the window
========================= ==================================================================

    .venv/bin/python -m benchmarks.not_up_why --homes vk2010-B vk2010-C --seeds 1 2 3 4 5
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime

from benchmarks import night_hours
from benchmarks.evaluate import hearth_alerts
from benchmarks.homes import DEFAULT_DATA, load_home, local_seconds
from benchmarks.prior import leave_one_out
from benchmarks.scoring import DEADLINE_S, count_alarms, score_anomalies
from benchmarks.streams import DAY, build_streams, day_of, profile

NOT_UP = "not_up"


def _run(p, stream, prior, night: str) -> list[tuple[int, object]]:
    """(local seconds, alert) of every alert the core raises on ``stream``, as the evaluation runs it."""
    return hearth_alerts(p, stream, prior, night_hours=night)


def _hm(t: float | None) -> str:
    return "--:--" if t is None else datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%a %m-%d")


def _local(iso: str | None) -> float | None:
    """An alert's evidence time (ISO, aware) as local seconds, like the stream's."""
    if not iso:
        return None
    return local_seconds(datetime.fromisoformat(iso).replace(tzinfo=None))


def _morning(p, sd) -> tuple[float | None, float | None]:
    """The recorded day's last bed event before noon and first 'up' event (not bed, not bedroom motion)
    after its real getting-up time (or after 05:00 without one)."""
    noon = sd.start + 8 * 3600
    bed = [t for t, sid, on in sd.events if sid in p.bed and t < noon]
    up_ids = {s.id for s in p.home.sensors if s.id not in p.bed and not (s.kind == "motion" and "bed" in s.room)}
    frm = sd.wake - 60 if sd.wake else sd.start + 3600
    up = [t for t, sid, on in sd.events if on and sid in up_ids and t >= frm]
    return (bed[-1] if bed else None), (up[0] if up else None)


def why(name: str, seed: int, data: str, verbose: bool) -> Counter:
    """Print one home's and seed's 'not up' false alarms and misses; the count of each cause."""
    rec = load_home(name, data)
    p = profile(rec)
    clean, anom, _ = build_streams(p, 21, 200, seed)
    prior, night = leave_one_out(name, data), night_hours.leave_one_out(name, data)
    by_src = {sd.index: sd for sd in p.days}
    causes: Counter = Counter()
    on_clean = _run(p, clean, prior, night)
    fa = [(t, a) for t, a in on_clean if a.kind == NOT_UP and t >= clean.test_start
          and str(a.audience) == "care" and str(a.severity) in ("urgent", "warning")]
    n_fa = count_alarms([_det(t, a) for t, a in fa], clean.test_start)
    print(f"== {name} seed {seed}: {n_fa} 'not up' false alarms in 200 days")
    seen: set[str] = set()
    for t, a in fa:
        if a.key in seen:
            continue
        seen.add(a.key)
        day = (day_of(t) - day_of(clean.start))
        sd = by_src[clean.sources[day]]
        shift = (day_of(t) - day_of(sd.start)) * DAY  # stream day -> recorded day
        wake = sd.wake + shift if sd.wake else None
        last_bed, first_up = (x + shift if x else None for x in _morning(p, sd))
        cause = "FA no-wake" if wake is None else "FA late-real" if wake > t else "FA up-unseen"
        causes[cause] += 1
        ev = a.evidence
        if verbose:
            print(f"  FA {_day(t)} {_hm(t)} (src {sd.index}) {cause}: real wake {_hm(wake)}, last bed {_hm(last_bed)},"
                  f" first up-sensor {_hm(first_up)}; usual wake {ev.get('usual_wake')}, in_bed {ev.get('in_bed')},"
                  f" late night {ev.get('late_night_min')} min, last act {_hm(_local(ev.get('last_activity')))}")
    on_anom = _run(p, anom, prior, night)
    dets = [_det(t, a) for t, a in on_anom]
    truths = [tr for tr in anom.truths if tr.kind == NOT_UP]
    res = score_anomalies(truths, dets)
    print(f"   caught {sum(r[0] for r in res)}/{len(truths)}")
    causes["caught"] += sum(r[0] for r in res)
    causes["injected"] += len(truths)
    causes["FA distinct"] += n_fa
    for tr, (hit, _) in zip(truths, res, strict=True):
        if hit:
            continue
        wake = tr.start + 1 if tr.start is not None else tr.onset
        until = wake - 1 + DEADLINE_S[NOT_UP]
        same_day = [(t, a) for t, a in on_anom if day_of(t) == day_of(wake) and t >= wake - 1]
        nu = next(((t, a) for t, a in same_day if a.kind == NOT_UP), None)
        care = next(((t, a) for t, a in same_day if str(a.audience) == "care"), None)
        early = any(a.kind == NOT_UP and day_of(t) == day_of(wake) and t < wake - 1 for t, a in on_anom)
        src = by_src[tr.source_day]
        mat = any(sid in p.bed for ts, sid, _on in src.events if src.start <= ts < (src.wake or ts))
        if nu is None:
            cause = ("MISS before-wake" if early else "MISS mat-silent" if not mat
                     else "MISS other-first" if care else "MISS silent")
            limit, ev = None, {}
        else:
            ev = nu[1].evidence
            usual = _local(nu[1].evidence.get("usual_deadline"))
            limit = _local(nu[1].evidence.get("deadline"))
            cause = "MISS still-late" if limit is not None and usual is not None and limit < usual else "MISS limit-late"
        causes[cause] += 1
        if verbose:
            first = f"{care[1].kind} {_hm(care[0])}" if care else "none"
            if nu is None:  # what the core said in the day before: a blind bed sensor, an outing
                first += "; before: " + ", ".join(sorted({f"{a.kind}/{a.audience}" for t, a in on_anom
                                                          if wake - DAY <= t < wake}))
            print(f"  MISS {_day(wake)} real wake {_hm(wake)} must by {_hm(until)} {cause}: limit {_hm(limit)}"
                  f" ({(limit - wake) / 3600:+.1f} h after wake), usual deadline {_hm(_local(ev.get('usual_deadline')))},"
                  f" in_bed {ev.get('in_bed')}, last act {_hm(_local(ev.get('last_activity')))}" if limit else
                  f"  MISS {_day(wake)} real wake {_hm(wake)} must by {_hm(until)} {cause}: first care {first}")
    return causes


def _det(t: int, a):
    from benchmarks.telecare import Detection

    return Detection(t, a.kind, str(a.severity), str(a.audience), a.key)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--homes", nargs="+", default=["vk2010-B", "vk2010-C"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("-q", "--quiet", action="store_true", help="only the cause table")
    a = ap.parse_args()
    table = {h: Counter() for h in a.homes}
    for h in a.homes:
        for s in a.seeds:
            table[h] += why(h, s, a.data, not a.quiet)
    kinds = sorted({k for c in table.values() for k in c})
    print(f"\ncauses over seeds {' '.join(map(str, a.seeds))}")
    print(f"{'home':<10} " + " ".join(f"{k:<17}" for k in kinds))
    for h, c in table.items():
        print(f"{h:<10} " + " ".join(f"{c[k]:<17}" for k in kinds))


if __name__ == "__main__":
    main()
