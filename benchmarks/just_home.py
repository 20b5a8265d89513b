"""A fall in the hall right after coming home: the front door shuts behind the person, then nothing.

Issue 11, item 1 (the ``just_home`` situation). The evaluation's injected collapses (:mod:`benchmarks.streams`)
begin a few minutes after a sign of life indoors, never between the front door and the first sign of life
after an outing, so :mod:`benchmarks.seeds` cannot show this situation. This replays the clean streams of
:mod:`benchmarks.seeds` (same seeds, days, leave-one-home-out prior and night hours; the full kit) with, on
every other test day that has one, the day's first return home cut: every event after the last front-door
event of the return is removed until the day ends (motion sensors still reset). A return is a front-door
event with no sign of life indoors in the :data:`OUT_S` before it and one within :data:`BACK_S` after it (an
outing; the first sign of life is what the cut removes). It prints, per home, the returns cut and those
caught by a care alarm of any kind within 60 min, 3 h and 12 h of the door (median delay), and the false
alarms a month on the clean stream. A care alarm within 12 h of a cut is marked 'real' as it is raised (the
carer found the person), so the cuts do not teach the limits (see :func:`alarms_marking_falls`).

    .venv/bin/python -m benchmarks.just_home                  # homes with a front door, seeds 1-5
    .venv/bin/python -m benchmarks.just_home --seeds 1 --jobs 1
"""

from __future__ import annotations

import argparse
from bisect import bisect_left
from concurrent.futures import ProcessPoolExecutor
from statistics import median

from benchmarks.homes import DEFAULT_DATA, HOMES, Event, load_home
from benchmarks.scoring import count_alarms, is_care_alarm
from benchmarks.streams import DAY, HOUR, HomeProfile, Stream, _silence_from, build_streams, profile

OUT_S = 30 * 60  # out: no sign of life indoors for this long before the door (the harness's departures: 15 min)
BACK_S = 10 * 60  # ... and one soon after it: the person came in (the cut removes it)
WITHIN_S = (HOUR, 3 * HOUR, 12 * HOUR)


def indoors(p: HomeProfile, e: Event) -> bool:
    """A sign of life indoors as the core reads one: any sensor but the front door, a motion sensor only on."""
    return e[1] != p.front_door and (e[2] or e[1] not in p.motion)


def returns(p: HomeProfile, events: list[Event]) -> list[float]:
    """Times of the last front-door event of each return home in ``events`` (see the module's note)."""
    life = [e[0] for e in events if indoors(p, e)]
    out = []
    for t, sid, _ in events:
        if sid != p.front_door:
            continue
        i = bisect_left(life, t)
        before = life[i - 1] if i > 0 else None
        after = life[i] if i < len(life) else None
        if after is not None and after - t <= BACK_S and (before is None or t - before >= OUT_S):
            out.append(t)
    # the door often moves twice coming in (open, shut): the cut is after the last move before the sign
    return [t for k, t in enumerate(out) if k + 1 == len(out) or out[k + 1] - t > BACK_S]


def with_cuts(p: HomeProfile, s: Stream) -> tuple[Stream, list[float]]:
    """``s`` with the first return of every other test day cut (nothing after its door until the day ends)."""
    events, cuts = list(s.events), []
    for k in range(s.learning_days, s.days, 2):
        lo, hi = s.start + k * DAY, s.start + (k + 1) * DAY
        day = [e for e in events if lo <= e[0] < hi]
        rs = [t for t in returns(p, day) if t < hi - WITHIN_S[1]]
        if not rs:
            continue
        cuts.append(rs[0])
        kept = _silence_from(int(rs[0]) + 1, day, p.motion)
        events = [e for e in events if not lo <= e[0] < hi] + kept
    events.sort(key=lambda e: e[0])
    return Stream(events, s.start, s.days, s.learning_days, [], s.sources), cuts


def alarms_marking_falls(p: HomeProfile, s: Stream, moments: list[float]) -> list[int]:
    """Local seconds of every care alarm Hearth raises on ``s``; one within 12 h of a cut return is marked
    'real' at once, as the carer who found the person would: a real fall teaches the limits nothing (left
    unmarked, the harness's hundred falls would settle as the person's normal and push the limit up)."""
    from benchmarks import evaluate
    from benchmarks.homes import aware, local_seconds
    from gateway.config import parse_config_text
    from routines.engine import RoutineEngine
    from routines.replay import replay_into

    cfg = parse_config_text(p.home.config_yaml(), f"{p.home.name}.yaml")
    home = evaluate.with_night_hours(cfg.to_home(), evaluate.LOHO_NIGHT.get(p.home.name))
    eng = RoutineEngine(home, cfg.routines, evaluate.LOHO_PRIORS.get(p.home.name))  # type: ignore[arg-type]
    tz = home.tz
    rows = ((aware(t, tz).timestamp(), sid, on) for t, sid, on in s.events)
    out = []
    for a in replay_into(eng, rows, 60, aware(s.end, tz).timestamp()):
        t = local_seconds(a.time.astimezone(tz).replace(tzinfo=None))
        if not is_care_alarm(evaluate.detection(t, a)):
            continue
        out.append(t)
        if any(m <= t <= m + WITHIN_S[-1] for m in moments):
            eng.record_outcome(a.key, "real")
    return sorted(out)


def loho_profile(name: str, data: str) -> HomeProfile:
    """The home's profile, with its leave-one-home-out prior and night hours set for the evaluation's runs
    in this process (:data:`benchmarks.evaluate.LOHO_PRIORS`, ``LOHO_NIGHT``)."""
    from benchmarks import evaluate, night_hours
    from benchmarks.prior import leave_one_out

    evaluate.LOHO_PRIORS[name] = leave_one_out(name, data)
    evaluate.LOHO_NIGHT[name] = night_hours.leave_one_out(name, data)
    return profile(load_home(name, data))


def delays_after(moments: list[float], alarms: list[int]) -> list[int | None]:
    """Per cut moment: seconds to the first alarm at or after it, up to the longest window (None: none)."""
    out: list[int | None] = []
    for t in moments:
        nxt = next((a for a in alarms if a >= t), None)
        out.append(int(nxt - t) if nxt is not None and nxt - t <= WITHIN_S[-1] else None)
    return out


def cut_row(home: str, ds: list[int | None]) -> str:
    """One table row: caught within each window of :data:`WITHIN_S`, and the median delay (min)."""
    hit = [d for d in ds if d is not None]
    cells = [f"{sum(d <= w for d in hit)}/{len(ds)}" for w in WITHIN_S]
    med = f"{median(hit) / 60:.1f}" if hit else "-"
    return f"{home:10} {cells[0]:>14} {cells[1]:>7} {cells[2]:>7} {med:>7}"


def _one(job: tuple[str, str, int, int, int]) -> tuple[str, list[int | None], float]:
    from benchmarks import evaluate

    name, data, learning, days, seed = job
    p = loho_profile(name, data)
    clean, _, _ = build_streams(p, learning, days, seed)
    cut, moments = with_cuts(p, clean)
    delays = delays_after(moments, alarms_marking_falls(p, cut, moments))
    fa = count_alarms(evaluate.run_hearth(p, clean, seed), clean.test_start) / (days * 1.0) * 30.0
    return name, delays, fa


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--homes", nargs="+", default=None)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    homes = a.homes or [h for h in HOMES if profile(load_home(h, a.data)).front_door is not None]
    work = [(h, a.data, 21, 200, s) for h in homes for s in a.seeds]
    got: dict[str, list[int | None]] = {h: [] for h in homes}
    fas: dict[str, list[float]] = {h: [] for h in homes}
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        for name, ds, fa in pool.map(_one, work):
            got[name] += ds
            fas[name].append(fa)
    print(f"returns home cut at the front door (nothing after it), full kit, seeds {' '.join(map(str, a.seeds))}:"
          " caught by a care alarm of any kind (median delay, min)")
    print(f"{'home':10} {'within 60 min':>14} {'3 h':>7} {'12 h':>7} {'median':>7}  FA/30d (clean)")
    for h in homes:
        print(f"{cut_row(h, got[h])}  {sum(fas[h]) / len(fas[h]):.1f}")


if __name__ == "__main__":
    main()
