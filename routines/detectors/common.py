"""What every detector module shares: alert kinds and what pauses them, the checks sensors can blind,
clock formatting, the once-per-situation alert builder, and :class:`Tick`, the state of one evaluation.

>>> _parse_hhmm("07:30", 4)
210
>>> _hm(210, 4)
'07:30'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from routines.alert import Alert, Audience, Severity
from routines.explain import Pronouns, hhmm
from routines.kinds import CORE as CORE_KINDS

if TYPE_CHECKING:
    from routines.engine import RoutineEngine
    from routines.limits import Deadlines, Thresholds
    from routines.settings import RoutineSettings
    from routines.state import PersonState, SensorState

# "no need to look again": what a state change returns when it sets no new deadline (the engine looks again
# at the earliest time any detector returns; see RoutineEngine.ingest)
NEVER = float("inf")

URG, WARN, INFO = Severity.URGENT, Severity.WARNING, Severity.INFO
CARE, TECH = Audience.CARE, Audience.TECHNICAL

# kind -> (severity, audience), from the one table of kinds and their words (routines/kinds.py)
KINDS = {kind: (k.severity, k.audience) for kind, k in CORE_KINDS.items()}
# context -> care alert kinds it pauses (learning pauses for any context day)
CONTEXT_PAUSES = {
    "carer_visit": {"not_up", "night_bed_exit", "night_door", "silence", "no_meal", "not_back"},
    "visitor": {"night_door", "silence", "night_bed_exit", "not_back"},
    "holiday": set(KINDS) - {"sensor_offline", "battery_low"},
    "hospital": set(KINDS) - {"sensor_offline", "battery_low"},
    # a span the gateway did not watch (clock jump, power cut): every deadline in it is unknown, not missed
    "clock_unreliable": set(KINDS),
}
# check -> (which sensors it needs, words for a technician)
CHECKS = {
    "not_up": ("bed", "cannot check getting up"),
    "night_bed_exit": ("bed", "cannot check night-time bed exits"),
    "night_door": ("door", "cannot check the front door at night"),
    "no_meal": ("kitchen", "cannot check meals"),
    "silence": ("any", "cannot fully check daytime stillness"),
}


def _hm(minutes: float | None, st_hour: int) -> str:
    return hhmm((minutes or 0.0) + st_hour * 60)


def _clock(eng: RoutineEngine, t: float) -> str:
    d = eng.alert_time(t)
    return f"{d.hour:02d}:{d.minute:02d}"


def _parse_hhmm(s: str, st_hour: int) -> float:
    h, m = s.split(":")
    return (int(h) * 60 + int(m) - st_hour * 60) % 1440


def _alert(eng: RoutineEngine, p: PersonState, t: float, kind: str, key: str, message: str,
           evidence: dict[str, Any]) -> Alert | None:
    """Build an alert once per situation key, unless a context pauses this kind."""
    if key in p.fired:
        return None
    for ctx in eng.active_contexts(p.id, t):
        if kind in CONTEXT_PAUSES[ctx]:
            return None
    sev, aud = KINDS[kind]
    p.fired[key] = t
    p.day_alerts.append(kind)
    p.alert_days[key] = eng._day_date
    return Alert(eng.alert_time(t), p.id, kind, sev, aud, message, key=key, evidence=evidence)


class Tick:
    """One evaluation of one person at time ``t``: what every step of :func:`routines.detectors.tick.evaluate`
    reads (settings, thresholds, names, which checks are blind, today's deadlines) and what it adds to
    (alerts raised, and the times something next falls due; the earliest is the next evaluation)."""

    __slots__ = ("blind", "due", "eng", "ep", "h0", "has_bed", "name", "out", "p", "pr", "quiet", "st", "t", "thr")

    def __init__(self, eng: RoutineEngine, p: PersonState, t: float) -> None:
        self.eng, self.p, self.t = eng, p, t
        self.st: RoutineSettings = eng.settings
        self.thr: Thresholds = p.thr
        self.name: str = eng.names[p.id].name
        self.pr: Pronouns = eng.pronouns[p.id]  # made once per person (RoutineEngine._link), not at every look
        self.h0: int = self.st.day_start_hour
        self.out: list[Alert] = []
        self.due: list[float] = [eng._day_end]
        # set by evaluate, in order, before the steps that read them
        self.blind: dict[str, list[SensorState]] = {}
        self.has_bed = False
        self.ep: Deadlines  # today's deadlines
        self.quiet = 0.0

    def add(self, a: Alert | None) -> None:
        if a is not None:
            self.out.append(a)
