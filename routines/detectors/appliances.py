"""Appliance 'left on' limits spent from one share of the person's false-alarm budget (issue 11 item 1).

The rule before the budget (:func:`routines.detectors.thresholds.appliance_limit`) waits the usual
longest on-time times ``appliance_margin``, never less than ``appliance_floor_min``. A switch usually off
within a minute is then told 'left on' at the 30-minute floor every time it is on for 31 (issue 14:
house B's microwave and toaster tilt switches), and settling those alerts never moves that limit, as the
usual time stays a minute. So the 'left on' check is one more spender of the budget (one share, like a
situation: :data:`routines.detectors.situations.OTHER_SHARES`), split evenly over the person's appliance
sensors: each sensor's limit is at least the shortest on-time past which its learned spells would have
raised no more alerts than its share over the days its spells span, times ``situation_margin``.

Spells of hours (``routines.engine.STUCK_ON_S``) are not counted: they are a sensor stuck on or an
appliance really forgotten, and :func:`routines.detectors.thresholds.stuck_on` turns a sensor that often
does that over to technicians. The budget never lifts a limit past :func:`cap_s`, the starting limit the
technician set, so a hob left on still reaches carers within it.

>>> import numpy as np
>>> v, w = np.array([30.0, 60.0, 1860.0, 40.0, 4 * 3600.0]), np.ones(5)
>>> spend(v, w, allowed=0.01)  # the longest spell under the stuck length is past what the share allows
(1860.0, 4)
>>> spend(v, w, allowed=1.5)  # one spell may alert: the next one decides
(60.0, 3)
>>> spend(v[:2], w[:2], allowed=2.0) is None  # every spell fits the share: the budget lifts nothing
True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from routines.detectors import situations

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.models import MarkerModel
    from routines.settings import RoutineSettings
    from routines.state import PersonState

# An on-spell this long is a sensor stuck on (or an appliance forgotten): routines.engine counts them apart
# (that module imports the detectors, so the number is repeated here; tests/test_routines_appliance_budget
# checks both agree)
STUCK_S = 3 * 3600.0


class Budgeted(NamedTuple):
    """One appliance sensor's budgeted limit and the person's own figures behind it (true counts)."""

    limit_s: float  # seconds on before a warning, from the budget (margin, floor and cap applied)
    base_s: float  # the longest learned on-time the share cannot pay for (before the margin)
    within: int  # learned spells that ended within base_s ...
    learned: int  # ... of all the spells learned (stuck ones included)
    capped: bool  # the cap decided


def cap_s(st: RoutineSettings) -> float:
    """The longest limit the budget may set: the technician's starting limit (``default_appliance_on_min``).
    Learned limits then only ever wait as long as a carer was first told to expect, and the stuck length
    (3 h) stays well past it: a spell of hours is never taken for use before it is told."""
    return st.default_appliance_on_min * 60.0


def span(m: MarkerModel) -> tuple[int, float]:
    """(whole days since the oldest spell still held was learned, those days decayed as the spells are).
    Each spell's weight starts at 1 and fades by ``m.factor`` a day, so its weight tells its age: no count
    of days of its own is kept (a checkpoint from before this module has the same model)."""
    w = m.weights[: m.n]
    w = w[w > 0]
    if not len(w) or m.factor >= 1.0:
        return 0, 0.0
    age = max(0, round(math.log(float(w.min())) / math.log(m.factor)))
    return age + 1, (1.0 - m.factor ** (age + 1)) / (1.0 - m.factor)


def spend(values: np.ndarray, weights: np.ndarray, allowed: float) -> tuple[float, int] | None:
    """(the longest on-time the share cannot pay for, how many spells ended within it), or None when all
    the learned spells shorter than a stuck one together fit within ``allowed`` (decayed alerts).

    Longest first, spells are paid for while their weights fit: the first that does not decides, and a
    limit just past it raises no more than ``allowed`` on the learned days."""
    keep = values < STUCK_S
    v, w = values[keep], weights[keep]
    order = np.argsort(-v, kind="stable")
    over = np.flatnonzero(np.cumsum(w[order]) > allowed + 1e-9)
    if not len(over):
        return None
    base = float(v[order[over[0]]])
    return base, int((values <= base).sum())


def active(eng: RoutineEngine, p: PersonState) -> bool:
    """Are the person's appliance limits spent from the budget yet (``situation_min_days`` of their own)?"""
    return p.activity_total.n >= eng.settings.situation_min_days


def refresh(eng: RoutineEngine, p: PersonState) -> dict[str, Budgeted]:
    """Each appliance sensor's budgeted limit, once ``situation_min_days`` of the person's own days are
    learned, as for the other spenders (before that the usual-time rule holds: a few weeks cannot show
    how often a long use comes): the appliances share one share of the budget evenly."""
    st = eng.settings
    plugs = [s for s in eng.person_sensors.get(p.id, ()) if s.plug]
    if not plugs or not active(eng, p):
        return {}
    share = situations.rate_per_day(eng, p) / len(plugs)
    out = {}
    for s in plugs:
        m = s.on_model
        if not m.n:
            continue
        paid = spend(m.values[: m.n], m.weights[: m.n], share * span(m)[1])
        if paid is None:
            continue
        base, within = paid
        want = max(st.appliance_floor_min * 60.0, base * st.situation_margin)
        out[s.id] = Budgeted(min(cap_s(st), want), base, within, m.n, want > cap_s(st))
    return out


def clip_spells(m: MarkerModel, xs: list[float], top: float, st: RoutineSettings, budgeted: bool) -> list[float]:
    """``xs`` (spells to learn into ``m``) clipped so neither rule's limit ends past ``top`` (seconds: the
    limit in force plus what decision 4 allows it to move). Once the budget sets limits (``budgeted``): at
    most ``top / situation_margin`` each (the budget's base after one more spell of x is at most
    max(base, x), :func:`spend` paying for the longest first), and at most ``top / appliance_margin``
    where the usual time learned with them all would put the older rule past ``top`` (so a sensor with many
    short spells can settle a long one). Before: ``top`` over the larger margin, so the budget's first
    limit is within it too. (A full ring forgetting its oldest spell may shorten the days spanned, so the
    share's allowance, as forgetting moves any quantile: decision 4 bounds what a day teaches.)"""
    low = [min(x, top / max(st.appliance_margin, st.situation_margin)) for x in xs]
    if not budgeted:
        return low
    cut = [min(x, top / st.situation_margin) for x in xs]
    n = m.n
    v, w = m.values[:n].copy(), m.weights[:n].copy()
    if m.count >= m.capacity:  # the ring is full: each spell learned takes the oldest's place
        drop = [(m._pos + i) % m.capacity for i in range(min(len(cut), m.capacity))]
        v, w = np.delete(v, drop), np.delete(w, drop)
    v, w = np.append(v, cut), np.append(w, np.ones(len(cut)))
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    usual = float(v[order][min(int(np.searchsorted(cum, st.usual_quantile * cum[-1], side="left")), len(v) - 1)])
    return cut if usual * st.appliance_margin <= top else low
