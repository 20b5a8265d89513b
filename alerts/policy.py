"""Alert policy: one ongoing situation is one alert; who is told, in which order, and when it is over.

- **Dedupe**: alerts with the same ``Alert.key`` while it is open are one alert, updated in place (its
  message, evidence and count), not ten pushes. Only a *rise* in category (a concern that became urgent)
  tells people again.
- **Escalation**: step 0 goes to the first recipient of the category's chain plus every recipient not in
  the chain; each later step goes to the next one in the chain, ``after_minutes`` after the previous
  step if nobody acknowledged. Timers run on the injected clock's monotonic time.
- **Acknowledge** ("I have it in hand") stops the escalation; **resolve** closes the alert. Both record
  who and when. A resolved key that comes back within ``reopen_after`` is the same, finished situation
  and is ignored.
- **Outcome** (``real`` / ``false_alarm``) is recorded and handed to ``on_outcome(alert_key, outcome)``,
  which the gateway wires to ``RoutineEngine.record_outcome`` so the same false alarm grows less likely.

The policy is pure bookkeeping: it decides *whom* to address; the consent gate and the outbox (see
:mod:`alerts.delivery`) decide whether and when anything is actually sent.

>>> from datetime import datetime, timezone
>>> from alerts.config import EscalationConfig
>>> from routines.alert import Alert, Audience, Severity
>>> class Clock:
...     t = 0.0
...     def now(self): return datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
...     def monotonic(self): return self.t
>>> clock = Clock()
>>> policy = AlertPolicy(EscalationConfig(urgent=["sam", "jo"]), ["sam", "jo", "kim"], clock)
>>> a = Alert(clock.now(), "p1", "not_up", Severity.URGENT, Audience.CARE, "Not up.", key="p1:not_up")
>>> policy.submit(a).notify.targets
('sam', 'kim')
>>> policy.submit(a).action
'updated'
>>> clock.t = 600.0
>>> [n.targets for n in policy.due()]
[('jo',)]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol

from alerts.config import EscalationConfig
from alerts.consent import category_of
from routines.alert import Alert

log = logging.getLogger("hearth.alerts")

Outcome = Literal["real", "false_alarm"]
OUTCOMES = ("real", "false_alarm")
_RANK = {"technical": 0, "concern": 1, "urgent": 2}


class PolicyClock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Notify:
    """Address this alert to ``targets`` (recipient ids) as escalation ``step``; ``kind`` says why."""

    key: str
    alert: Alert
    category: str
    step: int
    targets: tuple[str, ...]
    kind: Literal["open", "escalate", "raise"]
    first_time: datetime  # the time of the alert that opened it: part of every message id


@dataclass(slots=True)
class AlertState:
    key: str
    alert: Alert
    category: str
    first_time: datetime
    opened_at: datetime
    step: int = 0
    next_step_mono: float | None = None
    updates: int = 0
    notified: list[str] = field(default_factory=list)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolved_mono: float | None = None
    outcome: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class Submitted:
    action: Literal["opened", "updated", "raised", "not_pushed", "already_resolved", "held"]
    state: AlertState | None
    notify: Notify | None = None


def alert_key(alert: Alert) -> str:
    """The situation an alert is about: its own key, else person, kind and local-free date."""
    return alert.key or f"{alert.person}:{alert.kind}:{alert.time.date().isoformat()}"


class AlertPolicy:
    def __init__(self, escalation: EscalationConfig, recipients: Sequence[str], clock: PolicyClock,
                 on_outcome: Callable[[str, str], None] | None = None, reopen_after_s: float = 6 * 3600):
        self.escalation = escalation
        self.recipients = tuple(recipients)
        self.clock = clock
        self.on_outcome = on_outcome
        self.reopen_after_s = reopen_after_s
        self.alerts: dict[str, AlertState] = {}

    # ---- intake ----------------------------------------------------------------------------------

    def submit(self, alert: Alert) -> Submitted:
        category = category_of(alert)
        if category is None:
            return Submitted("not_pushed", None)
        key = alert_key(alert)
        now_m = self.clock.monotonic()
        state = self.alerts.get(key)
        if state is not None and not state.is_open:
            if now_m - (state.resolved_mono or now_m) < self.reopen_after_s:
                return Submitted("already_resolved", state)
            state = None
        if state is None:
            state = AlertState(key, alert, category, first_time=alert.time, opened_at=self.clock.now())
            self.alerts[key] = state
            log.info("alert opened: %s (%s)", key, category)
            return Submitted("opened", state, self._step(state, 0, "open"))
        state.alert = alert
        state.updates += 1
        if _RANK.get(category, 0) > _RANK.get(state.category, 0) and state.acknowledged_at is None:
            state.category = category
            log.warning("alert %s rose to %s", key, category)
            return Submitted("raised", state, self._step(state, 0, "raise"))
        return Submitted("updated", state)

    def snapshot(self, key: str) -> AlertState | None:
        """A copy of ``key``'s state, to :meth:`restore` if what a submit decided cannot be stored."""
        state = self.alerts.get(key)
        return None if state is None else replace(state, notified=list(state.notified))

    def restore(self, key: str, before: AlertState | None) -> None:
        """Undo a submit: the alert is as it was (absent if it was), so submitting it again opens it
        (or raises it) again rather than being taken for an update of something already sent."""
        if before is None:
            self.alerts.pop(key, None)
        else:
            self.alerts[key] = before

    def _step(self, state: AlertState, step: int, kind: Literal["open", "escalate", "raise"]) -> Notify:
        chain = self.escalation.chain(state.category)
        targets = step_targets(chain, self.recipients, step)
        state.step = step
        state.next_step_mono = (self.clock.monotonic() + self.escalation.after_minutes * 60
                                if step + 1 < len(chain) else None)
        state.notified.extend(t for t in targets if t not in state.notified)
        return Notify(state.key, state.alert, state.category, step, targets, kind, state.first_time)

    # ---- timers ----------------------------------------------------------------------------------

    def due(self) -> list[Notify]:
        """Escalation steps whose time has come (nobody acknowledged in time)."""
        now_m = self.clock.monotonic()
        out = []
        for state in list(self.alerts.values()):
            if (state.is_open and state.acknowledged_at is None and state.next_step_mono is not None
                    and state.next_step_mono <= now_m):
                log.warning("alert %s not acknowledged: escalating to step %d", state.key, state.step + 1)
                out.append(self._step(state, state.step + 1, "escalate"))
        self._forget_old(now_m)
        return out

    def skip_wait(self, key: str) -> None:
        """Nobody could be told at the current step (no consent, paused): escalate at once."""
        state = self.alerts.get(key)
        if state is not None and state.next_step_mono is not None:
            state.next_step_mono = self.clock.monotonic()

    def next_due_mono(self) -> float | None:
        times = [s.next_step_mono for s in self.alerts.values()
                 if s.is_open and s.acknowledged_at is None and s.next_step_mono is not None]
        return min(times, default=None)

    def _forget_old(self, now_m: float) -> None:
        for key in [k for k, s in self.alerts.items()
                    if not s.is_open and now_m - (s.resolved_mono or now_m) >= self.reopen_after_s]:
            del self.alerts[key]

    # ---- people acting on it ---------------------------------------------------------------------

    def acknowledge(self, key: str, by: str, at: datetime) -> AlertState | None:
        """``by`` has it in hand: stop escalating. Returns the state, or None for an unknown key."""
        state = self.alerts.get(key)
        if state is None or not state.is_open:
            return None
        if state.acknowledged_at is None:
            state.acknowledged_by, state.acknowledged_at = by, at
            state.next_step_mono = None
            log.info("alert %s acknowledged by %s at %s", key, by, at.isoformat())
        return state

    def resolve(self, key: str, by: str, at: datetime, outcome: str | None = None) -> AlertState | None:
        """Close the alert; optionally record its outcome at the same time."""
        state = self.alerts.get(key)
        if state is None:
            return None
        if state.is_open:
            state.resolved_by, state.resolved_at = by, at
            state.resolved_mono = self.clock.monotonic()
            state.next_step_mono = None
            log.info("alert %s resolved by %s at %s", key, by, at.isoformat())
        if outcome is not None:
            self.record_outcome(key, outcome)
        return state

    def record_outcome(self, key: str, outcome: str) -> None:
        """``real`` or ``false_alarm``: kept on the alert and fed back to the routine core."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        state = self.alerts.get(key)
        if state is not None:
            state.outcome = outcome
        log.info("alert %s outcome: %s", key, outcome)
        if self.on_outcome is not None:
            self.on_outcome(key, outcome)

    def open_alerts(self) -> list[AlertState]:
        return [s for s in self.alerts.values() if s.is_open]

    def chain_targets(self, category: str) -> list[tuple[str, ...]]:
        """Every escalation step's targets for an alert of ``category`` (for ``recipients_for``)."""
        chain = self.escalation.chain(category)
        return [step_targets(chain, self.recipients, i) for i in range(max(1, len(chain)))]


def step_targets(chain: Sequence[str], recipients: Sequence[str], step: int) -> tuple[str, ...]:
    """Step 0: the chain's head and everyone not in the chain; step k: the chain's k-th recipient.

    >>> step_targets(("sam", "jo"), ("jo", "kim", "sam"), 0), step_targets(("sam", "jo"), ("jo", "kim", "sam"), 1)
    (('sam', 'kim'), ('jo',))
    """
    if step > 0:
        return (chain[step],)
    later = set(chain[1:])
    return tuple(dict.fromkeys(r for r in (*chain[:1], *recipients) if r not in later))
