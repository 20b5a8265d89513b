"""Alert policy on a simulated clock: dedupe, escalation, acknowledge/resolve, outcome feedback."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.config import EscalationConfig
from alerts.policy import AlertPolicy
from routines.alert import Alert, Audience, Severity

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


class SimClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return 1000.0 + self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def alert(sev: Severity = Severity.URGENT, key: str = "p1:not_up:2026-01-05", msg: str = "Not up.",
          aud: Audience = Audience.CARE) -> Alert:
    return Alert(T0, "p1", "not_up", sev, aud, msg, key=key)


def make(chain: list[str] | None = None, **kw) -> tuple[AlertPolicy, SimClock, list]:
    clock, outcomes = SimClock(), []
    policy = AlertPolicy(EscalationConfig(urgent=chain or ["sam", "jo", "kim"]), ["kim", "sam", "jo", "lee"],
                         clock, on_outcome=lambda k, o: outcomes.append((k, o)), **kw)
    return policy, clock, outcomes


def test_same_situation_is_one_alert_updated_not_ten() -> None:
    policy, _clock, _ = make()
    results = [policy.submit(alert(msg=f"Not up, check {i}.")) for i in range(10)]
    assert [r.action for r in results] == ["opened"] + ["updated"] * 9
    assert [r.notify is not None for r in results] == [True] + [False] * 9
    (state,) = policy.open_alerts()
    assert state.updates == 9 and state.alert.message == "Not up, check 9."
    assert policy.submit(alert(key="p1:not_up:2026-01-06")).action == "opened"


def test_escalation_follows_the_chain_on_the_timer() -> None:
    policy, clock, _ = make()
    first = policy.submit(alert()).notify
    assert (first.step, first.targets) == (0, ("sam", "lee"))  # chain head + everyone not in the chain
    clock.advance(599)
    assert policy.due() == []
    clock.advance(1)
    (second,) = policy.due()
    assert (second.step, second.targets, second.kind) == (1, ("jo",), "escalate")
    assert policy.due() == []
    clock.advance(600)
    assert [n.targets for n in policy.due()] == [("kim",)]
    clock.advance(3600)
    assert policy.due() == []  # the chain is exhausted
    assert policy.next_due_mono() is None


def test_acknowledge_stops_escalation_and_records_who_and_when() -> None:
    policy, clock, _ = make()
    policy.submit(alert())
    clock.advance(300)
    state = policy.acknowledge("p1:not_up:2026-01-05", "sam", clock.now())
    assert (state.acknowledged_by, state.acknowledged_at) == ("sam", T0 + timedelta(minutes=5))
    policy.acknowledge("p1:not_up:2026-01-05", "jo", clock.now() + timedelta(minutes=1))
    assert state.acknowledged_by == "sam"  # the first one stands
    clock.advance(3600)
    assert policy.due() == []
    assert policy.acknowledge("nope", "sam", clock.now()) is None


def test_resolve_with_outcome_feeds_back() -> None:
    policy, clock, outcomes = make()
    policy.submit(alert())
    clock.advance(120)
    state = policy.resolve("p1:not_up:2026-01-05", "jo", clock.now(), outcome="false_alarm")
    assert (state.resolved_by, state.resolved_at, state.outcome) == ("jo", T0 + timedelta(minutes=2), "false_alarm")
    assert outcomes == [("p1:not_up:2026-01-05", "false_alarm")]
    clock.advance(3600)
    assert policy.due() == [] and policy.open_alerts() == []
    with pytest.raises(ValueError, match="outcome must be one of real, false_alarm"):
        policy.record_outcome("p1:not_up:2026-01-05", "maybe")
    policy.record_outcome("p1:not_up:2026-01-05", "real")  # a later, better judgement
    assert outcomes[-1] == ("p1:not_up:2026-01-05", "real") and state.outcome == "real"


def test_a_resolved_situation_coming_back_soon_is_ignored_later_reopens() -> None:
    policy, clock, _ = make(reopen_after_s=3600)
    policy.submit(alert())
    policy.resolve("p1:not_up:2026-01-05", "sam", clock.now())
    clock.advance(1800)
    assert policy.submit(alert()).action == "already_resolved"
    clock.advance(1800)
    assert policy.due() == []  # also forgets the closed one
    again = policy.submit(alert())
    assert again.action == "opened" and again.notify.targets == ("sam", "lee")


def test_concern_rising_to_urgent_tells_again_lowering_does_not() -> None:
    policy, _clock, _ = make()
    opened = policy.submit(alert(Severity.WARNING))
    assert opened.notify.category == "concern" and opened.notify.targets == ("kim", "sam", "jo", "lee")
    raised = policy.submit(alert(Severity.URGENT))
    assert raised.action == "raised" and raised.notify.category == "urgent" and raised.notify.targets == ("sam", "lee")
    assert policy.submit(alert(Severity.WARNING)).action == "updated"
    assert policy.open_alerts()[0].category == "urgent"


def test_info_care_alerts_are_not_pushed_technical_are() -> None:
    policy, _clock, _ = make()
    assert policy.submit(alert(Severity.INFO)).action == "not_pushed"
    tech = policy.submit(alert(Severity.INFO, key="p1:battery:bed", aud=Audience.TECHNICAL))
    assert tech.notify.category == "technical"


def test_chain_targets_list_every_step() -> None:
    policy, _clock, _ = make(["sam", "jo"])
    assert policy.chain_targets("urgent") == [("sam", "kim", "lee"), ("jo",)]
    assert policy.chain_targets("concern") == [("kim", "sam", "jo", "lee")]
