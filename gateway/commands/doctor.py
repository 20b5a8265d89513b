"""``hearth doctor [--config FILE]``: check a gateway's broker, adapters, sensors, clock, disk and outbox.

One line per check, ``OK``, ``WARN`` or ``FAIL``, and for anything not OK what to do. Exit code 1
if any check FAILs, so scripts and the technician's checklist can rely on it. Example::

    OK   config      /etc/hearth/home.yaml: 1 person(s), 6 sensor(s)
    FAIL broker      cannot connect to 127.0.0.1:1883 (Connection refused) -> sudo systemctl status mosquitto
    WARN clock       not synchronised (kernel (adjtimex)) -> events are kept but not learned from until ...

Checks are a table (:data:`CHECKS`); each is a function of a :class:`Context` returning a :class:`Finding`.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.clock import TIMESYNC_FLAG, clock_status
from gateway.config import ConfigError, HomeConfig, load_config
from gateway.paths import database_path, default_config_dir

Status = Literal["OK", "WARN", "FAIL"]
SILENT_AFTER_S = 6 * 3600  # a sensor unheard for this long is worth a look
FREE_FAIL_MB, FREE_WARN_MB = 200, 1024


@dataclass(frozen=True, slots=True)
class Finding:
    status: Status
    detail: str
    fix: str = ""


@dataclass
class Places:
    """Where the hardware shows up; tests point these at their own folders."""

    bluetooth: Path = Path("/sys/class/bluetooth")
    serial_by_id: Path = Path("/dev/serial/by-id")
    timesync_flag: Path = TIMESYNC_FLAG


@dataclass
class Context:
    config_path: Path
    places: Places = field(default_factory=Places)
    config: HomeConfig | None = None
    config_problems: list[str] = field(default_factory=list)
    connect_timeout_s: float = 5.0

    def db_path(self) -> Path:
        return database_path(self.config.storage.path if self.config else None)


# ---- the checks --------------------------------------------------------------------------------

def check_config(ctx: Context) -> Finding:
    if ctx.config is None:
        first = ctx.config_problems[0] if ctx.config_problems else "not loaded"
        more = f" (+{len(ctx.config_problems) - 1} more)" if len(ctx.config_problems) > 1 else ""
        return Finding("FAIL", f"{first}{more}", f"hearth check-config {ctx.config_path}")
    cfg = ctx.config
    return Finding("OK", f"{ctx.config_path}: {len(cfg.people)} person(s), {len(cfg.sensors)} sensor(s)")


def check_broker(ctx: Context) -> Finding:
    cfg = ctx.config.broker if ctx.config else None
    host, port = (cfg.host, cfg.port) if cfg else ("127.0.0.1", 1883)
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=ctx.connect_timeout_s):
            pass
    except OSError as exc:
        return Finding("FAIL", f"cannot connect to {where} ({exc.strerror or exc})",
                       "sudo systemctl status mosquitto; check broker.host/port in the config")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hearth-doctor-{time.monotonic_ns() % 10**9}")
    client.connect_timeout = ctx.connect_timeout_s
    if cfg and cfg.username:
        try:
            password = cfg.password_value()
        except ValueError as exc:
            return Finding("FAIL", f"broker password: {exc}", "check broker.password_file in the config")
        client.username_pw_set(cfg.username, password)
    outcome: dict[str, object] = {}
    client.on_connect = lambda _c, _u, _f, rc, _p: outcome.setdefault("rc", rc)
    try:
        client.connect(host, port, keepalive=10)
        deadline = time.monotonic() + ctx.connect_timeout_s
        while "rc" not in outcome and time.monotonic() < deadline:
            client.loop(timeout=0.1)
    except OSError as exc:
        return Finding("FAIL", f"MQTT connect to {where} failed ({exc})", "sudo systemctl status mosquitto")
    finally:
        client.disconnect()
    rc = outcome.get("rc")
    if rc is None:
        return Finding("FAIL", f"{where} accepts TCP but gave no MQTT CONNACK", "is this port really mosquitto?")
    if getattr(rc, "is_failure", False):
        return Finding("FAIL", f"{where} refused the MQTT login ({rc})",
                       "the password in broker.password_file must match /etc/mosquitto/hearth.passwd "
                       "(re-run deploy/raspberrypi/install.sh)")
    return Finding("OK", f"MQTT {where} connected" + (f" as {cfg.username}" if cfg and cfg.username else ""))


def check_bluetooth(ctx: Context) -> Finding:
    adapters = sorted(p.name for p in ctx.places.bluetooth.glob("hci*")) if ctx.places.bluetooth.is_dir() else []
    wanted = bool(ctx.config and any(s.ble for s in ctx.config.sensors))
    relayed = bool(ctx.config and ctx.config.ble.relay_topics)
    if adapters:
        return Finding("OK", f"adapter {', '.join(adapters)}")
    if wanted and not relayed:
        return Finding("FAIL", "BLE sensors are configured but there is no Bluetooth adapter",
                       "sudo systemctl status bluetooth; on a Pi check `dtoverlay=disable-bt` is not in /boot/firmware/config.txt")
    return Finding("WARN", "no Bluetooth adapter", "only needed for BLE sensors; sudo systemctl status bluetooth")


def check_zigbee(ctx: Context) -> Finding:
    d = ctx.places.serial_by_id
    sticks = sorted(p.name for p in d.iterdir()) if d.is_dir() else []
    wanted = bool(ctx.config and any(s.zigbee for s in ctx.config.sensors))
    if sticks:
        return Finding("OK", f"coordinator {sticks[0]}" + (f" (+{len(sticks) - 1} more)" if len(sticks) > 1 else ""))
    fix = "plug the Zigbee USB coordinator in (on a short extension cable), then: sudo systemctl restart zigbee2mqtt"
    if wanted:
        return Finding("FAIL", f"Zigbee sensors are configured but no USB coordinator is in {d}", fix)
    return Finding("WARN", f"no Zigbee USB coordinator in {d}", fix)


def check_clock(ctx: Context) -> Finding:
    st = clock_status(ctx.places.timesync_flag, use_timedatectl=True)
    if st.synchronised:
        return Finding("OK", f"synchronised ({st.source})")
    state = "not synchronised" if st.synchronised is False else "unknown"
    return Finding("WARN", f"{state} ({st.source}: {st.detail})",
                   "events are kept but not learned from until it is; give the Pi network for NTP "
                   "(timedatectl timesync-status)")


def check_disk(ctx: Context) -> Finding:
    probe = ctx.db_path().parent
    while not probe.exists():
        probe = probe.parent
    free_mb = shutil.disk_usage(probe).free // 2**20
    fix = "free space: sudo apt-get clean; sudo journalctl --vacuum-size=50M; or move data to an SSD"
    if free_mb < FREE_FAIL_MB:
        return Finding("FAIL", f"{free_mb} MB free on {probe}", fix)
    if free_mb < FREE_WARN_MB:
        return Finding("WARN", f"{free_mb} MB free on {probe}", fix)
    return Finding("OK", f"{free_mb} MB free on {probe}")


def _open_ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)


def check_database(ctx: Context) -> Finding:
    db = ctx.db_path()
    if not db.exists():
        return Finding("WARN", f"{db} does not exist yet", "the gateway creates it on first start: sudo systemctl start hearth")
    try:
        con = _open_ro(db)
        try:
            ok = con.execute("PRAGMA quick_check").fetchone()[0]
            tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return Finding("FAIL", f"{db}: cannot read ({exc})",
                       "check it is owned by hearth (sudo chown hearth: FILE) or restore a backup (hearth restore)")
    if ok != "ok":
        return Finding("FAIL", f"{db}: damaged ({ok})", "restore the latest backup: hearth restore --from FILE --force")
    # files the gateway set aside (gateway/service.py): one it could not read, or its data kept beside
    # a file put over it while it ran; their history is not in the database the home runs on
    aside = sorted(p.name for pattern in (".corrupt-*", ".kept-*") for p in db.parent.glob(db.name + pattern)
                   if not p.name.endswith(("-wal", "-shm")))
    if aside:
        return Finding("WARN", f"{db}: readable, {tables} table(s); set aside beside it: {', '.join(aside)}",
                       "restore a backup (hearth restore) or rescue the set-aside file, then delete it")
    return Finding("OK", f"{db}: readable, {tables} table(s)")


OUTBOX_LATE_S = 15 * 60  # a message still unsent this long after it was due is worth a look
OUTBOX_REFUSED_WINDOW_S = 3 * 86400  # refusals older than this (and not since fixed) are history


def check_outbox(ctx: Context, now: float | None = None) -> Finding:
    """The outbox, read-only, per recipient channel: messages a receiver refused (FAIL, unless a later
    message to that address went through) and messages late in going out (WARN), with the last error."""
    return outbox_finding(ctx.db_path(), ctx.config, ctx.config_path, now)


def outbox_finding(db: Path, config: HomeConfig | None, config_path: Path | str = "FILE",
                   now: float | None = None) -> Finding:
    """:func:`check_outbox` for a database path (``hearth status`` uses it too)."""
    if config is not None and not config.recipients:
        return Finding("OK", "no recipients configured: nothing is sent")
    if not db.exists():
        return Finding("OK", "no outbox yet")
    now = time.time() if now is None else now
    try:
        con = _open_ro(db)
        try:
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'outbox_messages'").fetchone():
                return Finding("OK", "no outbox yet")
            # per address: the last refusal, the last success, and the oldest message overdue
            rows = con.execute(
                "SELECT recipient, channel,"
                " MAX(CASE WHEN state='failed' THEN created_at END),"
                " SUM(state='failed' AND created_at>=?),"
                " MAX(sent_at),"
                " MIN(CASE WHEN state IN ('pending','sending') AND deliver_at<=? THEN deliver_at END),"
                " SUM(state IN ('pending','sending') AND deliver_at<=?),"
                " (SELECT last_error FROM outbox_messages m2 WHERE m2.recipient=m.recipient AND m2.channel=m.channel"
                "  AND m2.last_error IS NOT NULL ORDER BY created_at DESC LIMIT 1)"
                " FROM outbox_messages m GROUP BY recipient, channel ORDER BY recipient, channel",
                (now - OUTBOX_REFUSED_WINDOW_S, now, now)).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return Finding("FAIL", f"{db}: cannot read the outbox ({exc})", "see the database check above")
    refused, late = [], []
    for rid, channel, last_failed, n_failed, last_sent, oldest_due, n_due, error in rows:
        where = f"{rid}/{channel}"
        if n_failed and (last_sent is None or last_sent < last_failed):
            refused.append(f"{where}: {n_failed} refused ({error})")
        elif oldest_due is not None and now - oldest_due > OUTBOX_LATE_S:
            late.append(f"{where}: {n_due} waiting, oldest {(now - oldest_due) / 60:.0f} min ({error or 'not tried'})")
    if refused:
        first = refused[0].split(":", 1)[0].split("/")[0]
        return Finding("FAIL", "; ".join(refused + late),
                       f"fix that address or its token/secret in the config, then: hearth send-test --config "
                       f"{config_path} --recipient {first}")
    if late:
        return Finding("WARN", "; ".join(late), "check the receiver is up and reachable from here; "
                       "messages are retried with backoff until they expire")
    return Finding("OK", f"{len(rows)} address(es), nothing refused or late")


_ID_COLUMNS = ("sensor_id", "sensor", "device")
# (column, seconds per unit for numbers): gateway/storage.py keeps device_health.last_seen_us
_TIME_COLUMNS = (("last_seen_us", 1e-6), ("last_seen", 1.0), ("time_us", 1e-6), ("time", 1.0), ("ts", 1.0))


def _as_epoch(value: object, scale: float = 1.0) -> float | None:
    if isinstance(value, int | float):
        return float(value) * scale
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()
    return None


def last_seen(db: Path) -> dict[str, float] | None:
    """Latest time per sensor from the database's health table (any table named like ``*health*``
    with a sensor id column and a time column), or ``None`` if there is no such table."""
    con = _open_ro(db)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%health%'")]
        for table in names:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            id_col = next((c for c in _ID_COLUMNS if c in cols), None)
            t_col, scale = next(((c, k) for c, k in _TIME_COLUMNS if c in cols), (None, 1.0))
            if id_col and t_col:
                seen: dict[str, float] = {}
                for sensor, raw in con.execute(f'SELECT "{id_col}", "{t_col}" FROM "{table}"'):
                    t = _as_epoch(raw, scale)
                    if t is not None and t > seen.get(str(sensor), float("-inf")):
                        seen[str(sensor)] = t
                return seen
        return None
    finally:
        con.close()


def check_sensors(ctx: Context, now: float | None = None) -> Finding:
    if ctx.config is None or not ctx.config.sensors:
        return Finding("WARN", "no sensors configured", "add the home's sensors to the config (docs/raspberrypi.md)")
    db = ctx.db_path()
    try:
        seen = last_seen(db) if db.exists() else None
    except sqlite3.Error as exc:
        return Finding("WARN", f"cannot read sensor health ({exc})", "see the database check")
    if seen is None:
        return Finding("WARN", "no sensor health recorded yet", "start the gateway and trigger each sensor once")
    now = time.time() if now is None else now
    never = [s.id for s in ctx.config.sensors if s.id not in seen]
    silent = [f"{s.id} ({(now - seen[s.id]) / 3600:.0f} h)" for s in ctx.config.sensors
              if s.id in seen and now - seen[s.id] > SILENT_AFTER_S]
    if never or silent:
        parts = ([f"never heard: {', '.join(never)}"] if never else []) + (
            [f"silent: {', '.join(silent)}"] if silent else [])
        return Finding("WARN", "; ".join(parts),
                       "trigger the sensor; check its battery and pairing in the zigbee2mqtt frontend")
    return Finding("OK", f"all {len(ctx.config.sensors)} sensor(s) heard within {SILENT_AFTER_S // 3600} h")


def check_gateway(ctx: Context) -> Finding:
    """What the running gateway last said of itself: tasks that died, input it failed on, a full hold."""
    from gateway.health import judge, read_health

    return Finding(*judge(read_health(ctx.db_path()), time.time()))


CHECKS: list[tuple[str, Callable[[Context], Finding]]] = [
    ("config", check_config),
    ("broker", check_broker),
    ("bluetooth", check_bluetooth),
    ("zigbee", check_zigbee),
    ("clock", check_clock),
    ("disk", check_disk),
    ("database", check_database),
    ("gateway", check_gateway),
    ("sensors", check_sensors),
    ("outbox", check_outbox),
]


def run_checks(ctx: Context) -> list[tuple[str, Finding]]:
    try:
        ctx.config = load_config(ctx.config_path)
    except ConfigError as exc:
        ctx.config_problems = exc.problems
    results = []
    for name, check in CHECKS:
        try:
            finding = check(ctx)
        except Exception as exc:  # noqa: BLE001 -- one broken check must not hide the others
            finding = Finding("FAIL", f"check crashed: {type(exc).__name__}: {exc}", "report this as a Hearth bug")
        results.append((name, finding))
    return results


def format_line(name: str, f: Finding) -> str:
    line = f"{f.status:<4} {name:<10} {f.detail}"
    return f"{line} -> {f.fix}" if f.fix and f.status != "OK" else line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="Check broker, adapters, sensors, clock and disk; say what to fix.",
                       description="Check this gateway; exit code 1 if anything FAILs.")
    p.add_argument("--config", type=Path, default=default_config_dir() / "home.yaml",
                   help="The home's YAML config (default: /etc/hearth/home.yaml).")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    results = run_checks(Context(args.config))
    for name, finding in results:
        print(format_line(name, finding))
    return 1 if any(f.status == "FAIL" for _, f in results) else 0
