"""The night path light (:mod:`gateway.night_light`) on the gateway's MQTT link and store.

* commands go to ``<base>/<friendly name>/set`` (zigbee2mqtt's set topic); a light configured by IEEE
  address is named by the friendly name zigbee2mqtt's retained ``bridge/devices`` gives it (the
  gateway's adapter follows it, renames included), or by its IEEE address until that is known
  (zigbee2mqtt takes either);
* each light's own reports (``<base>/<name>``, ``<base>/<name>/availability``) are taken here, before the
  sensor adapter (a light is not a sensor): they confirm commands and say when it is offline;
* a command is published only while the broker link is up: an ON delivered minutes late, after a
  reconnect, would light an empty room. A failed one is counted for technicians; a failed OFF is sent
  again every :data:`RETRY_OFF_S` until it goes;
* what Hearth switched on and has not switched off is written to the store's state
  (:data:`STATE_KEY`) with the next batch, so a restarted gateway knows it switched them on (and not
  the person) and switches them off once connected.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from zoneinfo import ZoneInfo

from gateway.config import HomeConfig
from gateway.mqtt import MqttLink
from gateway.night_light import LightCommand, NightLight, NightLightPlan
from sensors.events import SensorEvent, SensorKind
from sensors.zigbee2mqtt import Zigbee2MqttAdapter

log = logging.getLogger("hearth.night_light")

STATE_KEY = "night_light"  # JSON list of light keys Hearth left switched on
RETRY_OFF_S = 30.0
NAMES_WAIT_S = 5.0  # at start, how long to wait for bridge/devices before naming a light by its IEEE address
_REPORT_MAX = 4096  # a light's state report is a few hundred bytes


def plans_from_config(cfg: HomeConfig) -> list[NightLightPlan]:
    """One plan per person with ``actions.night_light`` (consented or not: the report shows both)."""
    plans = []
    for p in cfg.people:
        nl = p.actions.night_light
        if nl is None:
            continue
        beds = nl.beds or [s.id for s in cfg.sensors if s.person == p.id and s.kind is SensorKind.BED]
        plans.append(NightLightPlan(p.id, frozenset(beds), tuple(light.key for light in nl.lights), nl.brightness,
                                    nl.dark_window, nl.off_after_minutes * 60.0, nl.consented))
    return plans


def _state_of(payload: bytes) -> tuple[bool | None, bool | None]:
    """(on, available) from a light's report or availability payload; None where it says nothing."""
    text = payload.strip()
    if text in (b"online", b"offline"):
        return None, text == b"online"
    try:
        data = json.loads(payload) if len(payload) <= _REPORT_MAX else None
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    state = data.get("state")
    if state in ("online", "offline"):
        return None, state == "online"
    return ({"ON": True, "OFF": False}.get(state) if isinstance(state, str) else None), None


class NightLightLink:
    def __init__(self, cfg: HomeConfig, adapter: Zigbee2MqttAdapter, monotonic: Callable[[], float],
                 poll_s: float = 1.0) -> None:
        self.controller = NightLight(plans_from_config(cfg), ZoneInfo(cfg.timezone))
        self.base = cfg.zigbee2mqtt.base_topic.rstrip("/")
        self._adapter, self._monotonic, self.poll_s = adapter, monotonic, poll_s
        self._configured_name = {light.key: light.friendly_name for p in cfg.people if p.actions.night_light
                                 for light in p.actions.night_light.lights}
        # lights are paired devices Hearth uses, not sensors missing a config
        adapter.not_sensors |= {light.ieee_address for p in cfg.people if p.actions.night_light
                                for light in p.actions.night_light.lights if light.ieee_address}
        self._by_topic: dict[str, tuple[str, bool]] = {}  # topic -> (light key, is availability)
        self._bridge = f"{self.base}/bridge/"
        self._names_stale = True
        self._link: MqttLink | None = None
        self._remember: Callable[[bytes], None] = lambda blob: None
        self._remembered: list[str] = []
        self._left_on: list[str] = []
        self._connected_at: float | None = None
        self._off_pending: dict[str, float] = {}  # light key -> monotonic time of the next try

    @classmethod
    def for_config(cls, cfg: HomeConfig, adapter: Zigbee2MqttAdapter,
                   monotonic: Callable[[], float]) -> NightLightLink | None:
        """None when nobody has a night light configured (the gateway then has no hook at all)."""
        return cls(cfg, adapter, monotonic) if any(p.actions.night_light for p in cfg.people) else None

    # --- wiring ------------------------------------------------------------------------------
    def attach(self, link: MqttLink, left_on: bytes | None, bed_states: Mapping[str, bool],
               remember: Callable[[bytes], None]) -> None:
        """At start: the link, what the last run left on (the store's :data:`STATE_KEY`), each bed's last
        stored state, and how to write the state with the next batch."""
        self._link, self._remember = link, remember
        self.controller.seed(bed_states)
        try:
            self._left_on = [k for k in json.loads(left_on) if isinstance(k, str)] if left_on else []
        except ValueError:
            log.error("night light: the remembered state is unreadable; nothing to switch off",
                      extra={"ctx": {"state": left_on[:80] if left_on else b""}})
        self._remembered = list(self._left_on)

    def name_of(self, key: str) -> str:
        """The light's name in zigbee2mqtt topics now."""
        name = self._configured_name.get(key)
        if name is not None:
            return name
        paired = {d.ieee_address: d.friendly_name for d in self._adapter.paired_devices()}
        return paired.get(key, key)

    def claims(self, topic: str, payload: bytes) -> bool:
        """True for a light's own report (taken here, not passed to the sensor adapter)."""
        if self._names_stale:  # the adapter has taken a bridge message since: names may have changed
            self._names_stale = False
            self._by_topic = {}
            for key in self.controller.lights:
                name = f"{self.base}/{self.name_of(key)}"
                self._by_topic[name], self._by_topic[f"{name}/availability"] = (key, False), (key, True)
        if topic.startswith(self._bridge):
            self._names_stale = True
            return False
        found = self._by_topic.get(topic)
        if found is None:
            return False
        on, available = _state_of(payload)
        self.controller.reported(found[0], self._monotonic(), on=on, available=available)
        return True

    def events(self, events: Iterable[SensorEvent], trusted: bool) -> None:
        """Sensor events as the gateway takes them (only the plans' beds matter)."""
        mono = self._monotonic()
        for e in events:
            if e.sensor_id in self.controller.beds:
                self._send(self.controller.on_event(e, mono, trusted))

    async def run(self) -> None:
        """The supervised task: once connected, switch off what a previous run left on; then the timers."""
        while True:
            mono = self._monotonic()
            if self._left_on and self._link is not None and self._link.connected and self._named(mono):
                log.warning("night light: switching off what Hearth left on before it restarted",
                            extra={"ctx": {"lights": ",".join(self._left_on)}})
                self._send(self.controller.at_start(self._left_on, mono))
                self._left_on = []
            self._send(self.controller.tick(mono))
            for key, at in list(self._off_pending.items()):
                if mono >= at:
                    self._send([LightCommand(key, False, None, "trying again")])
            await asyncio.sleep(self.poll_s)

    def _named(self, mono: float) -> bool:
        """Every light left on has its friendly name from bridge/devices (retained: it comes just after
        subscribing), or :data:`NAMES_WAIT_S` have passed since connecting (then its IEEE address, which
        zigbee2mqtt also takes, is used)."""
        if self._connected_at is None:
            self._connected_at = mono
        known = {d.ieee_address for d in self._adapter.paired_devices()}
        return (mono - self._connected_at >= NAMES_WAIT_S
                or all(k in known or self._configured_name.get(k) for k in self._left_on))

    # --- for technicians ---------------------------------------------------------------------
    def report(self) -> dict[str, object]:
        return {**self.controller.report(), "problems": self.controller.problems(),
                "off_pending": sorted(self._off_pending)}

    # --- inside ------------------------------------------------------------------------------
    def _send(self, commands: list[LightCommand]) -> None:
        for c in commands:
            topic = f"{self.base}/{self.name_of(c.light)}/set"
            link = self._link
            try:
                if link is None or not link.connected:
                    raise ConnectionError("the broker link is down")
                link.publish(topic, c.payload(), qos=1)
            except (ConnectionError, ValueError, OSError, RuntimeError) as exc:
                self.controller.failed(c.light, "publish_failed", f"could not send {topic}: {exc}")
                log.warning("night light: command not sent", extra={"ctx": {"topic": topic, "error": str(exc)}})
                if not c.on:  # a light must never be left on for want of a retry
                    self._off_pending[c.light] = self._monotonic() + RETRY_OFF_S
                continue
            self._off_pending.pop(c.light, None)
            log.info("night light %s: %s", "ON" if c.on else "OFF", c.why, extra={"ctx": {"topic": topic}})
        on = sorted(set(self.controller.owned()) | set(self._off_pending))
        if on != self._remembered:
            self._remembered = on
            self._remember(json.dumps(on).encode())
