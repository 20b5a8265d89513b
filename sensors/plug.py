"""Turn a metering plug's watts into on/off, with hysteresis.

A kettle draws 2-3 kW; a TV on standby draws a watt or two and 80 W when on. One threshold per
sensor, plus a lower "off" threshold so a reading wobbling around the line does not flap.

>>> s = PlugSwitch(on_above_w=10.0, off_below_w=5.0)
>>> [s.update(w) for w in (0.0, 2000.0, 7.0, 3.0, 4.0)]
[False, True, True, False, False]
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class PlugSwitch:
    on_above_w: float = 10.0
    off_below_w: float = 5.0
    state: bool | None = None

    def update(self, watts: float) -> bool:
        """Feed one power reading; return the on/off state after it."""
        if watts > self.on_above_w:
            self.state = True
        elif watts < self.off_below_w or self.state is None:
            self.state = False
        return self.state
