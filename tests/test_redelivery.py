"""A message stored but never acked (the gateway killed between its commit and the PUBACK, or the
connection lost there) comes back from the broker with the DUP flag and the same packet id. It is
recognised by its mark (gateway/redelivery.py) and acked, not stored twice; a new message is never
mistaken for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_gateway_guard import start
from test_service import Publisher, aqara, home_config, plug, stored, wait_for

from gateway.mqtt import MqttLink, MqttMessage
from gateway.redelivery import HandledMessages, digest
from gateway.storage import Store

KETTLE, DOOR = "zigbee2mqtt/kitchen/kettle", "zigbee2mqtt/0x00158d0004a1b2c3"


async def test_stored_messages_sent_again_are_acked_not_stored_twice(mosquitto, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    db, cfg = tmp_path / "h.sqlite3", home_config(mosquitto.port, "gw-redeliver")
    lost: list[int] = []
    ack = MqttLink.ack

    def lose(link: MqttLink, msg: MqttMessage) -> None:
        """The crash's window, held open: each of this test's messages is committed, and its ack never
        reaches the broker (retained copies other tests left on the shared broker are acked as usual)."""
        if msg.topic in (KETTLE, DOOR) and not msg.retain:
            lost.append(msg.mid)
        else:
            ack(link, msg)

    monkeypatch.setattr(MqttLink, "ack", lose)
    gw, stop, task = await start(cfg, db)
    p = Publisher(mosquitto.port, "z2m-redeliver")
    try:
        for topic, payload in [(KETTLE, plug(2000.0)), (DOOR, aqara(False)), (KETTLE, plug(0.0)),
                               (DOOR, aqara(True)), (KETTLE, plug(1900.0))]:
            p.pub(topic, payload)
        await wait_for(lambda: gw.stats.events == 5)
        await gw.flushed()
    finally:
        stop.set()
        await task
    assert len(lost) == 5
    first = stored(db)
    assert len(first) == 5
    monkeypatch.undo()  # acks reach the broker again

    gw2, stop2, task2 = await start(cfg, db)
    try:
        await wait_for(lambda: gw2.stats.redelivered == 5)  # the broker sent all five again, flagged DUP
        p.pub(KETTLE, plug(0.0))  # a new message after them: stored
        await wait_for(lambda: gw2.stats.events == 1)
        await gw2.flushed()
        assert gw2.unacked_messages == 0
    finally:
        stop2.set()
        await task2
    assert stored(db) == [*first, ("kettle", False)]
    with Store(db) as s:
        rows = [r for r in s.rejections() if r.reason == "redelivered"]
    assert {(r.source, r.device, r.count) for r in rows} == {("mqtt", KETTLE, 3), ("mqtt", DOOR, 2)}
    assert all("sent again after it was stored" in r.last_detail for r in rows)

    gw3, stop3, task3 = await start(cfg, db)  # the acks reached the broker: nothing comes back a third time
    try:
        p.pub(KETTLE, plug(2100.0))
        await wait_for(lambda: gw3.stats.events == 1)
        assert gw3.stats.redelivered == 0  # a message sent again would be flagged DUP and counted here
    finally:
        stop3.set()
        await task3
        p.close()
    assert len(stored(db)) == 7


def test_marks_are_kept_for_the_newest_messages_only() -> None:
    marks = HandledMessages((mid, digest("t", str(mid).encode())) for mid in range(1, 5000))
    assert marks.seen(4999, "t", b"4999")
    assert not marks.seen(1, "t", b"1")  # long gone: its packet id may belong to a new message now
    assert len(marks) == 2048
