"""Privacy mode from the home itself: a switch the person controls pauses all sharing about them.

A sensor with ``role: privacy_switch`` (a smart plug driving a lamp, a wall switch with a contact,
any on/off sensor) pauses sharing while it is ON and resumes it when switched OFF. The pause is the
same one ``hearth pause`` records (logged with its start and end; urgent alerts held during it are
reported to the team afterwards). A switch left on does not silence the home for ever: the pause
runs at most :data:`SWITCH_PAUSE_MAX`, after which the person switches it off and on again to renew it.

>>> PRIVACY_ROLES
frozenset({'privacy_switch'})
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sensors.events import SensorEvent

log = logging.getLogger("hearth.privacy")
PRIVACY_ROLES = frozenset({"privacy_switch"})
SWITCH_PAUSE_MAX = timedelta(hours=12)


def apply_privacy_switch(pauses: Any, person: str, sensor_id: str, event: SensorEvent,
                         wake: Callable[[], None] | None = None) -> str:
    """Start or end the person's pause for one switch event; returns what was done (for logs/tests).

    ``wake`` is the delivery service's :meth:`~alerts.delivery.AlertDelivery.wake`: ending a pause makes
    the team's note about urgent alerts held during it due at once, and waking the sender sends it now
    rather than after its idle wait.
    """
    by = f"switch {sensor_id}"
    if event.active:
        if any(p.person == person for p in pauses.active(event.time)):
            return "already paused"
        pauses.start(person, event.time + SWITCH_PAUSE_MAX, by=by, now=event.time, reason="privacy switch on")
        return "paused"
    ended = pauses.end(person, by=by, now=event.time)
    if ended and wake is not None:
        wake()
    return "resumed" if ended else "not paused"
