"""Uplink messages, checked: a pure function from (topic, bytes) to a typed record or a refusal reason.

Nothing here trusts the sender: the size, the JSON, the version, the type for the topic, every field's
type, and the home named inside against the home in the topic (a gateway's broker account can publish
only under its own home, but if a broker let one through, the hub still drops it here).

>>> r = parse("hearth", "hearth/ann/status", b'{"v": 1, "type": "status", "home": "ann", "sent_at": 1, "people": []}')
>>> (r.home, r.kind, r.type)
('ann', 'status', 'status')
>>> parse("hearth", "hearth/ann/status", b'{"v": 1, "type": "status", "home": "bob", "sent_at": 1}').reason
'home_mismatch'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub import days
from hub.topics import EVENTS, MESSAGES, READS, STATUS, VERSION, parse_topic

MAX_MESSAGE = 512 * 1024  # a digest with its chart is tens of kB
CATEGORIES = ("urgent", "concern", "digest", "trends", "technical")
TYPES = {MESSAGES: ("message",), EVENTS: ("acknowledged", "resolved"), STATUS: ("status",)}
_STR, _OPT_STR, _LIST, _DICT = (str,), (str, type(None)), (list,), (dict,)
REQUIRED = {  # type -> field -> accepted Python types
    "message": {"message_id": _STR, "category": _STR, "title": _STR, "body": _STR, "person": _OPT_STR,
                "kind": _OPT_STR, "alert_key": _OPT_STR, "replaces": _OPT_STR, "attachments": _LIST},
    "acknowledged": {"alert_key": _STR, "person": _STR, "category": _STR, "acknowledged_by": _OPT_STR},
    "resolved": {"alert_key": _STR, "person": _STR, "category": _STR, "resolved_by": _OPT_STR,
                 "outcome": _OPT_STR},
    "status": {"people": _LIST},
}
MAX_TEXT = 8000


@dataclass(frozen=True)
class Uplinked:
    home: str
    kind: str
    type: str
    sent_at: float
    data: dict[str, Any]
    dropped: tuple[str, ...] = ()  # optional fields that were malformed and left out (counted by the intake)


@dataclass(frozen=True)
class Refused:
    reason: str
    detail: str
    home: str | None = None


def parse(prefix: str, topic: str, payload: bytes) -> Uplinked | Refused:
    where = parse_topic(prefix, topic)
    if where is None:
        return Refused("bad_topic", f"not an uplink topic: {topic[:200]!r}")
    home, kind = where
    if len(payload) > MAX_MESSAGE:
        return Refused("oversized", f"{len(payload)} bytes (at most {MAX_MESSAGE})", home)
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return Refused("not_json", "not a JSON document", home)
    if not isinstance(data, dict):
        return Refused("not_object", f"a JSON {type(data).__name__}, not an object", home)
    if data.get("v") not in READS or isinstance(data.get("v"), bool):
        return Refused("version", f"uplink version {str(data.get('v'))[:20]!r}, this hub reads 1 to {VERSION}",
                       home)
    if data.get("home") != home:
        return Refused("home_mismatch", f"published under {home!r} but says home {str(data.get('home'))[:64]!r}",
                       home)
    kind_type = data.get("type")
    if kind_type not in TYPES[kind]:
        return Refused("wrong_type", f"type {str(kind_type)[:30]!r} on the {kind} topic", home)
    sent_at = data.get("sent_at")
    if isinstance(sent_at, bool) or not isinstance(sent_at, int | float) or not 0 <= sent_at < 2**40:
        return Refused("bad_field", "sent_at must be unix seconds", home)
    for name, types in REQUIRED[kind_type].items():
        value = data.get(name)
        if not isinstance(value, types) or (isinstance(value, str) and len(value) > MAX_TEXT):
            return Refused("bad_field", f"{name} missing or of the wrong type", home)
    if kind_type == "message" and data["category"] not in CATEGORIES:
        return Refused("bad_field", f"unknown category {data['category'][:30]!r}", home)
    return Uplinked(home, kind, kind_type, float(sent_at), data, _days(kind_type, data))


def _days(kind_type: str, data: dict[str, Any]) -> tuple[str, ...]:
    """Check the optional days (v2) in place: a malformed one is left out, its message kept."""
    dropped: list[str] = []
    if kind_type == "message" and "day" in data:
        data["day"] = days.clean(data["day"])
        if data["day"] is None:
            dropped.append("a digest's day")
    if kind_type == "status":
        for p in data["people"]:
            if isinstance(p, dict) and "today" in p:
                p["today"] = days.clean(p["today"])
                if p["today"] is None:
                    dropped.append("a person's today")
    return tuple(dropped)
