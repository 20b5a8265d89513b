"""Scoring: recall within a deadline, median detection delay, false alarms per 30 days.

Rules (the same for every system):

- Only *care* alarms count (audience ``care``, severity ``urgent`` or ``warning``); technical
  alerts (device health) are reported apart and are never detections or false alarms.
- Deadlines per kind (issue 11, decision 1; :data:`DEADLINE_S`): a daytime collapse 4 h from its onset,
  a night bed exit with no return 60 min, out by the front door at night 45 min, 'not up' 3 h after the
  person's real getting-up time that day, a day without the kitchen 21:00 (or its onset, if later), out
  by the front door and never back 8 h after leaving (:data:`benchmarks.streams.NOT_BACK_DEADLINE_S`).
- An urgent anomaly (collapse, not_up, night_bed_exit, night_door_exit, not_back) is detected by the first
  care alarm of ANY kind between its onset and its deadline: whatever the alarm says, a carer
  calls or goes round, which is what the person needs. A 'not up' is silent from the person's own
  getting-up moment, before its onset (the usual late wake): an alarm from that moment counts too
  (the person never got up), with a delay of 0.
- A day without kitchen activity is detected by a care alarm between the onset (that day's usual
  first kitchen use) and its deadline whose kind is about food or the whole day
  (:data:`NO_KITCHEN_WORDS` in the kind, e.g. ``no_meal``, ``no_kitchen_activity``, ``anomaly``), or
  from getting up that day: the day is without the kitchen from then on.
- False alarms: care alarms on the CLEAN stream after the learning period. Repeats of one situation
  count once: the same key, or the same kind within 60 minutes of the previous one.

>>> from benchmarks.telecare import Detection
>>> from benchmarks.streams import Truth
>>> score_anomalies([Truth("collapse", 1000, 4600, 0, 0)], [Detection(2000, "inactivity", "urgent")])
[(True, 1000)]
>>> score_anomalies([Truth("collapse", 1000, 4600, 0, 0)], [Detection(9000, "inactivity", "urgent")])
[(True, 8000)]
>>> score_anomalies([Truth("not_up", 9000, 12600, 0, 0, start=5000)], [Detection(7000, "not_up", "urgent")])
[(True, 0)]
"""

from __future__ import annotations

from bisect import bisect_left
from statistics import median

from benchmarks.streams import DAY, DAY_START_S, HOUR, KINDS, NOT_BACK_DEADLINE_S, URGENT_KINDS, Truth, day_of
from benchmarks.telecare import Detection

NO_KITCHEN_WORDS = ("kitchen", "meal", "food", "eat", "anomal", "unusual", "profile", "day")
EPISODE_S = 3600
# seconds from the moment each kind is judged from (its onset; for 'not up' the real getting-up time)
DEADLINE_S = {"collapse": 4 * HOUR, "not_up": 3 * HOUR, "night_bed_exit": HOUR, "night_door_exit": 45 * 60,
              "not_back": NOT_BACK_DEADLINE_S}
NO_KITCHEN_BY_S = 17 * HOUR  # 21:00: seconds after the 04:00 day start


def deadline(tr: Truth) -> int:
    """When ``tr`` must be caught by (local seconds), by the table of issue 11 rather than the stream's own."""
    if tr.kind == "no_kitchen":
        return max(tr.onset, day_of(tr.onset) * DAY + DAY_START_S + NO_KITCHEN_BY_S)
    if tr.kind == "not_up" and tr.start is not None:
        return tr.start + DEADLINE_S["not_up"]
    return tr.onset + DEADLINE_S[tr.kind]


def is_care_alarm(d: Detection) -> bool:
    return d.audience == "care" and d.severity in ("urgent", "warning")


def matches(truth_kind: str, alert_kind: str) -> bool:
    if truth_kind in URGENT_KINDS:
        return True
    return any(w in alert_kind.lower() for w in NO_KITCHEN_WORDS)


def score_anomalies(truths: list[Truth], detections: list[Detection]) -> list[tuple[bool, int | None]]:
    """For each truth: (detected within its deadline, delay in seconds or None)."""
    alarms = sorted((d for d in detections if is_care_alarm(d)), key=lambda d: d.t)
    times = [d.t for d in alarms]
    out = []
    for tr in truths:
        hit = None
        start = tr.onset if tr.start is None else min(tr.start, tr.onset)
        until = deadline(tr)
        for d in alarms[bisect_left(times, start):]:
            if d.t > until:
                break
            if matches(tr.kind, d.kind):
                hit = d
                break
        out.append((hit is not None, max(0, hit.t - tr.onset) if hit else None))
    return out


def count_alarms(detections: list[Detection], since: int, care: bool = True) -> int:
    """Distinct alarms after ``since``: one per key, and one per kind per hour-long episode."""
    seen_keys: set[str] = set()
    last_by_kind: dict[str, int] = {}
    n = 0
    for d in sorted(detections, key=lambda d: d.t):
        wanted = is_care_alarm(d) if care else d.audience == "technical"
        if d.t < since or not wanted:
            continue
        if d.key and d.key in seen_keys:
            continue
        prev = last_by_kind.get(d.kind)
        last_by_kind[d.kind] = d.t
        if prev is not None and d.t - prev <= EPISODE_S:
            continue
        if d.key:
            seen_keys.add(d.key)
        n += 1
    return n


def summarize(truths: list[Truth], detections: list[Detection], clean: list[Detection], clean_since: int,
              clean_days: int) -> dict:
    """Per-kind recall and median delay, plus false and technical alarms per 30 days."""
    res = score_anomalies(truths, detections)
    per_kind = {}
    for kind in KINDS:
        got = [r for tr, r in zip(truths, res, strict=True) if tr.kind == kind]
        if not got:
            continue
        delays = [r[1] for r in got if r[0] and r[1] is not None]
        per_kind[kind] = {"n": len(got), "detected": sum(r[0] for r in got),
                          "recall": sum(r[0] for r in got) / len(got),
                          "median_delay_min": median(delays) / 60 if delays else None}
    n_all = sum(v["n"] for v in per_kind.values())
    fa = count_alarms(clean, clean_since, care=True)
    # the false alarms each alert kind adds (a kind's own repeats counted once, as above)
    fa_kinds = {k: n for k in sorted({d.kind for d in clean if is_care_alarm(d)})
                if (n := count_alarms([d for d in clean if d.kind == k], clean_since, care=True))}
    tech = count_alarms(clean, clean_since, care=False)
    all_delays = [r[1] for r in res if r[0] and r[1] is not None]
    return {
        "kinds": per_kind,
        "recall": sum(v["detected"] for v in per_kind.values()) / n_all if n_all else None,
        "median_delay_min": median(all_delays) / 60 if all_delays else None,
        "false_alarms_per_30d": fa * 30 / clean_days if clean_days else None,
        "technical_per_30d": tech * 30 / clean_days if clean_days else None,
        "false_alarms": fa,
        "false_alarms_by_kind_per_30d": {k: n * 30 / clean_days for k, n in fa_kinds.items()} if clean_days else {},
        "clean_days": clean_days,
    }
