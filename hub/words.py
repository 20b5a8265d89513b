"""Plain words for what the gateways send as ids: a worker at 3am reads sentences, not ``not_up``.

>>> what("not_up"), what("something_new")
('Not up at the usual time', 'Something new')
"""

from __future__ import annotations

KINDS = {
    "not_up": "Not up at the usual time",
    "night_bed_exit": "Out of bed in the night for longer than usual",
    "night_door": "Front door opened in the night",
    "no_meal": "No kitchen activity when there usually is",
    "silence": "No movement for longer than usual",
    "not_back": "Not back from going out when usual",
    "appliance_on": "An appliance left on",
    "held_during_pause": "Alerts were held while sharing was paused",
    "trend_activity": "Daily activity has changed",
    "trend_night_visits": "Night-time visits have changed",
    "battery_low": "A sensor battery is low",
    "sensor_offline": "A sensor is offline",
    "sensor_silent": "A sensor has gone silent",
    "blind_check": "A check cannot run",
    "delivery_refused": "A message could not be delivered",
    "consent_review_due": "Consent is due for review",
    "digest": "Daily note",
    "trends": "Weekly note",
}
CATEGORIES = {"urgent": "Urgent", "concern": "Concern", "technical": "Technical", "digest": "Daily note",
              "trends": "Weekly note"}
STATES = {"open": "Nobody has it yet", "acknowledged": "Being handled", "resolved": "Resolved"}
OUTCOMES = {"false_alarm": "all well", "real": "needed help"}
ROLES = {"worker": "Wellbeing worker", "circle": "Community Circle", "technician": "Technician"}


def what(kind: str | None) -> str:
    """A kind in words; an unknown one (a newer gateway) still reads as words, never as an id."""
    if not kind:
        return "Alert"
    return KINDS.get(kind) or kind.replace("_", " ").strip().capitalize()
