"""Recognising a message the broker sends again after the gateway already stored it.

The gateway acks a QoS 1 message only once what it carried is committed (see ``gateway/service.py``).
A gateway killed between that commit and the ack reaching the broker (or a connection lost there) gets
the message again on reconnect: the broker resends every unacked in-flight message with the DUP flag
and the same packet id (MQTT 3.1.1 §4.4; mosquitto does, see ``tests/test_redelivery.py``). Stored
twice, one door opening would become two. So each handled QoS 1 message leaves a mark: its packet id and
a digest of topic and payload, in memory at once and in SQLite with the batch that stored it (a killed
gateway's successor reads the marks back). A DUP message whose id and digest match a mark is the same
message: it is counted as the rejection ``redelivered`` (not a fault) and acked, not handled again.

Only DUP messages are looked up, and only among the newest :data:`KEEP` marks: the broker resends just
its in-flight window (20 by default), so an old mark whose packet id the broker has since reused cannot
swallow a new message.

>>> marks = HandledMessages()
>>> marks.note(7, "zigbee2mqtt/door", b'{"contact":false}')
>>> marks.seen(7, "zigbee2mqtt/door", b'{"contact":false}')
True
>>> marks.seen(7, "zigbee2mqtt/door", b'{"contact":true}')  # same id, other bytes: a new message
False
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable

KEEP = 2048  # marks looked at: far more than any broker's in-flight window, small on a Pi


def digest(topic: str, payload: bytes) -> bytes:
    """Eight bytes that tell one message's topic and payload from another's."""
    return hashlib.blake2b(topic.encode() + b"\0" + payload, digest_size=8).digest()


class HandledMessages:
    """The newest :data:`KEEP` handled messages' packet ids and digests."""

    def __init__(self, marks: Iterable[tuple[int, bytes]] = ()) -> None:
        self._marks: OrderedDict[int, bytes] = OrderedDict()
        for mid, d in marks:
            self._put(mid, d)

    def _put(self, mid: int, d: bytes) -> None:
        self._marks[mid] = d
        self._marks.move_to_end(mid)
        if len(self._marks) > KEEP:
            self._marks.popitem(last=False)

    def note(self, mid: int, topic: str, payload: bytes) -> None:
        self._put(mid, digest(topic, payload))

    def seen(self, mid: int, topic: str, payload: bytes) -> bool:
        return self._marks.get(mid) == digest(topic, payload)

    def __len__(self) -> int:
        return len(self._marks)
