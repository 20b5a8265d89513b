"""Up from a nap by day, then nothing: a fall right as the person steps off the bed in the afternoon.

The ``day_bed_exit`` situation (:mod:`routines.detectors.situations`). The evaluation's injected collapses
(:mod:`benchmarks.streams`) begin after indoor activity at random moments, hardly ever right after a bed
exit by day, so :mod:`benchmarks.seeds` cannot show it. Two parts, on the homes with a bed mat (B, C):

``--spells``: the core over each home's clean first-month streams with the situation unable to alert
sooner than the daytime limits (its start at its cap, never learned); every spell it sees is logged to
its end, and it prints on how many stream days one reached each wait.

``--evidence`` (behind ``day_bed_exit_start_min``): as the core sees almost no naps, the quiet after any
bed exit by day (07:00-21:00, the getting up too) on the recorded days, measured as the situation does;
the starting limit is chosen leave-one-home-out (:func:`evidence`).

The cut (default): the recordings hold hardly any naps (``--spells``: the core saw no bed exit by day on
any of 280 first-month stream days), so this gives the person one. The clean streams of
:mod:`benchmarks.seeds` (same seeds, days, LOHO prior and night hours; the full kit), with a nap on every
day that has a moment for one: from the first sign of life after 14:00 (before 16:00, at home, not
already on the bed) only the mat, occupied for an hour, then the recorded day goes on; on every other
test day the stream is cut at the mat's exit (nothing after it until the day ends; motion sensors still
reset), but for one step (the first sensor the recorded day shows after the nap began, 30 s after the
exit: B's and C's mats pulse, so the core reads the person out of bed only once seen elsewhere). It prints
the exits cut and those caught by a care alarm of any kind within 60 min, 3 h and
12 h (median delay), and the false alarms a month on the clean stream and on the stream with naps (not
cut). Alarms within 12 h of a cut are marked 'real' (:func:`benchmarks.just_home.alarms_marking_falls`).

    .venv/bin/python -m benchmarks.day_bed_exit                # the cut, seeds 1-5
    .venv/bin/python -m benchmarks.day_bed_exit --spells       # the spells the core sees, seeds 1-5
    .venv/bin/python -m benchmarks.day_bed_exit --evidence     # the starting limit, leave-one-home-out
"""

from __future__ import annotations

import argparse
from bisect import bisect_left
from concurrent.futures import ProcessPoolExecutor

from benchmarks.homes import DEFAULT_DATA, Event, load_home
from benchmarks.just_home import alarms_marking_falls, cut_row, delays_after, loho_profile
from benchmarks.scoring import count_alarms
from benchmarks.streams import DAY, HOUR, HomeProfile, Stream, _silence_from, build_streams, profile

BED_HOMES = ("vk2010-B", "vk2010-C")  # (house A has no bed mat)
NAP_FROM_S, NAP_TO_S = 10 * HOUR, 12 * HOUR  # 14:00-16:00 (the stream day begins at 04:00)
NAP_S, HOME_S, STAYED_S = HOUR, 30 * 60, 30 * 60
WAITS_MIN = (0, 5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 360)


def nap_at(p: HomeProfile, day: list[Event], lo: int) -> float | None:
    """When the day's nap begins: the first sign of life from :data:`NAP_FROM_S` (14:00) on, with the person at
    home (no front-door event within :data:`HOME_S` of the nap) and out of bed; None if there is none
    before :data:`NAP_TO_S` (16:00)."""
    doors = [e[0] for e in day if e[1] == p.front_door]
    mats = [e for e in day if e[1] in p.bed and lo + NAP_FROM_S - HOUR <= e[0] < lo + NAP_TO_S + NAP_S]
    for t, sid, on in day:
        if not lo + NAP_FROM_S <= t < lo + NAP_TO_S or sid in p.bed or not (on or sid not in p.motion):
            continue
        if any(t - HOME_S <= d <= t + NAP_S + HOME_S for d in doors) or any(e[2] for e in mats if e[0] < t):
            return None  # out, or the recording's own time on the bed: not this day
        return float(t)
    return None


def with_naps(p: HomeProfile, s: Stream, cut: bool) -> tuple[Stream, list[float]]:
    """``s`` with a nap on every day that has a moment for one (:func:`nap_at`): nothing but the mat occupied
    for :data:`NAP_S`, then empty again, and the recorded day goes on; with ``cut``, on every other test
    day, nothing after the mat's exit until the day ends (motion sensors still reset). Returns the stream
    and the exits cut (``cut``) or all the naps' exits."""
    events, exits = list(s.events), []
    for k in range(s.days):
        lo, hi = s.start + k * DAY, s.start + (k + 1) * DAY
        day = [e for e in events if lo <= e[0] < hi]
        t = nap_at(p, day, lo)
        if t is None:
            continue
        up = int(t) + NAP_S
        fall = cut and k >= s.learning_days and (k - s.learning_days) % 2 == 0
        if fall or not cut:
            exits.append(float(up))
        before = _silence_from(int(t), day, p.motion)
        after = [e for e in day if e[0] > up]
        mat = [(int(t), p.bed[0], True), (up, p.bed[0], False)]
        if fall:
            # one step, then nothing: the first sensor the recorded day shows after the nap's start, 30 s
            # after the exit (a mat that pulses is left only when the person is seen elsewhere)
            sid = next(e[1] for e in day if e[0] >= t and e[1] not in p.bed)
            after = [(up + 30, sid, True)] + ([(up + 90, sid, False)] if sid in p.motion else [])
        events = [e for e in events if not lo <= e[0] < hi] + before + mat + after
    events.sort(key=lambda e: e[0])
    return Stream(events, s.start, s.days, s.learning_days, [], s.sources), exits


def _cut(job: tuple[str, str, int, int, int]) -> tuple[str, list[int | None], float, float]:
    from benchmarks import evaluate

    name, data, learning, days, seed = job
    p = loho_profile(name, data)
    clean, _, _ = build_streams(p, learning, days, seed)
    cut, moments = with_naps(p, clean, True)
    delays = delays_after(moments, alarms_marking_falls(p, cut, moments))
    napping, _ = with_naps(p, clean, False)
    fa = count_alarms(evaluate.run_hearth(p, clean, seed), clean.test_start) / (days * 1.0) * 30.0
    fa_naps = count_alarms(evaluate.run_hearth(p, napping, seed), clean.test_start) / (days * 1.0) * 30.0
    return name, delays, fa, fa_naps


def _spells(job: tuple[str, str, int]) -> tuple[str, int, list[int]]:
    """(home, stream days, days with a day_bed_exit spell reaching each of WAITS_MIN) for one seed."""
    from benchmarks import night_hours
    from benchmarks.evaluate import with_night_hours
    from benchmarks.first_month import FIRST_DAYS
    from benchmarks.homes import aware
    from benchmarks.prior import leave_one_out
    from gateway.config import parse_config_text
    from routines.detectors import situations
    from routines.engine import RoutineEngine
    from routines.replay import replay_into
    from routines.waiting import WAIT_EDGES_S

    name, data, seed = job
    p = profile(load_home(name, data))
    clean, _, _ = build_streams(p, 0, FIRST_DAYS, seed, kinds=("not_up",))
    cfg = parse_config_text(p.home.config_yaml(), f"{name}.yaml")
    home = with_night_hours(cfg.to_home(), night_hours.leave_one_out(name, data))
    st = cfg.routines.model_copy(update={"day_bed_exit_start_min": 360, "situation_min_days": 90})
    eng = RoutineEngine(home, st, leave_one_out(name, data))
    longest: dict[object, float] = {}  # stream day -> the longest spell that day
    end = situations._end

    def logged(pp, ms, n):  # type: ignore[no-untyped-def]
        _, k, _, date = pp.waiting.now[n]
        if n == "day_bed_exit" and k >= 0:
            longest[date] = max(longest.get(date, 0.0), float(WAIT_EDGES_S[k]))
        end(pp, ms, n)

    situations._end = logged
    rows = ((aware(t, home.tz).timestamp(), sid, on) for t, sid, on in clean.events)
    for _ in replay_into(eng, rows, 60, aware(clean.end, home.tz).timestamp()):
        pass
    return name, clean.days, [sum(v >= w * 60 for v in longest.values()) for w in WAITS_MIN]


def quiet_after_exits(p: HomeProfile, events: list[Event]) -> tuple[int, dict[int, float]]:
    """The evidence on the recorded days themselves: (days recorded, day -> the longest quiet after a bed exit
    by day). A bed exit by day is the mat going empty between :data:`DAY_FROM_S` and :data:`DAY_TO_S` (any
    exit, the getting up too: by day the recordings hold hardly any naps, see ``--spells``) and staying empty
    :data:`STAYED_S` or until the next sign of life; its quiet is as the core measures ``day_bed_exit``:
    from the last sign of life within :data:`~routines.detectors.daytime.FIRST_STEP_S` of the exit (the
    first step; else the exit) to the next one."""
    from routines.detectors.daytime import FIRST_STEP_S

    life = [e[0] for e in events if e[1] not in p.bed and (e[2] or e[1] not in p.motion)]
    mat_on = [e[0] for e in events if e[1] in p.bed and e[2]]
    longest: dict[int, float] = {}
    for t, sid, on in events:
        if sid not in p.bed or on or not DAY_FROM_S <= t % DAY < DAY_TO_S:
            continue
        i, j = bisect_left(life, t), bisect_left(mat_on, t)
        step = [x for x in life[i:i + 50] if x < t + FIRST_STEP_S]
        nxt = life[i + len(step)] if i + len(step) < len(life) else None
        back = mat_on[j] if j < len(mat_on) else None
        if nxt is None or (back is not None and back < min(nxt, t + STAYED_S)):
            continue  # the recording's end, or back on the bed (turning over, sitting down): not up
        d = int(t // DAY)
        longest[d] = max(longest.get(d, 0.0), nxt - (step[-1] if step else t))
    days = len({int(e[0] // DAY) for e in events})
    return days, longest


def evidence(homes: list[str], data: str) -> None:
    """The starting limit, leave-one-home-out: from each home the shortest wait (of :data:`WAITS_MIN`) its
    days outlasted no more often than one budget share allows (``false_alarm_budget_per_30d`` over the
    situations and other shares a full bed-mat home sees, :data:`SHARES`), times ``situation_margin``; and
    what that wait would cost the other home (days a month whose quiet outlasted it)."""
    from routines.settings import RoutineSettings

    st = RoutineSettings()
    share = st.false_alarm_budget_per_30d / 30.0 / SHARES
    got = {h: quiet_after_exits(profile(load_home(h, data)), load_home(h, data).events) for h in homes}
    print("bed exits by day (07:00-21:00) on the recorded days: days whose longest quiet after one reached each wait")
    print(f"{'home':10} {'days':>5} " + " ".join(f"{w:>5}m" for w in WAITS_MIN))
    for h, (n, q) in got.items():
        print(f"{h:10} {n:>5} " + " ".join(f"{sum(v >= w * 60 for v in q.values()):>6}" for w in WAITS_MIN))
    for h in homes:
        n, q = got[h]
        w = next((w for w in WAITS_MIN if sum(v >= w * 60 for v in q.values()) / n <= share), WAITS_MIN[-1])
        pick = w * st.situation_margin
        for o in homes:
            if o != h:
                on, oq = got[o]
                over = sum(v >= pick * 60 for v in oq.values())
                print(f"from {h}: {w} min x {st.situation_margin:g} = {pick:g} min; on {o}: {over} of {on} days "
                      f"({over / on * 30:.2f} a month, its share {share * 30:.2f})")


SHARES = 11  # the situations a home with bed, bedroom sensor, chair, door sees, and the other shares (B, C: <= 11)
DAY_FROM_S, DAY_TO_S = 7 * HOUR, 21 * HOUR


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--homes", nargs="+", default=list(BED_HOMES))
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--spells", action="store_true", help="the spells the core sees on the clean streams")
    ap.add_argument("--evidence", action="store_true", help="the starting limit's evidence, leave-one-home-out")
    a = ap.parse_args()
    homes = a.homes
    if a.evidence:
        evidence(homes, a.data)
        return
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        if a.spells:
            days = dict.fromkeys(homes, 0)
            over = {h: [0] * len(WAITS_MIN) for h in homes}
            for name, n, cs in pool.map(_spells, [(h, a.data, s) for h in homes for s in a.seeds]):
                days[name] += n
                over[name] = [x + y for x, y in zip(over[name], cs, strict=True)]
            print(f"day_bed_exit spells on the clean first-month streams, seeds {' '.join(map(str, a.seeds))}: "
                  "stream days with a spell reaching each wait")
            print(f"{'home':10} {'days':>5} " + " ".join(f"{w:>5}m" for w in WAITS_MIN))
            for h in homes:
                print(f"{h:10} {days[h]:>5} " + " ".join(f"{c:>6}" for c in over[h]))
            return
        work = [(h, a.data, 21, 200, s) for h in homes for s in a.seeds]
        got: dict[str, list[int | None]] = {h: [] for h in homes}
        fas: dict[str, list[float]] = {h: [] for h in homes}
        naps: dict[str, list[float]] = {h: [] for h in homes}
        for name, ds, fa, fn in pool.map(_cut, work):
            got[name] += ds
            fas[name].append(fa)
            naps[name].append(fn)
    print(f"a nap on every other test day, cut at the mat's exit (nothing after it), full kit, seeds "
          f"{' '.join(map(str, a.seeds))}: caught by a care alarm of any kind (median delay, min)")
    print(f"{'home':10} {'within 60 min':>14} {'3 h':>7} {'12 h':>7} {'median':>7}  FA/30d clean, with naps")
    for h in homes:
        print(f"{cut_row(h, got[h])}  {sum(fas[h]) / len(fas[h]):.1f}, {sum(naps[h]) / len(naps[h]):.1f}")


if __name__ == "__main__":
    main()
