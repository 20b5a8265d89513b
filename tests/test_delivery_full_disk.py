"""A full disk loses no alert: what cannot be stored is held in memory (bounded, counted), the policy does not
take it for sent, and it is stored and sent once space returns. The full disk is SQLite's own: a page limit
on the outbox's connection (as tests/test_service_full_disk.py does for the event store), filled up."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.hold import HeldAlerts
from alerts.notifiers.base import OutgoingMessage
from gateway.alerting import Alerting
from gateway.config import parse_config_text
from routines.alert import Alert, Audience, Severity
from tests.test_delivery import CONFIG, T0, SimClock, make, urgent


def fill_the_disk(delivery) -> None:
    """Cap the outbox's file at its current size and fill what room is left, as a full card would."""
    con = delivery.outbox._con
    (pages,) = con.execute("PRAGMA page_count").fetchone()
    con.execute(f"PRAGMA max_page_count = {pages}")
    for i in range(100_000):
        try:
            delivery.outbox.enqueue(OutgoingMessage(f"filler-{i}", "nobody", "email", "technical", "f", "f", "low"),
                                    person=None, now=T0, deliver_at=T0 + timedelta(days=365))
        except sqlite3.OperationalError as exc:
            assert "full" in str(exc)
            return
    raise AssertionError("the disk never filled")


def free_the_disk(delivery) -> None:
    delivery.outbox._con.execute("PRAGMA max_page_count = 1073741823")


async def test_an_alert_raised_on_a_full_disk_is_held_then_sent_once_space_returns(tmp_path: Path) -> None:
    delivery, _clock, inbox = make(tmp_path)
    fill_the_disk(delivery)
    result = delivery.submit(urgent())
    assert result.action == "held"
    assert delivery.hold.count == 1
    assert delivery.policy.alerts == {}  # not marked opened: nothing was queued
    assert delivery.outbox.for_alert("p1:not_up") == []
    assert delivery.submit(urgent(msg="Still not up.")).action == "held"  # the same situation: one entry
    assert delivery.hold.count == 1
    await delivery.tick()  # still full: nothing sent, nothing lost, no crash
    assert inbox.got == [] and delivery.hold.count == 1

    free_the_disk(delivery)
    await delivery.tick()
    assert delivery.hold.count == 0
    assert inbox.take() == [("sam", "Still not up.")]  # the newest words; the chain's head first
    assert delivery.policy.alerts["p1:not_up"].is_open
    assert {r.state for r in delivery.outbox.for_alert("p1:not_up")} == {"sent"}
    delivery.close()


async def test_an_escalation_due_on_a_full_disk_is_held_and_goes_out_later(tmp_path: Path) -> None:
    delivery, clock, inbox = make(tmp_path)
    delivery.submit(urgent())
    await delivery.tick()
    assert [r for r, _ in inbox.take()] == ["sam"]
    fill_the_disk(delivery)
    clock.t = T0.replace(minute=45)  # past the ten minutes: Jo is next
    await delivery.tick()
    assert inbox.got == [] and delivery.hold.count == 1
    free_the_disk(delivery)
    await delivery.tick()
    assert [r for r, _ in inbox.take()] == ["jo"]
    assert delivery.hold.count == 0
    delivery.close()


def test_the_hold_is_bounded_drops_technical_first_and_counts_every_drop(caplog) -> None:
    hold = HeldAlerts(limit=3)
    t = datetime(2026, 1, 5, tzinfo=UTC)
    for i, category in enumerate(["urgent", "technical", "concern", "technical", "urgent", "urgent"]):
        hold.keep(("alert", f"k{i}"), category, Alert(t, "p1", "x", Severity.URGENT, Audience.CARE, "", key=f"k{i}"))
    # k1 and k3 (technical) went first, then k2 (the only concern); the three urgent ones are all kept
    assert [k for k, _ in hold.items()] == [("alert", "k0"), ("alert", "k4"), ("alert", "k5")]
    assert hold.dropped == {"technical": 2, "concern": 1}
    hold.keep(("alert", "k6"), "urgent", None)  # only urgent left: the oldest goes, loudly
    assert hold.dropped["urgent"] == 1
    assert next(k for k, _ in hold.items()) == ("alert", "k4")
    assert any(r.levelname == "CRITICAL" and "k0" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("changes", [0, 1])
def test_an_unchanged_policy_is_not_rewritten(tmp_path: Path, changes: int) -> None:
    cfg = parse_config_text(CONFIG, "home.yaml")
    clock = SimClock()
    alerting = Alerting(cfg, tmp_path / "hearth.sqlite3", clock)
    try:
        alerting.delivery.submit(urgent())
        assert alerting.save_policy() is True
        saved = alerting._state_db.execute("SELECT saved_at, blob FROM policy_state").fetchone()
        for _ in range(5):  # the 15 s keeper, a minute on: nothing changed, nothing written
            clock.t = clock.t.replace(second=clock.t.second + 10)
            assert alerting.save_policy() is False
        assert alerting._state_db.execute("SELECT saved_at, blob FROM policy_state").fetchone() == saved
        assert alerting.policy_writes == 1
        if changes:
            alerting.delivery.acknowledge("p1:not_up", by="sam", at=clock.now())
            assert alerting.save_policy() is True
            assert alerting.policy_writes == 2
            assert alerting._state_db.execute("SELECT saved_at FROM policy_state").fetchone()[0] != saved[0]
        assert alerting.held_alerts == 0
    finally:
        alerting._state_db.close()
        alerting.delivery.close()
        alerting.seen.close()


def test_a_restored_policy_is_not_written_back_until_it_changes(tmp_path: Path) -> None:
    cfg = parse_config_text(CONFIG, "home.yaml")
    first = Alerting(cfg, tmp_path / "hearth.sqlite3", SimClock())
    first.delivery.submit(urgent())
    first.save_policy()
    for part in (first._state_db, first.delivery, first.seen):
        part.close()
    again = Alerting(cfg, tmp_path / "hearth.sqlite3", SimClock())
    try:
        assert list(again.delivery.policy.alerts) == ["p1:not_up"]
        assert again.save_policy() is False and again.policy_writes == 0
    finally:
        for part in (again._state_db, again.delivery, again.seen):
            part.close()
