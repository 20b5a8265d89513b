"""What each kind of reading may hold: one table shared by the live adapters and replay.

The live zigbee2mqtt adapter once took -2000 W and ``"contact": null`` that replay refused; now both
ask this module, so the two can never disagree again. :data:`RANGES` says, per quantity, what a
reading must be; a converter raises :class:`WrongType` (saying what was expected) for anything else.

>>> as_number(2150.4, RANGES["watts"])
2150.4
>>> as_number(-2000, RANGES["watts"])
Traceback (most recent call last):
...
sensors.readings.WrongType: expected watts (a number 0..100000), got int -2000
>>> watts_from_text("2200")
2200.0
>>> as_bool(None)
Traceback (most recent call last):
...
sensors.readings.WrongType: expected true or false, got no value (null)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sensors.payload import BadNumber


class WrongType(ValueError):
    """A known key carried a value of the wrong type, no value, or a value outside its range."""


@dataclass(frozen=True, slots=True)
class Range:
    """The finite numbers a quantity may take, and how to say so to a technician."""

    expected: str
    low: float = -math.inf
    high: float = math.inf


RANGES: dict[str, Range] = {
    # A 32 A socket at 240 V is 7.7 kW; a whole-home meter stays far below 100 kW. Below zero is a
    # broken reading (a plug does not generate power).
    "watts": Range("watts (a number 0..100000)", 0.0, 100_000.0),
    "percent": Range("a number 0..100", 0.0, 100.0),
    "linkquality": Range("a link quality 0..255", 0.0, 255.0),
    "millivolts": Range("millivolts (a number 0..100000)", 0.0, 100_000.0),
    "pressure": Range("a raw pressure (a finite number)"),
    "rssi": Range("an RSSI in dBm (-127..20)", -127.0, 20.0),
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def type_error(expected: str, value: object) -> WrongType:
    if value is None:
        return WrongType(f"expected {expected}, got no value (null)")
    if isinstance(value, BadNumber):
        return WrongType(f"expected {expected}, got {value.describe()} (not a finite number)")
    return WrongType(f"expected {expected}, got {type(value).__name__} {_short(value)}")


def as_bool(value: object) -> bool:
    # zigbee2mqtt publishes binary exposes as JSON true/false; 0/1 or "true" mean a broken producer.
    if not isinstance(value, bool):
        raise type_error("true or false", value)
    return value


def as_number(value: object, allowed: Range) -> float:
    # bool is an int in Python, but `true` is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise type_error(allowed.expected, value)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float (a 400-digit number)
        raise type_error(allowed.expected, value) from None
    if not math.isfinite(number) or not allowed.low <= number <= allowed.high:
        raise type_error(allowed.expected, value)
    return number


def watts_from_text(text: str) -> float:
    """A CSV cell as watts, by the same rule as a live plug's ``power``."""
    try:
        number = float(text)
    except ValueError:
        raise WrongType(f"expected {RANGES['watts'].expected}, got {text[:40]!r}") from None
    return as_number(number, RANGES["watts"])
