"""Plain-English pieces for explanations, and what a limit rests on, told truly.

An alert's words are a promise to a worker woken at 3am: every number in them is a count or a time the
core really saw or learned. So "how usual" is said as a count of the days the check's model actually
holds ("on 9 of the 10 days learned"), never as a quantile level ("97 days in 100" after 2 days); and a
limit that is not yet the person's own (the technician's starting setting, or the population prior
blended in) is said to be the starting limit set at install, never a "usual".

>>> hhmm(7 * 60 + 5)
'07:05'
>>> duration(125 * 60)
'2 h 05 min'
>>> duration(40)
'1 min'
>>> of_days(9, 10)
'on 9 of the 10 days learned'
>>> of_days(3, 3, "weekend days")
'on all 3 weekend days learned'
>>> count_of(37, 40, "times")
'37 of the 40 times learned'
>>> Pronouns("she").obj
'her'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from routines.prior import prior_weight

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.models import MarkerModel
    from routines.state import PersonState

_FORMS = {"she": ("she", "her", "her"), "he": ("he", "him", "his"), "they": ("they", "them", "their")}


@dataclass(frozen=True, slots=True)
class Pronouns:
    word: str

    @property
    def subj(self) -> str:
        return _FORMS.get(self.word, _FORMS["they"])[0]

    @property
    def obj(self) -> str:
        return _FORMS.get(self.word, _FORMS["they"])[1]

    @property
    def poss(self) -> str:
        return _FORMS.get(self.word, _FORMS["they"])[2]

    def be(self) -> str:
        return "are" if self.subj == "they" else "is"

    def verb(self, s_form: str, plain: str) -> str:
        """``verb("goes", "go")`` -> "goes" for she/he, "go" for they."""
        return plain if self.subj == "they" else s_form


def hhmm(minute_of_day: float) -> str:
    m = round(minute_of_day) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def duration(seconds: float) -> str:
    mins = max(1, round(seconds / 60))
    if mins < 60:
        return f"{mins} min"
    return f"{mins // 60} h {mins % 60:02d} min"


def count_of(k: int, n: int, what: str) -> str:
    """``k`` of the ``n`` things (days, trips, times) a model holds, in words: both counts, never shares."""
    return f"all {n} {what} learned" if k == n else f"{k} of the {n} {what} learned"


def of_days(k: int, n: int, what: str = "days") -> str:
    """:func:`count_of` for days: "on 9 of the 10 days learned"."""
    return f"on {count_of(k, n, what)}"


# ---- what a limit rests on ------------------------------------------------------------------------

OWN, PRIOR, SETTING = "own", "prior", "setting"


@dataclass(frozen=True, slots=True)
class Basis:
    """Where a cited limit came from, with the counts an explanation may cite.

    ``source``: ``own`` (the person's own learned values only), ``prior`` (the population prior blended
    with ``days`` of the person's own: still the starting limit), or ``setting`` (the technician's starting
    setting). ``days``: the values the check's model holds (days, or trips for night-time trips);
    ``within``: of those, how many were at or under the cited value (``own`` only, else 0).
    """

    source: str
    days: int
    within: int = 0
    needed: int = 0  # own values needed before the limit is the person's own

    @property
    def own(self) -> bool:
        return self.source == OWN


def marker_basis(eng: RoutineEngine, model: MarkerModel, marker: str, value: float | None,
                 days: int | None = None) -> Basis:
    """What the limit a detector took from ``model`` (marker ``marker`` of the prior) rests on, by the
    same rule :func:`routines.detectors.thresholds.refresh_thresholds` uses: the person's own once the
    model is ready and the prior's weight has faded to nothing, the prior blended while it still weighs,
    the starting setting otherwise. ``days``: the check's own days when the model holds part of them."""
    st = eng.settings
    pr = eng.prior.marker(marker) if eng.prior is not None and st.prior_days > 0 else None
    n = model.n
    own = n if days is None or pr is None else days * pr.per_day
    weight = prior_weight(pr, own, st.prior_days, st.own_routine_days)
    if not model.ready and pr is None:
        return Basis(SETTING, n, needed=model.warmup)
    if weight > 0:
        return Basis(PRIOR, days if days is not None else n, needed=st.own_routine_days)
    held = model.values[:n]
    if value is None or not (abs(held - value) < 1e-6).any():
        # the own usual is always one of the values the model holds: a value that is not was set, not learned
        return Basis(SETTING, n, needed=model.warmup)
    within = int((held <= value + 1e-6).sum())
    return Basis(OWN, n, within=within)


def wake_basis(eng: RoutineEngine, p: PersonState, weekend: bool, value: float | None) -> tuple[Basis, str]:
    """The basis of today's 'usually up by' (weekdays and weekends apart once that kind has its own days,
    else all days), and what those days are called."""
    m = p.wake_by_type[weekend]
    if m.ready:
        return marker_basis(eng, m, "wake", value, p.wake_model.n), ("weekend days" if weekend else "weekdays")
    return marker_basis(eng, p.wake_model, "wake", value), "days"


def usual_wake(eng: RoutineEngine, p: PersonState, weekend: bool) -> float | None:
    """The ONE usual getting-up time (minutes since the person-day start) the alerts and the family's
    digest both cite: the latest usual wake of this kind of day, once it is the person's own; else None."""
    value = p.thr.wake_q_by_type[weekend]
    return value if wake_basis(eng, p, weekend, value)[0].own else None


def usual_bed(eng: RoutineEngine, p: PersonState) -> float | None:
    """The usual bed time (the median, minutes since the day start) alerts and digest cite, once own."""
    value = p.thr.bed_med
    return value if marker_basis(eng, p.bed_model, "bed", value).own else None


def starting_words(eng: RoutineEngine, b: Basis, poss: str, setting: str = "", unit: str = "days") -> str:
    """The starting limit set at install, in words, and how far the person's own is learned.

    ``setting``: the technician's starting setting in words (e.g. "08:30 plus 30 min"); ``unit``: what
    the model counts (days, or night-time trips)."""
    if b.source == PRIOR:
        own = f", with {b.days} day{'s' if b.days != 1 else ''} of {poss} own" if b.days else ""
        return (f"the starting limit set at install, from other people's routines{own}, "
                f"until {poss} own routine is learned: {b.days} of {b.needed} days")
    what = f" of {setting}" if setting else ""
    if b.days >= b.needed:  # enough own values, but the limit in use is still the setting (none was learned)
        return f"the starting setting{what} set at install"
    return (f"the starting setting{what} set at install, until {poss} own routine is learned: "
            f"{b.days} of {b.needed} {unit}")
