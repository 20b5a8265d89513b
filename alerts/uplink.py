"""The uplink to the wellbeing team's hub, gateway side: topic names, message versions, and the hub's replies.

The full layout and every field are in ``docs/uplink.md``; the hub keeps its own copy of the names in
``hub/topics.py`` (the hub never imports the gateway's packages), and a test holds the two equal.

Every message is a JSON object carrying ``v`` (:data:`VERSION`), ``type`` and ``home``; the hub's
actions carry ``v`` :data:`ACTION_VERSION`. What a gateway
publishes goes under its own home, ``PREFIX/HOME/KIND``; the hub's actions come back on ``PREFIX/HOME/ack``.

>>> topic("hearth", "ann-home", "events")
'hearth/ann-home/events'
>>> parse_action(b'{"v": 1, "action": "resolve", "token": "t", "outcome": "false_alarm", "by": "Sam"}')
HubAction(action='resolve', token='t', by='Sam', outcome='false_alarm')
>>> parse_action(b"hearth-ack1.a.b.1.n.s").action  # a bare token, as an ntfy button sends it: acknowledge
'ack'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VERSION = 2  # what this gateway publishes: 2 adds a digest's ``day`` and the heartbeat's ``today`` (docs/uplink.md)
ACTION_VERSION = 1  # the hub's actions are unchanged since 1: an older gateway still reads a newer hub's
MESSAGES = "alerts"  # outbox messages: alerts, their updates, digests, trends, technical notes
EVENTS = "events"  # an alert acknowledged or resolved (by whom, when, the outcome)
STATUS = "status"  # the heartbeat: device health, the gateway's own health, engine.status() (retained)
REPLIES = "ack"  # the hub's actions back to the gateway
GATEWAY_PUBLISHES = (MESSAGES, EVENTS, STATUS)
ACTIONS = {"ack": None, "resolve": ("false_alarm", "real")}  # action -> the outcomes it takes
MAX_REPLY = 4096
MAX_BY = 80


def topic(prefix: str, home: str, kind: str) -> str:
    return f"{prefix.rstrip('/')}/{home}/{kind}"


@dataclass(frozen=True)
class HubAction:
    """What a worker pressed on the hub: "I'm on it" (``ack``) or "Resolved" with an outcome."""

    action: str
    token: str
    by: str | None = None  # the worker's name as the hub shows it ("Sam"); None: the token's recipient
    outcome: str | None = None


def parse_action(payload: bytes) -> HubAction | None:
    """A reply from the hub, or None when it is not one (logged and counted by the caller).

    A bare token (an ntfy-style Acknowledge, or a hub before v1) is an acknowledgement."""
    if len(payload) > MAX_REPLY:
        return None
    text = payload.decode("utf-8", "replace").strip()
    if not text.startswith("{"):
        return HubAction("ack", text)
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("v") != ACTION_VERSION or data.get("action") not in ACTIONS:
        return None
    token, by, outcome = data.get("token"), data.get("by"), data.get("outcome")
    if not isinstance(token, str) or (by is not None and not (isinstance(by, str) and 0 < len(by) <= MAX_BY
                                                              and by.isprintable())):
        return None
    allowed = ACTIONS[data["action"]]
    if (allowed is None) != (outcome is None) or (allowed is not None and outcome not in allowed):
        return None
    return HubAction(data["action"], token, by.strip() if by else None, outcome)


def envelope(kind: str, home: str, sent_at: float, body: dict[str, Any]) -> bytes:
    """One uplink message: version, type, home, time sent, then the body's own fields."""
    data = {"v": VERSION, "type": kind, "home": home, "sent_at": int(sent_at)} | body
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
