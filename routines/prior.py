"""The population prior: where a new person's limits start, before their own days are learned.

A small versioned JSON file (``routines/priors/population.json``, made by ``python -m benchmarks.prior``
from the recorded homes; how is written in its ``made`` field and in ``routines/priors/README.md``)
holds, per daily marker, the spread of that marker across the homes' days as equally weighted quantile
points, never anyone's raw events. Each home counts the same, however many days it recorded.

The prior is *pseudo-evidence*: it counts as ``weight_days`` days of the person's own, and its weight
fades linearly as the person's own evidence for that check grows, to nothing at ``own_days`` days. So
the limits are sensible on day 1 and are the person's own after two weeks:

>>> import numpy as np
>>> pr = Marker(values=np.array([400.0, 500.0, 600.0]), per_day=1.0)
>>> own_v, own_w = np.array([450.0]), np.array([1.0])
>>> blended_quantile(own_v, own_w, 0, pr, 0.9, weight_days=3.0, own_days=14)  # no own day: the prior's
600.0
>>> blended_quantile(own_v, own_w, 14, pr, 0.9, weight_days=3.0, own_days=14)  # 14 own days: own only
450.0
"""

from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from routines.models import GAP_BINS, sorted_running_weight

FORMAT = 1  # the file's layout; a file of another format is refused (its values would be misread)
MARKERS = ("wake", "first_kitchen", "bed", "exit_len")  # marker -> minutes since day start (exit_len: seconds)


class PriorError(ValueError):
    """The prior file cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Marker:
    """One marker's population spread: equally weighted quantile points, and how many a day gives."""

    values: np.ndarray
    per_day: float = 1.0  # values one person-day gives (a wake: 1; night-time trips: about 1.4 a night)


@dataclass(frozen=True, slots=True)
class Prior:
    version: str
    homes: int  # how many homes it was made from
    days: int  # how many recorded person-days
    markers: dict[str, Marker]
    silence: np.ndarray | None  # 24 x GAP_BINS: quiet spells per day by start hour and log-length bin
    made: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def marker(self, name: str) -> Marker | None:
        return self.markers.get(name)


def parse(doc: dict[str, Any], where: str = "prior") -> Prior:
    """A prior from its JSON document (what :func:`load` reads)."""
    if doc.get("format") != FORMAT:
        raise PriorError(f"{where}: format {doc.get('format')!r} is not {FORMAT} (made by another Hearth?)")
    try:
        markers = {name: Marker(np.asarray(m["values"], dtype=float), float(m["per_day"]))
                   for name, m in doc["markers"].items() if name in MARKERS}
        sil = doc.get("silence")
        silence = np.asarray(sil, dtype=float) if sil is not None else None
        prior = Prior(str(doc["version"]), int(doc["homes"]), int(doc["days"]), markers, silence,
                      str(doc.get("made", "")), {k: v for k, v in doc.items() if k in ("sources", "excluded")})
    except (KeyError, TypeError, ValueError) as exc:
        raise PriorError(f"{where}: {exc!r} (expected version, homes, days, markers{{values, per_day}})") from None
    for name, m in prior.markers.items():
        if m.values.ndim != 1 or not len(m.values) or not np.all(np.isfinite(m.values)) or m.per_day <= 0:
            raise PriorError(f"{where}: marker {name!r} needs finite values and a positive per_day")
    if prior.silence is not None and (prior.silence.shape != (24, GAP_BINS)
                                      or not np.all(np.isfinite(prior.silence)) or (prior.silence < 0).any()):
        raise PriorError(f"{where}: silence must be 24 rows of {GAP_BINS} non-negative counts")
    return prior


def load(path: Path | str | None = None) -> Prior:
    """The shipped prior (``routines/priors/population.json``), or the one at ``path``."""
    if path is None:
        text = resources.files("routines").joinpath("priors/population.json").read_text(encoding="utf-8")
        where = "routines/priors/population.json"
    else:
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        return parse(json.loads(text), where)
    except json.JSONDecodeError as exc:
        raise PriorError(f"{where}: not JSON ({exc})") from None


@lru_cache(maxsize=1)
def shipped() -> Prior:
    return load()


def prior_weight(pr: Marker | None, own: float, weight_days: float, own_days: int) -> float:
    """Pseudo-count of the prior for a model holding ``own`` values: ``weight_days`` days' worth, fading
    linearly to 0 as the person's own values reach ``own_days`` days' worth."""
    if pr is None or own_days <= 0:
        return 0.0
    days = own / pr.per_day
    return weight_days * pr.per_day * max(0.0, 1.0 - days / own_days)


Table = tuple[list[float], list[float]]  # values sorted, running sum of their weights


def blended_table(values: np.ndarray, weights: np.ndarray, own: float, pr: Marker | None,
                  weight_days: float, own_days: int) -> Table | None:
    """The person's own (values, weights) and the prior's points together, sorted once for any number
    of quantiles (:func:`quantile_of`); None when there is neither."""
    w_p = prior_weight(pr, own, weight_days, own_days)
    if w_p > 0 and pr is not None:
        values = np.concatenate([values, pr.values])
        weights = np.concatenate([weights, np.full(len(pr.values), w_p / len(pr.values))])
    if not len(values) or weights.sum() <= 0:
        return None
    return sorted_running_weight(values, weights)


def quantile_of(table: Table | None, q: float) -> float | None:
    """Weighted quantile ``q`` of a :func:`blended_table` (the first value at or above a share ``q``)."""
    if table is None:
        return None
    v, cum = table
    return v[min(bisect_left(cum, q * cum[-1]), len(v) - 1)]


def blended_quantile(values: np.ndarray, weights: np.ndarray, own: float, pr: Marker | None, q: float,
                     weight_days: float, own_days: int) -> float | None:
    """Weighted quantile ``q`` of the person's own (values, weights) and the prior's points together
    (None when there is neither)."""
    return quantile_of(blended_table(values, weights, own, pr, weight_days, own_days), q)


def to_json(prior_points: dict[str, tuple[list[float], float]], silence: list[list[float]] | None, *,
            version: str, homes: int, days: int, made: str, sources: list[str], excluded: dict[str, str]) -> str:
    """The file's text (what ``python -m benchmarks.prior`` writes): one marker per line, short."""
    head = {"format": FORMAT, "version": version, "homes": homes, "days": days, "made": made,
            "sources": sources, "excluded": excluded}
    lines = ["{" + json.dumps(head, ensure_ascii=False)[1:-1] + ","]
    mk = [f'  "{k}": {json.dumps({"per_day": round(pd, 3), "values": [round(x, 1) for x in v]})}'
          for k, (v, pd) in prior_points.items()]
    lines.append(' "markers": {\n' + ",\n".join(mk) + "},")
    if silence is None:
        lines.append(' "silence": null}')
    else:
        rows = [f"  {json.dumps([round(x, 4) for x in row])}" for row in silence]
        lines.append(' "silence": [\n' + ",\n".join(rows) + "]}")
    return "\n".join(lines) + "\n"
