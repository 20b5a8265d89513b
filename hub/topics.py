"""The uplink's topic names and version, hub side (the gateway's copy is ``alerts/uplink.py``).

>>> parse_topic("hearth", "hearth/ann-home/alerts")
('ann-home', 'alerts')
>>> parse_topic("hearth", "hearth/ann-home/ack") is None  # the hub's own replies are not intake
True
>>> reply_topic("hearth", "ann-home")
'hearth/ann-home/ack'
"""

from __future__ import annotations

import re

VERSION = 2  # the newest uplink version this hub reads (docs/uplink.md)
READS = (1, 2)  # 2 only adds fields (a digest's ``day``, the heartbeat's ``today``): 1 is still read
ACTION_VERSION = 1  # the actions the hub sends back, unchanged since 1 (so older gateways read them)
MESSAGES = "alerts"
EVENTS = "events"
STATUS = "status"
REPLIES = "ack"
GATEWAY_PUBLISHES = (MESSAGES, EVENTS, STATUS)
HOME_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # a home's name as its gateway config and broker user have it


def subscriptions(prefix: str, share_group: str | None = None) -> list[str]:
    """What the hub subscribes to; with ``share_group``, as an MQTT shared subscription, so several
    hub processes split the messages (each goes to one of them).

    >>> subscriptions("hearth", "hearth-hub")[0]
    '$share/hearth-hub/hearth/+/alerts'
    """
    share = f"$share/{share_group}/" if share_group else ""
    return [f"{share}{prefix}/+/{kind}" for kind in GATEWAY_PUBLISHES]


def parse_topic(prefix: str, topic: str) -> tuple[str, str] | None:
    """(home, kind) of an intake topic, or None when it is not one."""
    if not topic.startswith(prefix + "/"):
        return None
    parts = topic[len(prefix) + 1:].split("/")
    if len(parts) != 2 or parts[1] not in GATEWAY_PUBLISHES or not HOME_ID.match(parts[0]):
        return None
    return parts[0], parts[1]


def reply_topic(prefix: str, home: str) -> str:
    return f"{prefix}/{home}/{REPLIES}"
