"""Every kind of alert, in ONE table: how urgent, who it is for, and its plain words.

The routine core raises the ``CORE`` kinds (``routines.detectors``); the delivery layer (``alerts/``)
raises the ``DELIVERY`` kinds about the sending itself. Anything that names a kind to a person (the
team's weekly note, the console) takes its words from here, so a kind added to the core without words,
or words kept for a kind that no longer exists, fail ``tests/test_explanations_kinds.py``.

>>> words("not_up")
'not up by the usual time'
>>> CORE["night_door"].severity, CORE["night_door"].audience
(<Severity.URGENT: 'urgent'>, <Audience.CARE: 'care'>)
>>> words("something_new")  # a kind from a newer version still reads as words, never as an id
'something new'
"""

from __future__ import annotations

from dataclasses import dataclass

from routines.alert import Audience, Severity

URG, WARN, INFO = Severity.URGENT, Severity.WARNING, Severity.INFO
CARE, TECH = Audience.CARE, Audience.TECHNICAL


@dataclass(frozen=True, slots=True)
class Kind:
    severity: Severity
    audience: Audience
    words: str  # as the team reads it in a list ("Alerts: not up by the usual time (2)")


CORE: dict[str, Kind] = {
    "not_up": Kind(URG, CARE, "not up by the usual time"),
    "night_bed_exit": Kind(URG, CARE, "out of bed in the night for longer than usual"),
    "night_door": Kind(URG, CARE, "front door opened in the night, no sign of return"),
    "silence": Kind(URG, CARE, "no movement at home for longer than usual"),
    "not_back": Kind(URG, CARE, "not back from going out when usual"),
    "no_meal": Kind(WARN, CARE, "no kitchen activity when there usually is"),
    "appliance_on": Kind(WARN, CARE, "an appliance left on"),
    "trend_night_visits": Kind(INFO, CARE, "getting up at night more often"),
    "trend_activity": Kind(INFO, CARE, "less active at home"),
    "sensor_offline": Kind(WARN, TECH, "a sensor offline"),
    "sensor_silent": Kind(WARN, TECH, "a sensor gone silent"),
    "battery_low": Kind(INFO, TECH, "a battery running low"),
    "blind_check": Kind(WARN, TECH, "a check that could not run"),
}
DELIVERY: dict[str, Kind] = {
    "delivery_refused": Kind(WARN, TECH, "a message that could not be delivered"),
    "held_during_pause": Kind(URG, CARE, "alerts held while sharing was paused"),
    "consent_review_due": Kind(WARN, TECH, "consent due for review"),
}
ALL: dict[str, Kind] = {**CORE, **DELIVERY}


def words(kind: str) -> str:
    """A kind in plain words (a kind this version does not know still reads as words)."""
    k = ALL.get(kind)
    return k.words if k is not None else kind.replace("_", " ").strip()
