"""A person's day as the gateway sends it (uplink v2: a digest's ``day``, the heartbeat's ``today``):
checked field by field, then said in words a family member understands for the week strip.

Nothing here trusts the sender: a malformed day is dropped (the message it came with is kept) and
counted by the intake. Every word is built from a time or a count the home's routine core saw.

>>> d = clean({"date": "2026-01-05", "day_start_hour": 4, "up": "07:40", "kitchen": 5, "meals": None,
...            "outings": [["10:05", "11:30"]], "night_trips": 1, "night_seen": True,
...            "hourly": [0] * 24, "usual_hourly": [0.0] * 24})
>>> strip_words(d)
{'up': 'up 07:40', 'meals': 'kitchen 5 times', 'out': 'out 10:05-11:30', 'night': '1 trip at night'}
>>> clean({"date": "2026-01-05", "hourly": [1] * 23}) is None
True
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_OUTINGS = 20
MAX_COUNT = 100_000  # events in an hour or a day: far above any home, below any overflow


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_COUNT


def _hours(v: Any, whole: bool) -> bool:
    if not isinstance(v, list) or len(v) != 24:
        return False
    kind = int if whole else int | float
    return all(isinstance(x, kind) and not isinstance(x, bool) and 0 <= x <= MAX_COUNT for x in v)


def _time(v: Any) -> bool:
    return v is None or (isinstance(v, str) and bool(HHMM.match(v)))


def clean(raw: Any) -> dict[str, Any] | None:
    """The day if every field it carries is what docs/uplink.md says, else None."""
    if not isinstance(raw, dict):
        return None
    try:
        date.fromisoformat(raw.get("date"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    dsh = raw.get("day_start_hour", 4)
    if not (_count(dsh) and dsh < 24 and _hours(raw.get("hourly"), True)
            and _hours(raw.get("usual_hourly", [0.0] * 24), False)):
        return None
    if not all(_time(raw.get(k)) for k in ("up", "usual_up", "bed")):
        return None
    if not (_count(raw.get("kitchen", 0)) and (raw.get("meals") is None or _count(raw.get("meals")))
            and _count(raw.get("night_trips", 0)) and isinstance(raw.get("night_seen", False), bool)):
        return None
    outings = raw.get("outings", [])
    if not (isinstance(outings, list) and len(outings) <= MAX_OUTINGS and all(
            isinstance(o, list) and len(o) == 2 and isinstance(o[0], str) and HHMM.match(o[0]) and _time(o[1])
            for o in outings)):
        return None
    blind = raw.get("blind", [])
    if not (isinstance(blind, list) and len(blind) <= 20 and all(isinstance(b, str) and len(b) < 300 for b in blind)):
        return None
    keep = ("date", "day_start_hour", "up", "usual_up", "bed", "kitchen", "meals", "outings", "night_trips",
            "night_seen", "blind", "hourly", "usual_hourly")
    return {k: raw.get(k) for k in keep} | {"day_start_hour": dsh, "usual_hourly": raw.get("usual_hourly", [0.0] * 24)}


def _times(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def strip_words(d: dict[str, Any]) -> dict[str, str]:
    """Up, meals, out and night of one day, each a few words; an unseen thing says so, never a guess."""
    blind = " ".join(d.get("blind") or []).lower()
    up = f"up {d['up']}" if d.get("up") else "up: not seen"
    if d.get("meals") is not None:
        meals = _times(d["meals"], "meal", "meals")
    elif d.get("kitchen"):
        meals = "kitchen once" if d["kitchen"] == 1 else f"kitchen {d['kitchen']} times"
    else:
        meals = "kitchen: not seen" if "kitchen" in blind else "no kitchen use seen"
    outs = d.get("outings") or []
    if outs:
        a, b = outs[0]
        out = f"out {a}-{b}" if b else f"out from {a}"
        if len(outs) > 1:
            out += f" (+{len(outs) - 1} more)"
    else:
        out = "door: not seen" if "door" in blind else "stayed in"
    trips = d.get("night_trips") or 0
    if trips:
        night = _times(trips, "trip at night", "trips at night")
    else:
        night = "settled night" if d.get("night_seen") else "night: not seen"
    return {"up": up, "meals": meals, "out": out, "night": night}


def person_day(at: float, tz: str | None, day_start_hour: int) -> date:
    """The person day an instant belongs to (a day runs from ``day_start_hour`` to the same hour next
    morning, so a 03:00 alert belongs to the day before).

    >>> person_day(datetime(2026, 1, 6, 3, 0, tzinfo=UTC).timestamp(), "Europe/London", 4)
    datetime.date(2026, 1, 5)
    """
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError, TypeError):  # a heartbeat's timezone is the home's word
        zone = UTC
    local = datetime.fromtimestamp(at, zone)
    return (local - timedelta(hours=day_start_hour)).date()
