"""The parts the reliability scenarios are built from: a real `hearth run` subprocess, a real mosquitto,
a QoS 1 publisher playing zigbee2mqtt, a webhook receiver that records every delivery with its
idempotency key, and read-only looks into the gateway's SQLite file.

Only public seams are used: the CLI, MQTT, HTTP, the JSON log on stderr and the database read-only.
The gateway is never reached into.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import paho.mqtt.client as mqtt
import yaml

from gateway.broker import free_port
from tests.conftest import Mosquitto

__all__ = ["Mosquitto", "free_port"]
REPO = Path(__file__).resolve().parent.parent
SECRET = "reliability-webhook-secret-4f9c2a"  # scanned for by the privacy scenario: it must never show up


@dataclass(frozen=True)
class Row:
    """One figure of the table: ``ok`` is whether ``value`` meets ``target``."""

    scenario: str
    figure: str
    value: str
    target: str
    ok: bool


def wait_until(pred: Callable[[], object], within: float, step: float = 0.05) -> bool:
    """Poll ``pred`` until true or ``within`` seconds pass; says which (a scenario reports, never asserts)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


def wait_settled(count: Callable[[], int], target: int, stall_s: float) -> int:
    """Wait until ``count()`` reaches ``target`` or stops moving for ``stall_s`` s; return the last count.
    A condition with a no-progress limit, so a slow machine only waits longer, never fails early."""
    last, since = count(), time.monotonic()
    while last < target and time.monotonic() - since < stall_s:
        time.sleep(0.2)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
    return last


# --- the home's config ------------------------------------------------------------------------------
ROLES = ("fridge", "cupboard", "wardrobe", "bathroom_door")  # contacts with no night rule of their own


def webhook_channel(url: str, secret_file: Path) -> dict[str, Any]:
    """The one place the receivers' channel config is written (plain http on loopback; if plaintext
    needs an explicit opt-in field one day, it goes here)."""
    return {"url": url, "secret_file": str(secret_file), "timeout_s": 2}


def sensor_name(home: int, role: str) -> str:
    return f"h{home:03d}/{role}"


def home_config(port: int, client_id: str, homes: int, hook_url: str | None, workdir: Path,
                console_port: int = 0) -> dict[str, Any]:
    """``homes`` people, four contact sensors each, in one gateway; a technician and a care worker
    who receive over a signed webhook."""
    people = [{"id": f"p{h:03d}", "name": f"Resident {h:03d}"} for h in range(homes)]
    sensors = [{"id": f"s{h:03d}{role[:3]}", "kind": "contact", "room": "kitchen", "role": role,
                "person": f"p{h:03d}", "zigbee": {"friendly_name": sensor_name(h, role)}}
               for h in range(homes) for role in ROLES]
    cfg: dict[str, Any] = {
        "name": "reliability", "timezone": "UTC", "people": people, "sensors": sensors,
        "broker": {"host": "127.0.0.1", "port": port, "client_id": client_id},
        "console": {"port": console_port or free_port()},
        "clock": {"require_sync": False},  # this machine's clock says "not synchronised"
    }
    if hook_url is not None:
        secret_file = workdir / "hook.secret"
        secret_file.write_text(SECRET)
        secret_file.chmod(0o600)
        hook = webhook_channel(hook_url, secret_file)
        cfg["recipients"] = [
            {"id": "tech", "name": "Tess the technician", "group": "technical", "webhook": hook},
            {"id": "sam", "name": "Sam Okafor", "group": "team", "webhook": hook},
        ]
        cfg["consent"] = [{"person": p["id"], "recipient": r, "receives": cats}
                          for p in people for r, cats in (("tech", ["technical"]),
                                                          ("sam", ["urgent", "concern"]))]
        cfg["escalation"] = {"technical": ["tech"], "urgent": ["sam"]}
    return cfg


# --- the gateway process ------------------------------------------------------------------------------
class GatewayProc:
    """`hearth run` as a child process, its JSON log read on a thread (kept whole, for the privacy scan)."""

    def __init__(self, workdir: Path, cfg: dict[str, Any]):
        self.workdir = workdir
        self.cfg = cfg
        self.config = workdir / "home.yaml"
        self.db = workdir / "hearth.sqlite3"
        self.alerts_out = workdir / "alerts.jsonl"
        self.config.write_text(yaml.safe_dump(cfg))
        self.proc: subprocess.Popen[bytes] | None = None
        self.lines: list[dict[str, Any]] = []
        self.raw_log = bytearray()
        self._new: queue.Queue[dict[str, Any]] = queue.Queue()
        self.starts = 0

    @property
    def console(self) -> str:
        return f"http://127.0.0.1:{self.cfg['console']['port']}"

    def start(self, wait_subscribed: bool = True) -> None:
        cmd = [sys.executable, "-m", "gateway.cli", "--log-format", "json", "run", "--config", str(self.config),
               "--db", str(self.db), "--alerts-out", str(self.alerts_out)]
        self.proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=REPO,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.starts += 1
        self._new = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stderr, self._new), daemon=True).start()
        if wait_subscribed:
            self.wait_log(lambda line: line.get("msg") == "subscribed", within=60)

    def _read(self, stream: IO[bytes], into: queue.Queue[dict[str, Any]]) -> None:
        for raw in iter(stream.readline, b""):
            self.raw_log += raw
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                self.lines.append(line)
                into.put(line)

    def wait_log(self, pred: Callable[[dict[str, Any]], object], within: float = 30.0) -> bool:
        deadline = time.monotonic() + within
        while True:
            try:
                line = self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if pred(line):
                return True

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as on a power cut or an OOM kill."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kb(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


# --- the database, read only ------------------------------------------------------------------------
def _ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def stored_events(db: Path) -> list[tuple[str, bool]]:
    if not db.exists():
        return []
    con = _ro(db)
    try:
        return [(s, bool(v)) for s, v in con.execute("SELECT sensor_id, value FROM events ORDER BY id")]
    except sqlite3.OperationalError:  # the schema is not there yet
        return []
    finally:
        con.close()


def count_events(db: Path) -> int:
    if not db.exists():
        return 0
    con = _ro(db)
    try:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def stored_alert_keys(db: Path) -> list[str]:
    if not db.exists():
        return []
    con = _ro(db)
    try:
        return [k for (k,) in con.execute("SELECT key FROM alerts ORDER BY id")]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def jsonl_alert_keys(path: Path) -> list[str]:
    """Alert keys the core raised, from ``--alerts-out`` (appended before delivery is attempted)."""
    if not path.exists():
        return []
    keys = []
    for line in path.read_text().splitlines():
        try:
            keys.append(json.loads(line)["key"])
        except (ValueError, KeyError):
            continue  # a line cut short by a kill
    return keys


# --- zigbee2mqtt, played ------------------------------------------------------------------------------
def contact_payload(open_: bool, battery: int = 91) -> bytes:
    """An Aqara door contact's real zigbee2mqtt message (``contact`` is true when closed), with the
    ``last_seen`` stamp the shipped zigbee2mqtt config adds (``advanced: last_seen: ISO_8601``)."""
    seen = datetime.now(UTC).isoformat(timespec="microseconds")
    return json.dumps({"battery": battery, "contact": not open_, "device_temperature": 21, "linkquality": 120,
                       "voltage": 3005, "last_seen": seen}).encode()


class Publisher:
    """A persistent-session QoS 1 publisher: paho keeps (and resends) what the broker has not acknowledged,
    so everything it was given reaches the broker, across broker restarts."""

    def __init__(self, port: int, client_id: str):
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.c.max_queued_messages_set(0)
        self.c.max_inflight_messages_set(100)
        self.c.reconnect_delay_set(0.1, 1)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.sent: dict[str, list[bool]] = {}  # sensor friendly name -> values published, in order
        self.sent_at: dict[str, float] = {}  # friendly name -> monotonic time of its low-battery message

    def contact(self, name: str, battery: int = 91) -> None:
        values = self.sent.setdefault(name, [])
        value = not values[-1] if values else True
        values.append(value)
        if battery <= 5:
            self.sent_at[name] = time.monotonic()
        self.infos.append(self.c.publish(f"zigbee2mqtt/{name}", contact_payload(value, battery), qos=1))

    @property
    def published(self) -> int:
        return sum(len(v) for v in self.sent.values())

    def acked(self) -> int:
        return sum(i.is_published() for i in self.infos)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


# --- a webhook receiver -----------------------------------------------------------------------------
@dataclass
class Delivery:
    at: float  # monotonic
    idempotency_key: str
    body: dict[str, Any]


@dataclass
class Receiver:
    """A webhook receiver on loopback. ``answer`` says what to do with each request: an HTTP status, or
    ``"hang"`` (hold the request open until :meth:`close`, as a receiver gone away behind a proxy).
    Answered-2xx requests are the deliveries; every request is in ``requests``."""

    answer: Callable[[dict[str, Any]], int | str] = lambda body: 200
    deliveries: list[Delivery] = field(default_factory=list)
    requests: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._released = threading.Event()
        rx = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"raw": raw.decode(errors="replace")}
                d = Delivery(time.monotonic(), self.headers.get("Idempotency-Key") or "", body)
                rx.requests.append(d)
                what = rx.answer(body)
                if what == "hang":
                    rx._released.wait()
                    return
                if 200 <= int(what) < 300:
                    rx.deliveries.append(d)
                self.send_response(int(what))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys_by_alert(self) -> dict[tuple[str, str], set[str]]:
        """(alert key, recipient) -> the distinct idempotency keys it was delivered under."""
        out: dict[tuple[str, str], set[str]] = {}
        for d in self.deliveries:
            if d.body.get("alert_key"):
                out.setdefault((d.body["alert_key"], d.body.get("recipient", "")), set()).add(d.idempotency_key)
        return out

    def close(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()
