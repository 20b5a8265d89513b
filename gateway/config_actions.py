"""What Hearth may DO in the home for a person, with their agreement: the ``actions:`` block of a person
in the home config (part of :mod:`gateway.config`; apart only to keep that file short).

Today one action: the night path light (:mod:`gateway.night_light`). When the person gets out of bed
during the hours they chose, the configured zigbee2mqtt lights come on at a low brightness, and go off
again once they are back in bed (after a short grace) or after ``off_after_minutes``::

    people:
      - id: p1
        name: Ann
        actions:
          night_light:
            consented: true                  # Ann agreed; without it nothing is ever switched
            lights: [{ieee_address: "0x0017880104a1b2c3"}, {friendly_name: hall/night_light}]
            brightness: 40                   # 1-254, zigbee2mqtt's scale
            dark_hours: "21:30-07:00"        # never outside these hours
            off_after_minutes: 30

>>> NightLightConfig(consented=True, lights=[LightRef(friendly_name="hall/lamp")], dark_hours="22:00-06:30").dark_window
(datetime.time(22, 0), datetime.time(6, 30))
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sensors.events import SensorKind
from sensors.zigbee2mqtt_bridge import normalize_ieee

_HHMM = r"([01]\d|2[0-3]):[0-5]\d"
_IEEE = r"^0x[0-9a-fA-F]{16}$"
# Chosen on the recorded homes with bed mats (python -m benchmarks.night_light): 30 min ends 95% of
# one home's night trips and 84% of the other's (whose longer "trips" are hours awake, when the person
# has their own lights on); the bed's return ends the light sooner in any case.
DEFAULT_OFF_AFTER_MIN = 30


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LightRef(_Strict):
    """One zigbee2mqtt light (a bulb, a plug-in night light, a light strip), keyed like sensors."""

    ieee_address: str | None = Field(None, pattern=_IEEE,
                                     description="The light's IEEE address, e.g. 0x0017880104a1b2c3; preferred "
                                                 "(survives renames; the gateway learns its friendly name).")
    friendly_name: str | None = Field(None, min_length=1,
                                      description="The light's zigbee2mqtt friendly name (may be renamed later).")

    @model_validator(mode="after")
    def _one_key(self) -> LightRef:
        if self.friendly_name is None and self.ieee_address is None:
            raise ValueError("give ieee_address (preferred) or friendly_name")
        if self.ieee_address is not None:
            object.__setattr__(self, "ieee_address", normalize_ieee(self.ieee_address))
        return self

    @property
    def key(self) -> str:
        """How Hearth names this light everywhere (counts, state, logs): its IEEE address if given."""
        return self.ieee_address or self.friendly_name or ""


class NightLightConfig(_Strict):
    consented: bool = Field(description="The person agreed to lights being switched for them at night. "
                                        "false: configured but never switched.")
    recorded_by: str | None = Field(None, description="Who recorded the agreement, and who was present.")
    recorded_on: date | None = Field(None, description="When the person agreed (YYYY-MM-DD).")
    lights: list[LightRef] = Field(min_length=1, description="The zigbee2mqtt lights on the path (bedroom, hall, "
                                                             "toilet), by ieee_address or friendly_name.")
    brightness: int = Field(40, ge=1, le=254, description="Brightness to switch them on at, 1-254 (zigbee2mqtt's "
                                                          "scale): low enough not to dazzle eyes used to the dark.")
    dark_hours: str = Field(pattern=rf"^{_HHMM}-{_HHMM}$",
                            description="HH:MM-HH:MM local time (may wrap midnight) when the light may be used; "
                                        "never outside it (the daylight hours the person chose).")
    off_after_minutes: int = Field(DEFAULT_OFF_AFTER_MIN, ge=1, le=240,
                                   description="Switch off after this long even if the bed never sees the person "
                                               "back (they stayed up, or the bed sensor missed it).")
    beds: list[str] = Field(default_factory=list,
                            description="Ids of the bed sensors that tell this person is out of bed (default: every "
                                        "bed sensor of theirs). In bed while any of them is occupied.")

    @field_validator("dark_hours")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if v[:5] == v[6:]:
            raise ValueError("dark hours start and end at the same time: give the hours the light may be used")
        return v

    @property
    def dark_window(self) -> tuple[time, time]:
        start, end = self.dark_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)


class ActionsConfig(_Strict):
    night_light: NightLightConfig | None = Field(None, description="Light the way when the person gets out of "
                                                                   "bed at night (only with their agreement).")


def _located(loc: tuple[Any, ...], value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)


def action_errors(cfg: Any) -> list[InitErrorDetails]:
    """Located problems across the home (``cfg`` is :class:`gateway.config.HomeConfig`): a bed that is
    not the person's bed sensor, a person with no bed sensor, a light that is also a sensor."""
    errors: list[InitErrorDetails] = []
    sensor_keys: dict[str, str] = {}  # every IEEE address and friendly name a sensor answers to
    for s in cfg.sensors:
        if s.zigbee is not None:
            for k in (s.zigbee.friendly_name, normalize_ieee(s.zigbee.ieee_address)):
                if k:
                    sensor_keys[k] = s.id
    for i, person in enumerate(cfg.people):
        nl = person.actions.night_light
        if nl is None:
            continue
        where = ("people", i, "actions", "night_light")
        own_beds = [s.id for s in cfg.sensors if s.person == person.id and s.kind is SensorKind.BED]
        for n, bed in enumerate(nl.beds):
            if bed not in own_beds:
                errors.append(_located((*where, "beds", n), bed,
                                       f"{bed!r} is not a bed sensor of {person.id} (theirs: "
                                       f"{', '.join(own_beds) or 'none'})"))
        if not nl.beds and not own_beds:
            errors.append(_located((*where, "beds"), None, f"the night light needs a bed sensor of {person.id} "
                                                           "(kind: bed, person: " + person.id + ") to know "
                                                           "when they get up"))
        for n, light in enumerate(nl.lights):
            for k in (light.ieee_address, light.friendly_name):
                if k in sensor_keys:
                    errors.append(_located((*where, "lights", n), k,
                                           f"{k!r} is sensor {sensor_keys[k]!r}, not a light: Hearth never "
                                           "switches its own sensors"))
        keys = [light.key for light in nl.lights]
        errors += [_located((*where, "lights", n), k, f"light {k!r} appears twice")
                   for n, k in enumerate(keys) if k in keys[:n]]
    return errors
