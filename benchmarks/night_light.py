"""The night path light's defaults, chosen on the recorded homes with bed mats (van Kasteren 2010 B, C).

``python -m benchmarks.night_light [DATA]`` prints, for each home, its night trips (inside the
residents' own "go to bed" labels: up activity outside the bedroom, from the last bed-mat event
before it, at most 10 min before, to the next bed-mat event) and the times from being back on the
mat to leaving again; then, leave-one-home-out, what share of the held-out home each default covers.

- ``off_after_minutes`` (default 30): the light's safety stop when the bed never sees the return.
  The share of night trips that end before it, per home.
- the back-in-bed grace (60 s): a return followed by leaving again this soon is one trip (sitting
  on the bed), so the light stays on. Both homes' short re-exits (0-40 s) end well inside it, and
  the next re-exits start after about 2 min.

The mats in these homes pulse on movement rather than hold "occupied", so trips are estimates.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right
from pathlib import Path
from statistics import median

from benchmarks.homes import DEFAULT_DATA, load_home

HOMES = ("vk2010-B", "vk2010-C")
LEFT_WITHIN_S = 600  # a mat event this soon before the first up activity is the moment of leaving
OFF_AFTER_MIN = (10, 15, 20, 30, 45, 60)
GRACE_S = (15, 30, 60, 120)


def night_trips(name: str, data: Path | str = DEFAULT_DATA) -> tuple[list[int], list[int]]:
    """(trip lengths, back-on-the-mat-to-leaving-again gaps), in seconds, inside labelled sleeps."""
    h = load_home(name, data)
    kind = {s.id: s for s in h.sensors}
    bed = sorted(t for t, s, on in h.events if on and kind[s].kind == "bed")
    up = sorted(t for t, s, on in h.events if on and kind[s].kind != "bed" and kind[s].room != "bedroom")
    trips, gaps = [], []
    for start, end in h.sleep_labels:
        ups, i, back_at = up[bisect_left(up, start):bisect_right(up, end)], 0, None
        while i < len(ups):
            j = bisect_right(bed, ups[i])
            if j >= len(bed) or bed[j] > end + 3600:
                break
            k = bisect_left(bed, ups[i]) - 1
            left = bed[k] if k >= 0 and ups[i] - bed[k] < LEFT_WITHIN_S else ups[i]
            trips.append(bed[j] - left)
            if back_at is not None:
                gaps.append(left - back_at)
            back_at = bed[j]
            while i < len(ups) and ups[i] < back_at:
                i += 1
    return trips, gaps


def main(argv: list[str]) -> None:
    data = argv[0] if argv else DEFAULT_DATA
    found = {h: night_trips(h, data) for h in HOMES}
    print("| home | night trips | median | longest | " + " | ".join(f"<= {m} min" for m in OFF_AFTER_MIN) + " |")
    print("|---|---|---|---|" + "---|" * len(OFF_AFTER_MIN))
    for h, (trips, _) in found.items():
        shares = [sum(t <= m * 60 for t in trips) / len(trips) for m in OFF_AFTER_MIN]
        print(f"| {h} | {len(trips)} | {median(trips) / 60:.1f} min | {max(trips) / 60:.0f} min | "
              + " | ".join(f"{s:.0%}" for s in shares) + " |")
    print()
    print("| home | re-exits | " + " | ".join(f"within {g} s" for g in GRACE_S) + " | shortest longer one |")
    print("|---|---|" + "---|" * len(GRACE_S) + "---|")
    for h, (_, gaps) in found.items():
        short = [g for g in gaps if g <= max(GRACE_S)]
        longer = min((g for g in gaps if g > 60), default=None)
        print(f"| {h} | {len(gaps)} | " + " | ".join(str(sum(g <= x for g in short)) for x in GRACE_S)
              + f" | {longer} s |")


if __name__ == "__main__":
    main(sys.argv[1:])
