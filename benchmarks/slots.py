"""Generic anomaly detectors on per-time-slot features: river HalfSpaceTrees, scikit-learn IsolationForest.

Both see the same features per 30-minute slot, computed when the slot ends (so an alert can come at
the earliest at the end of the slot that shows the problem):

- on-event counts per sensor group (bed, kitchen, bathroom/toilet, front door/keys, bedroom, other),
- hours since the last up activity (not bed, not bedroom), capped at 12,
- whether the latest sign of the person was in bed,
- hour of day as sine and cosine, and a weekend flag.

Features are scaled to [0, 1] with fixed caps (HalfSpaceTrees needs that). Each model learns on the
learning period; its alert threshold is the 99.5th percentile of its own scores on the second half
of the learning period. HalfSpaceTrees keeps learning online on test slots it did not flag.

>>> f = SlotFeatures(groups={"bed": "bed", "fridge": "kitchen"}, bedroom=set())
>>> rows = f.rows([(100, "fridge", True), (200, "bed", True)], start=0, end=3600)
>>> len(rows), rows[0][1]["kitchen"], rows[0][1]["in_bed"]
(2, 0.05, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benchmarks.homes import Event, RecordedHome, local_datetime
from benchmarks.telecare import Detection

SLOT_S = 30 * 60
GROUPS = ("bed", "kitchen", "bathroom", "door", "bedroom", "other")
COUNT_CAP = 20.0
QUANTILE = 0.995


def sensor_groups(home: RecordedHome) -> dict[str, str]:
    """Sensor id -> feature group (a table over kind, role and room)."""
    out = {}
    for s in home.sensors:
        room = s.room.lower()
        if s.kind == "bed":
            g = "bed"
        elif "kitchen" in room:
            g = "kitchen"
        elif "toilet" in room or "bath" in room:
            g = "bathroom"
        elif s.role in ("front_door", "keys", "back_door"):
            g = "door"
        elif "bed" in room:
            g = "bedroom"
        else:
            g = "other"
        out[s.id] = g
    return out


@dataclass(slots=True)
class SlotFeatures:
    groups: dict[str, str]
    bedroom: set[str]

    def rows(self, events: list[Event], start: int, end: int) -> list[tuple[int, dict[str, float]]]:
        """(slot end, features) for every slot in [start, end)."""
        out = []
        i, n = 0, len(events)
        last_up, in_bed = start, False
        for slot_end in range(start + SLOT_S, end + 1, SLOT_S):
            counts = dict.fromkeys(GROUPS, 0)
            while i < n and events[i][0] < slot_end:
                t, sid, on = events[i]
                i += 1
                if not on:
                    continue
                g = self.groups.get(sid, "other")
                counts[g] += 1
                if g == "bed":
                    in_bed = True
                elif g != "bedroom":
                    in_bed, last_up = False, t
            hour = (slot_end % 86_400) / 3600
            x = {g: min(c, COUNT_CAP) / COUNT_CAP for g, c in counts.items()}
            x["since_up"] = min((slot_end - last_up) / 3600, 12.0) / 12.0
            x["in_bed"] = 1.0 if in_bed else 0.0
            x["hour_sin"] = (math.sin(2 * math.pi * hour / 24) + 1) / 2
            x["hour_cos"] = (math.cos(2 * math.pi * hour / 24) + 1) / 2
            x["weekend"] = 1.0 if local_datetime(slot_end - 1).weekday() >= 5 else 0.0
            out.append((slot_end, x))
        return out


def _threshold(scores: list[float]) -> float:
    half = scores[len(scores) // 2:] or scores
    return float(np.quantile(half, QUANTILE))


def run_hst(rows: list[tuple[int, dict[str, float]]], test_start: int, seed: int) -> list[Detection]:
    """river HalfSpaceTrees: learn on the learning slots, then score each slot and learn if not flagged."""
    from river.anomaly import HalfSpaceTrees

    model = HalfSpaceTrees(seed=seed)  # river defaults: 10 trees, height 8, window 250
    learn = [x for t, x in rows if t <= test_start]
    scores = []
    for x in learn:
        scores.append(model.score_one(x))
        model.learn_one(x)
    thr = _threshold(scores)
    out = []
    for t, x in rows:
        if t <= test_start:
            continue
        if model.score_one(x) > thr:
            out.append(Detection(t, "anomaly", "warning", "care", f"hst:{t}"))
        else:
            model.learn_one(x)
    return out


def run_iforest(rows: list[tuple[int, dict[str, float]]], test_start: int, seed: int) -> list[Detection]:
    """scikit-learn IsolationForest fitted on the learning slots; test slots scored in one batch."""
    from sklearn.ensemble import IsolationForest

    keys = list(rows[0][1]) if rows else []
    learn = np.array([[x[k] for k in keys] for t, x in rows if t <= test_start])
    test = [(t, x) for t, x in rows if t > test_start]
    model = IsolationForest(n_estimators=100, random_state=seed).fit(learn)
    thr = _threshold(list(-model.score_samples(learn)))
    if not test:
        return []
    scores = -model.score_samples(np.array([[x[k] for k in keys] for _, x in test]))
    return [Detection(t, "anomaly", "warning", "care", f"iforest:{t}")
            for (t, _), s in zip(test, scores, strict=True) if s > thr]
