"""The one place an untrusted JSON payload is loaded, for every adapter (zigbee2mqtt, BLE relay).

Python's ``json`` is lenient where a gateway must not be: it accepts ``NaN`` / ``Infinity`` (not JSON
at all), turns ``1e400`` into ``inf``, raises ``ValueError`` on an integer of more than 4,300 digits
(so one bad key used to drop the whole message) and ``RecursionError`` on deep nesting. Here:

* the size is checked first and nesting depth is bounded before the parser runs;
* a number that is not a finite float or an integer of reasonable length becomes a
  :class:`BadNumber` - a value no converter accepts - so only that key is refused and the rest of
  the message is still read;
* every failure is a :class:`PayloadError` with a stable reason (``too_large``, ``not_json``,
  ``too_deep``) and a detail a technician can read.

>>> load_json(b'{"power": 12.5, "rssi": NaN, "energy": 1e400}')
{'power': 12.5, 'rssi': BadNumber('NaN'), 'energy': BadNumber('1e400')}
>>> load_json(b"[" * 2000 + b"]" * 2000)
Traceback (most recent call last):
...
sensors.payload.PayloadError: too_deep: JSON nested deeper than 32 levels
>>> safe_text("bad \\udc80 text")
'bad \\\\udc80 text'
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

MAX_DEPTH = 32  # zigbee2mqtt's bridge/devices (device -> definition -> exposes -> features) is ~8 deep
MAX_INT_DIGITS = 30  # far beyond any reading; Python's own limit (4,300) would fail the whole message
PAYLOAD_REASONS = {
    "too_large": "the payload is larger than any real message of its kind",
    "not_json": "not UTF-8 JSON",
    "too_deep": f"JSON nested deeper than {MAX_DEPTH} levels",
}
# A JSON string (with escapes), so brackets inside strings do not count towards the depth.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")


class PayloadError(ValueError):
    """A payload that cannot be loaded at all; ``reason`` is one of :data:`PAYLOAD_REASONS`."""

    def __init__(self, reason: str, detail: str):
        assert reason in PAYLOAD_REASONS, reason
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True, slots=True)
class BadNumber:
    """A JSON number Hearth cannot use (NaN, +-Infinity, out of float range, absurdly many digits).

    It keeps (the start of) the literal as written, for the rejection's detail.
    """

    text: str

    def _shown(self) -> str:
        return self.text if len(self.text) <= 24 else f"{self.text[:16]}... ({len(self.text)} characters)"

    def describe(self) -> str:
        """For a technician: ``NaN``, ``1e400`` or ``a 400-digit number``."""
        digits = self.text.lstrip("-")
        if len(self.text) > 24 and digits.isdigit():
            return f"a {len(digits)}-digit number"
        return self._shown()

    def __repr__(self) -> str:
        return f"BadNumber({self._shown()!r})"


def _parse_int(text: str) -> int | BadNumber:
    return int(text) if len(text) <= MAX_INT_DIGITS else BadNumber(text)


def _parse_float(text: str) -> float | BadNumber:
    value = float(text)  # never raises for what json's scanner hands over; 1e400 gives inf
    return value if math.isfinite(value) else BadNumber(text)


def _too_deep(payload: bytes, max_depth: int) -> bool:
    """Whether brackets nest deeper than ``max_depth``, without recursion (each pass peels one level)."""
    if payload.count(b"[") + payload.count(b"{") <= max_depth:
        return False  # the common case: a flat object, decided without any scan
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", payload))
    for _ in range(max_depth):
        peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == brackets:
            return False  # balanced and done, or unbalanced: json itself will say so
        brackets = peeled
    # Still brackets left after max_depth levels: deeper, unless what is left is only unbalanced junk.
    return brackets.replace(b"[]", b"").replace(b"{}", b"") != brackets


def load_json(payload: bytes, max_bytes: int = 65536, max_depth: int = MAX_DEPTH) -> object:
    """Parse one untrusted JSON payload; raise :class:`PayloadError`, never anything else."""
    if len(payload) > max_bytes:
        raise PayloadError("too_large", f"{len(payload)} bytes > {max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("not_json", f"payload is not UTF-8 text (byte {exc.start}): {payload[:40]!r}") from None
    if _too_deep(payload, max_depth):
        raise PayloadError("too_deep", f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=BadNumber)
    except (ValueError, RecursionError, OverflowError) as exc:
        raise PayloadError("not_json", f"payload is not JSON ({str(exc)[:80]}): {payload[:40]!r}") from None


def safe_text(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters and safe to encode as UTF-8 (lone surrogates escaped),
    so a rejection's detail can always be logged and stored."""
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
