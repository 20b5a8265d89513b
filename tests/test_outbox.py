"""The SQLite outbox on real files: idempotency, claim-before-send, backoff, expiry, restart recovery."""

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.notifiers.base import DeliveryResult, OutgoingMessage
from alerts.outbox import BACKOFF_MAX_S, Outbox, backoff_s

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def msg(mid: str = "m1", category: str = "urgent", **kw) -> OutgoingMessage:
    return OutgoingMessage(mid, "sam", "webhook", category, "Ann: not up", "No movement since 22:40.", "urgent",
                           alert_key="p1:not_up", **kw)


def test_enqueue_is_idempotent_and_durable(tmp_path: Path) -> None:
    db = tmp_path / "hearth.sqlite3"
    box = Outbox(db)
    png = ("day.png", b"\x89PNG\r\n\x1a\nfake-but-bytes", "image/png")
    assert box.enqueue(msg(attachments=(png,), tags=("warning",)), person="p1", now=T0) is True
    assert box.enqueue(msg(category="concern"), person="p1", now=T0) is False
    box.close()
    again = Outbox(db)
    (row,) = again.all()
    assert row.message == msg(attachments=(png,), tags=("warning",))
    assert (row.person, row.state, row.attempts, row.deliver_at) == ("p1", "pending", 0, T0)
    assert row.expires_at == T0 + timedelta(hours=6)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {
        "outbox_messages", "outbox_attempts", "outbox_withheld", "outbox_attachments"}


def test_due_respects_deliver_at_and_a_claimed_row_is_not_due(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "h.db")
    box.enqueue(msg("now"), person="p1", now=T0)
    box.enqueue(msg("later", category="digest"), person="p1", now=T0, deliver_at=T0 + timedelta(hours=8))
    assert [r.message.message_id for r in box.due(T0)] == ["now"]
    assert box.mark_sending("now", T0) is True
    assert box.mark_sending("now", T0) is False  # claimed once
    assert box.due(T0) == []
    assert box.mark_sending("later", T0) is False  # not due yet
    assert [r.message.message_id for r in box.due(T0 + timedelta(hours=8))] == ["later"]


def test_retry_with_exponential_backoff_then_sent_never_again(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "h.db")
    box.enqueue(msg(), person="p1", now=T0)
    t = T0
    for attempt in range(1, 5):
        assert box.mark_sending("m1", t)
        assert box.mark_result("m1", DeliveryResult.failed("HTTP 503", retryable=True), t) == "pending"
        row = box.get("m1")
        assert row.next_attempt_at == t + timedelta(seconds=backoff_s(attempt))
        assert box.due(t + timedelta(seconds=backoff_s(attempt) - 1)) == []
        t = row.next_attempt_at
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40] and backoff_s(50) == BACKOFF_MAX_S
    assert box.mark_sending("m1", t)
    assert box.mark_result("m1", DeliveryResult.delivered("HTTP 200", "r-1"), t) == "sent"
    row = box.get("m1")
    assert (row.state, row.attempts, row.sent_at, row.last_error) == ("sent", 5, t, None)
    assert box.due(t + timedelta(days=1)) == [] and box.mark_sending("m1", t + timedelta(days=1)) is False
    assert box.counts() == {"sent": 1}


def test_not_retryable_fails_and_too_late_expires(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "h.db")
    box.enqueue(msg("bad"), person="p1", now=T0)
    box.mark_sending("bad", T0)
    assert box.mark_result("bad", DeliveryResult.failed("HTTP 404", retryable=False), T0) == "failed"
    box.enqueue(msg("late"), person="p1", now=T0, expires_at=T0 + timedelta(seconds=30))
    box.mark_sending("late", T0)
    box.mark_result("late", DeliveryResult.failed("HTTP 503", retryable=True), T0)
    box.mark_sending("late", T0 + timedelta(seconds=5))
    assert box.mark_result("late", DeliveryResult.failed("HTTP 503", retryable=True), T0 + timedelta(seconds=5)) == "pending"
    box.mark_sending("late", T0 + timedelta(seconds=15))
    assert box.mark_result("late", DeliveryResult.failed("HTTP 503", retryable=True), T0 + timedelta(seconds=15)) == "expired"
    box.enqueue(msg("stale"), person="p1", now=T0, expires_at=T0 + timedelta(minutes=1))
    assert box.expire_due(T0 + timedelta(minutes=1)) == 1
    assert box.counts() == {"failed": 1, "expired": 2}


def test_a_row_interrupted_mid_send_is_pending_again_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    box = Outbox(db)
    box.enqueue(msg(), person="p1", now=T0)
    assert box.mark_sending("m1", T0)
    del box  # the process dies here: no close, no mark
    again = Outbox(db)
    row = again.get("m1")
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "interrupted (restart)")
    assert [r.message.message_id for r in again.due(T0)] == ["m1"]


def test_withheld_rows_reschedule_and_cancel(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "h.db")
    box.enqueue(msg("a", category="concern"), person="p1", now=T0)
    box.enqueue(msg("b", category="concern"), person="p1", now=T0)
    box.enqueue(msg("c", category="concern", replaces="a"), person="p1", now=T0)
    box.record_withheld(person="p1", recipient="sam", category="concern", alert_key="p1:not_up",
                        reason="paused", now=T0, message_id="a")
    box.record_withheld(person="p1", recipient="jo", category="urgent", alert_key="p1:not_up",
                        reason="no_consent", now=T0 + timedelta(minutes=1))
    assert box.get("a").state == "withheld"
    assert [(w["recipient"], w["reason"], w["at"]) for w in box.withheld()] == [
        ("sam", "paused", T0), ("jo", "no_consent", T0 + timedelta(minutes=1))]
    assert [w["recipient"] for w in box.withheld(reason="paused", person="p1", start=T0, end=T0 + timedelta(seconds=1))] == ["sam"]
    box.reschedule("b", T0 + timedelta(hours=2))
    assert box.due(T0 + timedelta(hours=1, minutes=59)) == [box.get("c")]
    assert box.get("b").expires_at >= T0 + timedelta(hours=14)
    assert box.cancel_for_alert("p1:not_up", "resolved by sam") == 1  # b; the update c still goes
    assert (box.get("b").state, box.get("c").state) == ("cancelled", "pending")


def test_naive_times_are_refused(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "h.db")
    with pytest.raises(ValueError, match="timezone-aware"):
        box.enqueue(msg(), person="p1", now=datetime(2026, 1, 5, 9, 30))
