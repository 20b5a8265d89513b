"""The alert object the routine core produces and the alert policy (``alerts/``) consumes.

>>> from datetime import datetime, timezone
>>> a = Alert(datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc), "p1", "not_up", Severity.URGENT,
...           Audience.CARE, "Ann is usually up by 08:10 (up by then on 9 of the 10 days learned); no movement since 22:40.",
...           key="p1:not_up:2026-01-05")
>>> a.to_json()["severity"]
'urgent'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    URGENT = "urgent"
    WARNING = "warning"
    INFO = "info"


class Audience(StrEnum):
    CARE = "care"  # about the person's wellbeing: the wellbeing team, maybe the Community Circle
    TECHNICAL = "technical"  # about devices: batteries, silent sensors, blind checks


@dataclass(slots=True)
class Alert:
    """One finding about one person.

    ``key`` names the ongoing situation, so the alert policy can treat repeats as one alert
    (e.g. ``"p1:not_up:2026-01-05"``). ``evidence`` holds the numbers behind ``message``.
    """

    time: datetime
    person: str
    kind: str
    severity: Severity
    audience: Audience
    message: str
    key: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    recipients: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "person": self.person,
            "kind": self.kind,
            "severity": str(self.severity),
            "audience": str(self.audience),
            "message": self.message,
            "key": self.key,
            "evidence": self.evidence,
            "recipients": list(self.recipients),
        }
