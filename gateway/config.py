"""The home's YAML config: strict pydantic models, errors that name the file, the line and the field.

Every field has a description and a sensible default, so the minimal form in the README loads.
Secrets (broker password, BTHome bind keys) come from a file or an environment variable, or
inline as a last resort, and are held as ``SecretStr`` so they are never printed.

>>> cfg = parse_config_text('''
... timezone: Europe/London
... people: [{id: p1, name: Resident}]
... sensors: [{id: bed, kind: bed, room: bedroom, role: bed, person: p1}]
... ''', "home.yaml")
>>> cfg.sensors[0].zigbee.friendly_name
'bed'
"""

from __future__ import annotations

import grp
import ipaddress
import logging
import os
import re
import ssl
import stat
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from alerts.channels import SmtpSettings, read_secret
from alerts.config import ConsentConfig, DigestSchedule, EscalationConfig, RecipientConfig, check_references
from gateway.config_actions import ActionsConfig, action_errors
from routines.home import DEFAULT_NIGHT_HOURS, Home, Person, SensorInfo
from routines.sensor_kinds import SENSOR_KINDS, sensor_kind
from routines.settings import RoutineSettings
from sensors.events import SensorKind

log = logging.getLogger("hearth.config")

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_MAC = r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"
_IEEE = r"^0x[0-9a-fA-F]{16}$"
_HOURS = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"
# What each pattern means, for technicians: a raw regex in an error message helps nobody.
PATTERN_WORDS: dict[str, str] = {
    _ID: "an id is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit (e.g. p1, front_door)",
    _MAC: "a BLE MAC address is six pairs of hex digits joined by colons, e.g. A4:C1:38:12:34:56",
    _IEEE: "an IEEE address is 0x and 16 hex digits, as zigbee2mqtt shows it, e.g. 0x00158d0001a2b3c4",
    _HOURS: "hours are HH:MM-HH:MM in 24-hour local time, e.g. 23:30-06:30 (may wrap midnight)",
}


class ConfigError(Exception):
    """A config problem, worded for a technician: ``FILE:LINE: FIELD: what was expected``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _read_secret(value: SecretStr | None, file: Path | None, env: str | None, what: str) -> str | None:
    """A file or an environment variable first (the ways a secret should be given), inline last."""
    found = read_secret(file, env, what)
    return found if found is not None else (value.get_secret_value() if value is not None else None)


class PersonConfig(Strict):
    id: str = Field(pattern=_ID, description="Short stable id used everywhere else in this file (e.g. p1).")
    name: str = Field(min_length=1, description="What the team calls the person, used in explanations.")
    pronoun: Literal["she", "he", "they"] = Field("they", description="Pronoun used in explanations.")
    actions: ActionsConfig = Field(default_factory=ActionsConfig,
                                   description="What Hearth may do in the home for this person, with their "
                                               "agreement (night_light; see gateway/config_actions.py).")
    night_hours: str = Field(DEFAULT_NIGHT_HOURS, pattern=_HOURS,
                             description="HH:MM-HH:MM local time (may wrap midnight) when this person is "
                                         "normally asleep: the front door opening, and out of bed with no sign "
                                         "of life anywhere, alert in these hours from the first night, before "
                                         "anything is learned (learned sleep hours may only widen them). "
                                         f"Default {DEFAULT_NIGHT_HOURS}: the usual bed time to the usual earliest "
                                         "getting up of the recorded homes (python -m benchmarks.night_hours).")

    @field_validator("night_hours")
    @classmethod
    def _night_not_empty(cls, v: str) -> str:
        if v[:5] == v[6:]:
            raise ValueError("night hours start and end at the same time: give the hours the person sleeps")
        return v


class ZigbeeSource(Strict):
    friendly_name: str | None = Field(None, description="zigbee2mqtt friendly name (may be renamed later).")
    ieee_address: str | None = Field(None, pattern=_IEEE,
                                     description="Device IEEE address, e.g. 0x00158d0001a2b3c4; preferred key.")

    @model_validator(mode="after")
    def _one_key(self) -> ZigbeeSource:
        if self.friendly_name is None and self.ieee_address is None:
            raise ValueError("give friendly_name or ieee_address")
        return self


class BleSource(Strict):
    mac: str = Field(pattern=_MAC, description="BLE MAC address, e.g. A4:C1:38:12:34:56.")
    bindkey: SecretStr | None = Field(None, description="BTHome bind key (32 hex chars); prefer bindkey_file.")
    bindkey_file: Path | None = Field(None, description="File holding the BTHome bind key.")
    bindkey_env: str | None = Field(None, description="Environment variable holding the BTHome bind key.")

    def key_bytes(self) -> bytes | None:
        raw = _read_secret(self.bindkey, self.bindkey_file, self.bindkey_env, "bindkey")
        if raw is None:
            return None
        if not re.fullmatch(r"[0-9A-Fa-f]{32}", raw):
            raise ValueError("a BTHome bind key is 32 hexadecimal characters")
        return bytes.fromhex(raw)

    @model_validator(mode="after")
    def _key_ok(self) -> BleSource:
        self.key_bytes()
        return self


class PowerThresholds(Strict):
    on_above_w: float = Field(10.0, ge=0, description="Plug counts as ON above this many watts.")
    off_below_w: float = Field(5.0, ge=0, description="Plug counts as OFF again below this many watts.")

    @model_validator(mode="after")
    def _order(self) -> PowerThresholds:
        if self.off_below_w > self.on_above_w:
            raise ValueError("off_below_w must not exceed on_above_w (hysteresis)")
        return self


class SensorConfig(Strict):
    id: str = Field(pattern=_ID, description="Stable sensor id used in events, replays and alerts.")
    kind: SensorKind = Field(description="What it senses: " + ", ".join(list(SENSOR_KINDS)[:-1])
                             + f" or {list(SENSOR_KINDS)[-1]}.")
    room: str = Field(min_length=1, description="Free text room name (a room named kitchen counts as kitchen).")
    role: str = Field("activity", min_length=1,
                      description="What it watches: front_door, bed, fridge, kettle, toilet_flush, ... or free text.")
    person: str = Field(description="Id of the person (from people) whose routine this sensor tells about.")
    zigbee: ZigbeeSource | None = Field(None, description="zigbee2mqtt source; defaults to friendly name = id.")
    ble: BleSource | None = Field(None, description="BLE / BTHome source (MAC and optional bind key).")
    power: PowerThresholds = Field(default_factory=PowerThresholds,
                                   description="Plugs only: watts thresholds with hysteresis.")

    @field_validator("kind")
    @classmethod
    def _kind_known_to_core(cls, kind: SensorKind) -> SensorKind:
        sensor_kind(kind)  # a kind the routine core has no row for: refused here, naming it
        return kind

    @model_validator(mode="after")
    def _default_source(self) -> SensorConfig:
        if self.zigbee is None and self.ble is None:
            object.__setattr__(self, "zigbee", ZigbeeSource(friendly_name=self.id))
        return self


def _is_loopback(host: str) -> bool:
    """The Pi itself: a password sent there never crosses a network.

    >>> [_is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "192.168.1.20", "broker.lan")]
    [True, True, True, False, False]
    """
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NamedContext(ssl.SSLContext):
    """An SSL context that checks the broker's certificate against ``server_name``, not the host
    connected to (paho passes its host as the name, with no way to give another)."""

    server_name: str | None = None

    def wrap_socket(self, sock: Any, *args: Any, server_hostname: str | None = None, **kw: Any) -> Any:
        return super().wrap_socket(sock, *args, server_hostname=self.server_name or server_hostname, **kw)


class BrokerTls(Strict):
    ca_file: Path = Field(description="CA certificate (PEM) that signed the broker's certificate; the broker "
                                      "is trusted only if its certificate chains to it.")
    cert_file: Path | None = Field(None, description="Client certificate (PEM), for a broker that asks for one "
                                                     "(require_certificate true).")
    key_file: Path | None = Field(None, description="Private key of cert_file (PEM, unencrypted); keep it mode 0600.")
    server_name: str | None = Field(None, min_length=1,
                                    description="Name the broker's certificate must carry, when broker.host is not "
                                                "it (e.g. host is an IP address): e.g. broker.home.internal.")

    def context(self) -> ssl.SSLContext:
        """A verifying client context: the system's defaults (TLS 1.2+, hostname check, CERT_REQUIRED)
        with only ``ca_file`` trusted. There is deliberately no way to switch verification off."""
        ctx = _NamedContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.server_name = self.server_name
        ctx.load_verify_locations(cafile=self.ca_file)
        if self.cert_file is not None:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    @model_validator(mode="after")
    def _loads(self) -> BrokerTls:
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("key_file is given without cert_file: give both (the client certificate and its key)")
        for name in ("ca_file", "cert_file", "key_file"):  # at check-config time, not at 3am
            path = getattr(self, name)
            if path is not None and not os.access(path, os.R_OK):
                raise ValueError(f"{name}: cannot read {path} (no such file, or not readable by this user)")
        try:
            self.context()
        except ssl.SSLError as exc:
            raise ValueError(f"ca_file, cert_file and key_file must be PEM certificates / an unencrypted "
                             f"PEM key matching cert_file ({exc.reason or exc})") from None
        except OSError as exc:  # e.g. a folder named as a file
            raise ValueError(f"cannot read the certificate files: {exc.strerror or exc}") from None
        return self


class BrokerConfig(Strict):
    host: str = Field("127.0.0.1", description="MQTT broker host (mosquitto on the Pi itself by default).")
    port: int = Field(1883, ge=0, le=65535, description="MQTT broker port (0 = pick a free one, demo only).")
    username: str | None = Field(None, description="MQTT user name, if the broker needs one.")
    password: SecretStr | None = Field(None, description="MQTT password inline; prefer password_file.")
    password_file: Path | None = Field(None, description="File holding the MQTT password.")
    password_env: str | None = Field(None, description="Environment variable holding the MQTT password.")
    client_id: str = Field("hearth-gateway", description="MQTT client id; fixed so the persistent session resumes.")
    keepalive_s: int = Field(30, ge=5, le=600, description="MQTT keepalive in seconds.")
    tls: BrokerTls | None = Field(None, description="TLS for the broker link (needed for a broker on another "
                                                    "machine when a password is sent): ca_file, optional "
                                                    "cert_file / key_file, optional server_name.")
    allow_plaintext: bool = Field(False, description="Send the broker password without TLS to a broker that is "
                                                     "not on this Pi. Only on a network you fully trust.")

    def password_value(self) -> str | None:
        return _read_secret(self.password, self.password_file, self.password_env, "broker password")

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> BrokerConfig:
        has_password = any(v is not None for v in (self.password, self.password_file, self.password_env))
        if has_password and self.tls is None and not self.allow_plaintext and not _is_loopback(self.host):
            raise ValueError(
                f"a password for broker {self.host} (not this Pi) would cross the network in clear: add "
                "broker.tls (ca_file: the CA that signed the broker's certificate, and the broker's TLS port, "
                "usually 8883), or set broker.allow_plaintext: true on a network you fully trust")
        return self


class Zigbee2MqttConfig(Strict):
    base_topic: str = Field("zigbee2mqtt", min_length=1, description="zigbee2mqtt's base_topic.")


class BleConfig(Strict):
    enabled: bool = Field(True, description="Scan for BLE sensors when any sensor has a ble source.")
    adapter: str | None = Field(None, description="Bluetooth adapter, e.g. hci0 (default: the system's).")
    relay_topics: list[str] = Field(default_factory=list,
                                    description="MQTT topics where an ESP32 proxy forwards BTHome adverts.")


class StorageConfig(Strict):
    path: Path | None = Field(None, description="SQLite file (default: the user data dir or /var/lib/hearth).")
    retention_days: int = Field(90, ge=1, le=3650, description="Days of raw events kept before pruning.")


class ConsoleConfig(Strict):
    host: str = Field("127.0.0.1", description="Address the web console listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port of the web console (0 = any free port).")
    password_file: Path | None = Field(None, description="File holding a password the console asks for (any user "
                                                         "name); needed when host is not this Pi.")
    password_env: str | None = Field(None, description="Environment variable holding that password.")

    def password_value(self) -> str | None:
        return _read_secret(None, self.password_file, self.password_env, "console password")

    @model_validator(mode="after")
    def _no_open_console_on_a_network(self) -> ConsoleConfig:
        # the console has no accounts: on loopback, reaching it (SSH) is the authority; on the home's
        # network anyone there (a visitor's phone, a smart TV) could pause sharing, urgent alerts too
        if not _is_loopback(self.host) and self.password_file is None and self.password_env is None:
            raise ValueError(
                f"a console on {self.host} would let anyone on that network pause sharing about the person "
                "(urgent alerts too) and record alert outcomes: keep host 127.0.0.1 and reach it by SSH port "
                "forwarding, or give console.password_file (a file only the hearth user reads)")
        return self


class ClockConfig(Strict):
    require_sync: bool = Field(
        True, description="Judge lateness and silences only once the system clock is synchronised (NTP). "
                          "Set false only on a Pi with a battery-backed real-time clock and no network.")


class HomeConfig(Strict):
    name: str = Field("home", description="A name for this home, used in messages and topics.")
    timezone: str = Field(description="IANA timezone of the home, e.g. Europe/London.")
    people: list[PersonConfig] = Field(min_length=1, description="The person or people Hearth looks after.")
    sensors: list[SensorConfig] = Field(default_factory=list, description="Every sensor in the home.")
    broker: BrokerConfig = Field(default_factory=BrokerConfig, description="The local MQTT broker.")
    zigbee2mqtt: Zigbee2MqttConfig = Field(default_factory=Zigbee2MqttConfig, description="zigbee2mqtt settings.")
    ble: BleConfig = Field(default_factory=BleConfig, description="Bluetooth LE settings.")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="Where and how long data is kept.")
    console: ConsoleConfig = Field(default_factory=ConsoleConfig, description="The technicians' web console.")
    routines: RoutineSettings = Field(default_factory=RoutineSettings, description="Routine model tuning.")
    clock: ClockConfig = Field(default_factory=ClockConfig, description="When the system clock is trusted.")
    recipients: list[RecipientConfig] = Field(default_factory=list,
                                              description="Who may be told things: team, circle, technicians.")
    consent: list[ConsentConfig] = Field(default_factory=list,
                                         description="What each person agreed each recipient may receive.")
    escalation: EscalationConfig = Field(default_factory=EscalationConfig,
                                         description="Who is told next when nobody acknowledges in time.")
    smtp: SmtpSettings | None = Field(None, description="Outgoing email server, needed for email recipients.")
    digests: DigestSchedule = Field(default_factory=DigestSchedule,
                                    description="When the daily digest and the weekly trends note are sent.")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"an IANA timezone such as Europe/London, not {v!r}") from None
        return v

    @model_validator(mode="after")
    def _references(self) -> HomeConfig:
        # located errors (the item's own line), all at once, like alerts.config.check_references
        errors = _duplicates([p.id for p in self.people], "people", "person id")
        errors += _duplicates([s.id for s in self.sensors], "sensors", "sensor id")
        people = [p.id for p in self.people]
        errors += [_located(("sensors", i, "person"), s.person,
                            f"sensor {s.id!r}: person {s.person!r} is not one of people ({', '.join(people)})")
                   for i, s in enumerate(self.sensors) if s.person not in people]
        errors += action_errors(self)
        if errors:
            raise ValidationError.from_exception_data("HomeConfig", errors)
        check_references(self)
        return self

    def to_home(self) -> Home:
        return Home(
            timezone=self.timezone,
            name=self.name,
            people=tuple(Person(p.id, p.name, p.pronoun, p.night_hours) for p in self.people),
            sensors=tuple(SensorInfo(s.id, s.kind, s.room, s.role, s.person,
                                     s.power.on_above_w, s.power.off_below_w) for s in self.sensors),
        )


def _located(loc: tuple[Any, ...], value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)


def _duplicates(ids: list[str], where: str, what: str) -> list[InitErrorDetails]:
    """Each repeat, at its own line (the first one stands)."""
    seen: set[str] = set()
    out = []
    for n, i in enumerate(ids):
        if i in seen:
            out.append(_located((where, n, "id"), i, f"{what} {i!r} appears twice"))
        seen.add(i)
    return out


# ---- YAML with line numbers ---------------------------------------------------------------------

def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk a composed YAML node tree along a pydantic error location; return the 1-based line."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _readable_by_others(path: Path) -> str | None:
    """Who besides its owner may read a secret file, in words; None if nobody (or no such file).

    Group ``hearth`` is fine: install.sh gives secrets root:hearth 0640 so the gateway (user hearth)
    reads them and nobody else does."""
    try:
        st = path.stat()
    except OSError:
        return None  # a missing key file is the validator's business, not a warning's
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    who = ["every user"] if st.st_mode & stat.S_IROTH else []
    if st.st_mode & stat.S_IRGRP and group != "hearth":
        who.insert(0, f"group {group}")
    return " and ".join(who) if who else None


# sensors that do not show life about the home by themselves: a bed mat (in bed or not), the front door
# and the keys (there or not); anything else (motion, a plug, a chair, a kitchen or bathroom contact) does
_NOT_INDOOR_ROLES = frozenset({"front_door", "keys"})
_KIT_WORDS = {"front_door": "a front door", "keys": "a keys sensor"}  # by role; else a bed sensor


def _indoor_activity(s: SensorConfig) -> bool:
    return s.kind != SensorKind.BED and s.role not in _NOT_INDOOR_ROLES


def config_warnings(cfg: HomeConfig, filename: str, node: yaml.Node | None = None) -> list[str]:
    """Things that work but should not be so, e.g. a bind key file others can read. Never the key."""
    secrets: list[tuple[tuple[str | int, ...], Path | None, str]] = [  # (where, file, what its reader can do)
        (("sensors", i, "ble", "bindkey_file"), s.ble.bindkey_file, "forge this sensor's messages")
        for i, s in enumerate(cfg.sensors) if s.ble is not None]
    secrets.append((("console", "password_file"), cfg.console.password_file,
                    "use the console, and pause sharing about the person (urgent alerts too)"))
    out = []
    for i, person in enumerate(cfg.people):
        theirs = [s for s in cfg.sensors if s.person == person.id]
        if not any(_indoor_activity(s) for s in theirs):
            line = _line_of(node, ("people", i))
            kit = " and ".join(sorted({_KIT_WORDS.get(s.role, "a bed sensor") for s in theirs})) or "no sensor"
            out.append(f"{filename}:{line}: " if line else f"{filename}: ")
            out[-1] += (f"people[{i}]: warning: nothing shows {person.name} about the home (only {kit}): quiet "
                        "at home cannot be told from a fall, nor, with the front door alone, from going out "
                        "(recorded homes with such a kit raised 20-36 false alarms a month); add a motion sensor "
                        "in the living room or hall, or a kitchen plug or contact")
    for loc, key_file, harm in secrets:
        who = _readable_by_others(key_file) if key_file is not None else None
        if key_file is not None and who:
            mode = stat.S_IMODE(key_file.stat().st_mode)
            out.append(f"{filename}:{_line_of(node, loc)}: {_field_name(loc)}: warning: {key_file} can be read by "
                       f"{who} (mode {mode:04o}): anyone who reads it can {harm}; "
                       f"run: chmod 600 {key_file} (or chown root:hearth and chmod 640)")
    return out


def parse_config_text(text: str, filename: str = "<config>") -> HomeConfig:
    """Parse and validate YAML text; raise :class:`ConfigError` naming file, line and field."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark is not None else filename
        raise ConfigError([f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise ConfigError([f"{filename}: not a home config: nested too deeply to read"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{filename}:1: (top level): expected a mapping with timezone, people and sensors"])
    try:
        cfg = HomeConfig.model_validate(data)
        for warning in config_warnings(cfg, filename, node):  # check-config and the gateway log both show it
            log.warning("%s", warning)
        return cfg
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            line = _line_of(node, loc)
            where = f"{filename}:{line}" if line else filename
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field (check the spelling; see `hearth check-config --help`)"
            elif err["type"] == "missing":
                msg = "required field is missing"
            elif err["type"] == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") in PATTERN_WORDS:
                msg = f"{PATTERN_WORDS[err['ctx']['pattern']]}; got {err['input']!r}"
            elif "input" in err and err["type"] not in ("value_error",) and not isinstance(err["input"], dict):
                msg = f"{msg}; got {err['input']!r}"
            problems.append(f"{where}: {_field_name(loc)}: {msg}")
        raise ConfigError(problems) from None


def load_config(path: str | Path) -> HomeConfig:
    """Load a home config file. Raises :class:`ConfigError` (also for an unreadable file)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read config: {exc.strerror}"]) from None
    return parse_config_text(text, str(p))
