"""ntfy notifier against a real (loopback) ntfy-API server: publish, replace, acknowledge, failures."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from alerts.ack import AckSigner, AckVerifier, SeenNonces
from alerts.channels import NtfyChannel
from alerts.config import RecipientConfig
from alerts.notifiers.base import OutgoingMessage
from alerts.notifiers.ntfy import NtfyAckListener, NtfyNotifier, sequence_id_for
from tests.conftest import PATIENCE_S, free_port
from tests.ntfy_server import NtfyServer, press_action

SECRET = b"test-home-secret-0123456789abcdef"


def recipient(server: NtfyServer, rid: str = "sam", **ntfy: object) -> RecipientConfig:
    ch = NtfyChannel(server=server.url, topic=f"hearth-{rid}-4f9c", allow_http=True, **ntfy)
    return RecipientConfig(id=rid, name=rid.title(), group="team", ntfy=ch)


def alert_msg(rid: str = "sam", **kw: object) -> OutgoingMessage:
    base = dict(message_id=f"a1/{rid}/ntfy", recipient=rid, channel="ntfy", category="urgent",
                title="Ann is not up", body="Usually up by 08:10.\nNo movement since 22:40.", priority="urgent",
                alert_key="p1:not_up:2026-01-05", tags=("rotating_light",))
    base.update(kw)
    return OutgoingMessage(**base)  # type: ignore[arg-type]


@pytest.fixture
async def server():
    async with NtfyServer(keepalive_s=0.5) as s:
        yield s


async def test_publish_carries_title_body_priority_tags_and_remote_id(server: NtfyServer) -> None:
    notifier = NtfyNotifier()
    result = await notifier.send(alert_msg(), recipient(server))
    await notifier.close()
    [stored] = server.topic_messages("hearth-sam-4f9c")
    assert result.ok and result.remote_id == stored["id"]
    assert (stored["title"], stored["message"], stored["priority"], stored["tags"]) == (
        "Ann is not up", "Usually up by 08:10.\nNo movement since 22:40.", 5, ["rotating_light"])
    assert stored["sequence_id"] == sequence_id_for("a1/sam/ntfy")


async def test_retry_after_crash_replaces_rather_than_repeats(server: NtfyServer) -> None:
    notifier = NtfyNotifier()
    for _ in range(2):  # the outbox sends again because it never saw the first answer
        assert (await notifier.send(alert_msg(), recipient(server))).ok
    await notifier.close()
    assert len(server.topic_messages("hearth-sam-4f9c")) == 2
    assert len(server.displayed("hearth-sam-4f9c")) == 1


async def test_handled_update_replaces_the_alert_on_every_phone(server: NtfyServer) -> None:
    notifier = NtfyNotifier(signer=AckSigner(SECRET))
    people = [recipient(server, "sam"), recipient(server, "jo")]
    for r in people:
        assert (await notifier.send(alert_msg(r.id), r)).ok
    for r in people:
        update = alert_msg(r.id, message_id=f"a1/{r.id}/ntfy/handled", replaces=f"a1/{r.id}/ntfy",
                           title="Handled by Sam 07:42", body="Sam has it in hand.", priority="low",
                           tags=("white_check_mark",))
        assert (await notifier.send(update, r)).ok
    await notifier.close()
    for r in people:
        [shown] = server.displayed(r.ntfy.topic)
        assert shown["title"] == "Handled by Sam 07:42"
        assert "actions" not in shown  # nothing left to acknowledge


async def test_acknowledge_button_works_once_from_the_phone(server: NtfyServer) -> None:
    signer = AckSigner(SECRET)
    verifier = AckVerifier(signer, SeenNonces())
    sam = recipient(server)
    notifier = NtfyNotifier(signer=signer)
    assert (await notifier.send(alert_msg(), sam)).ok
    await notifier.close()
    [shown] = server.displayed(sam.ntfy.topic)
    [action] = shown["actions"]
    assert action["url"] == f"{server.url}/hearth-sam-4f9c-ack" and action["method"] == "POST"

    listener = NtfyAckListener(server.url, [sam.ntfy.ack_topic], verifier, reconnect_s=0.05)
    got: list = []

    async def listen() -> None:
        async for ack in listener.acks():
            got.append(ack)

    task = asyncio.create_task(listen())
    await asyncio.wait_for(listener.connected.wait(), 60)
    assert await press_action(shown, "Acknowledge") == 200  # the phone, no sign-in
    assert await press_action(shown, "Acknowledge") == 200  # pressed twice / replayed by someone
    forged = dict(shown, actions=[dict(action, body=action["body"][:-4] + "AAAA")])
    assert await press_action(forged, "Acknowledge") == 200
    for _ in range(int(PATIENCE_S / 0.01)):
        if sum(verifier.refused.values()) == 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert [(a.alert_key, a.recipient) for a in got] == [("p1:not_up:2026-01-05", "sam")]
    assert verifier.refused == {"replayed": 1, "bad_signature": 1}


async def test_listener_catches_up_after_a_dropped_stream(server: NtfyServer) -> None:
    signer = AckSigner(SECRET)
    verifier = AckVerifier(signer, SeenNonces())
    listener = NtfyAckListener(server.url, ["hearth-sam-4f9c-ack"], verifier, reconnect_s=0.05)
    got: list = []

    async def listen() -> None:
        async for ack in listener.acks():
            got.append(ack)

    task = asyncio.create_task(listen())
    await asyncio.wait_for(listener.connected.wait(), 60)
    server._store("hearth-sam-4f9c-ack", "message", message=signer.issue("k1", "sam", now=0, ttl_s=1e10))
    for _ in range(int(PATIENCE_S / 0.01)):
        if got:
            break
        await asyncio.sleep(0.01)
    for _, q in server._subscribers:  # the server drops the stream
        q.put_nowait(None)
    server._store("hearth-sam-4f9c-ack", "message", message=signer.issue("k2", "sam", now=0, ttl_s=1e10))
    for _ in range(int(PATIENCE_S / 0.01)):
        if len(got) == 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert [a.alert_key for a in got] == ["k1", "k2"]


async def test_access_token_from_file_is_sent_and_a_wrong_one_is_not_retried(server: NtfyServer,
                                                                             tmp_path: Path) -> None:
    server.tokens.add("tk_right")
    (tmp_path / "tok").write_text("tk_right\n")
    (tmp_path / "bad").write_text("tk_wrong\n")
    notifier = NtfyNotifier()
    ok = await notifier.send(alert_msg(), recipient(server, token_file=tmp_path / "tok"))
    bad = await notifier.send(alert_msg(), recipient(server, token_file=tmp_path / "bad"))
    missing = await notifier.send(alert_msg(), recipient(server, token_file=tmp_path / "nope"))
    await notifier.close()
    assert ok.ok
    assert (bad.ok, bad.retryable) == (False, False) and "403" in bad.detail and "tk_wrong" not in bad.detail
    assert (missing.ok, missing.retryable) == (False, False) and "cannot read ntfy token file" in missing.detail


async def test_server_error_is_retryable_and_then_delivered(server: NtfyServer) -> None:
    server.fail_next(500)
    notifier = NtfyNotifier()
    first = await notifier.send(alert_msg(), recipient(server))
    second = await notifier.send(alert_msg(), recipient(server))
    await notifier.close()
    assert (first.ok, first.retryable) == (False, True) and "HTTP 500" in first.detail
    assert second.ok and len(server.displayed("hearth-sam-4f9c")) == 1


async def test_slow_server_times_out_retryably(server: NtfyServer) -> None:
    server.delay_s = 2.0
    notifier = NtfyNotifier(timeout_s=0.3)
    result = await notifier.send(alert_msg(), recipient(server))
    await notifier.close()
    assert (result.ok, result.retryable) == (False, True) and "no answer within 0.3 s" in result.detail


async def test_unreachable_server_is_retryable(caplog) -> None:
    ch = NtfyChannel(server=f"http://127.0.0.1:{free_port()}", topic="hearth-sam", allow_http=True)
    notifier = NtfyNotifier(timeout_s=PATIENCE_S)  # refused at once: the bound only matters if it hangs
    result = await notifier.send(alert_msg(), RecipientConfig(id="sam", name="Sam", group="team", ntfy=ch))
    await notifier.close()
    assert (result.ok, result.retryable) == (False, True) and "cannot connect" in result.detail


async def test_digest_png_is_uploaded_as_an_attachment(server: NtfyServer) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    msg = alert_msg(category="digest", priority="low", title="Ann’s day — Monday",
                    body="Up at 07:40 as usual.\nCafé at 11:00.",
                    alert_key=None, attachments=(("ann-2026-01-05.png", png, "image/png"),))
    notifier = NtfyNotifier(signer=AckSigner(SECRET))
    result = await notifier.send(msg, recipient(server))
    await notifier.close()
    [shown] = server.displayed("hearth-sam-4f9c")
    assert result.ok and server.attachments["ann-2026-01-05.png"] == png
    assert (shown["message"], shown["title"], shown["priority"]) == (
        "Up at 07:40 as usual.\nCafé at 11:00.", "Ann’s day — Monday", 2)
    assert "actions" not in shown  # a digest is not acknowledged


def test_http_server_refused_unless_allowed() -> None:
    with pytest.raises(ValueError, match="https"):
        NtfyChannel(server="http://ntfy.example.org", topic="t")
    with pytest.raises(ValueError):
        NtfyChannel(server="https://ntfy.example.org", topic="bad topic!")


@pytest.fixture(autouse=True)
def _quiet_logs(caplog) -> None:
    caplog.set_level(logging.INFO)
