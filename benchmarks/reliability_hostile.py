"""Hostile input: every parser's public entry point fed seeded mutations of real payloads and a table
of known-nasty values; and the web console driven from another origin.

A *crash* is an exception escaping a parser other than the one it documents for bad input (a running
gateway has no guard above the adapters, so there it ends the consuming task). Inputs are seeded, so a
crash found is a crash reproduced.
"""

from __future__ import annotations

import io
import json
import logging
import random
import sqlite3
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.reliability_rig import REPO, GatewayProc, Mosquitto, Receiver, Row, home_config, wait_until

FIXTURES = REPO / "tests" / "fixtures"
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
# values that have ended tasks before (issue 12 item 1 and 12), put into every field of every seed
NASTY: tuple[object, ...] = (float("nan"), float("inf"), -float("inf"), 10**400, -2000, None, "", "x" * 5000, [],
                             {}, True, -1, 2**64, "NaN", "\u0000", [[[[[]]]]])
RAW_NASTY = (b"", b"{", b"null", b"[]", b"NaN", b'{"rssi": NaN}', b'{"a": 1e400}', b"[" * 2000 + b"]" * 2000,
             b'{"a":' * 2000 + b"1" + b"}" * 2000, b"\xff\xfe", "\u00e9".encode("latin-1"), b"1" * 400)


def _mutations(seeds: list[dict], rng: random.Random, n: int) -> list[bytes]:
    """Each seed with each field set to each nasty value, then random byte flips, then raw oddities."""
    out: list[bytes] = list(RAW_NASTY)
    for seed in seeds:
        for key in seed:
            for bad in NASTY:
                out.append(json.dumps({**seed, key: bad}).encode())  # NaN/Infinity: Python's json allows them
    for _ in range(n):
        raw = bytearray(json.dumps(rng.choice(seeds)).encode())
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        out.append(bytes(raw))
    return out


def _count(inputs: list[bytes], call: Callable[[bytes], object], allowed: tuple[type[BaseException], ...] = ()
           ) -> tuple[int, str]:
    logging.disable(logging.CRITICAL)  # each rejection is logged once per kind: noise here, not a figure
    try:
        return _run(inputs, call, allowed)
    finally:
        logging.disable(logging.NOTSET)


def _run(inputs: list[bytes], call: Callable[[bytes], object], allowed: tuple[type[BaseException], ...]
         ) -> tuple[int, str]:
    crashes, first = 0, ""
    for raw in inputs:
        try:
            call(raw)
        except allowed:
            pass
        except Exception as exc:  # noqa: BLE001 (what is counted: any escape is a crash)
            crashes += 1
            first = first or f"{type(exc).__name__}: {str(exc)[:60]} on {raw[:40]!r}"
    return crashes, first


def _rows(name: str, tried: int, crashes: int, first: str) -> list[Row]:
    return [Row(f"hostile input: {name}", "inputs tried / crashes", f"{tried} / {crashes}", "0 crashes",
                crashes == 0)] + ([Row(f"hostile input: {name}", "first crash", first, "none", False)] if first else [])


def zigbee2mqtt(n: int = 2000, seed: int = 1) -> list[Row]:
    from sensors.zigbee2mqtt import Zigbee2MqttAdapter, ZigbeeBinding

    seeds = [json.loads(p.read_text()) for p in sorted((FIXTURES / "zigbee2mqtt").glob("*.json"))]
    seeds = [s for s in seeds if isinstance(s, dict)]
    adapter = Zigbee2MqttAdapter([ZigbeeBinding("door", "contact", "hall/door", None, 500, 100),
                                  ZigbeeBinding("kettle", "plug", "kitchen/kettle", None, 500, 100)], "zigbee2mqtt")
    inputs = _mutations(seeds, random.Random(seed), n)
    topics = ("zigbee2mqtt/hall/door", "zigbee2mqtt/kitchen/kettle", "zigbee2mqtt/bridge/devices",
              "zigbee2mqtt/hall/door/availability", "zigbee2mqtt/bridge/event")
    tried = [(t, raw) for raw in inputs for t in topics]
    crashes, first = _count([t.encode() + b"\x00" + raw for t, raw in tried],
                            lambda b: adapter.handle(b.split(b"\x00", 1)[0].decode(), b.split(b"\x00", 1)[1], NOW))
    return _rows("zigbee2mqtt adapter", len(tried), crashes, first)


def ble_relay(n: int = 2000, seed: int = 1) -> list[Row]:
    from sensors.ble import BleDecoder
    from sensors.ble_relay import BleRelay

    seeds = [{"id": "A4:C1:38:8D:18:B2", "rssi": -70, "servicedata": "402d01", "servicedatauuid": "0xfcd2"},
             {"mac": "A4:C1:38:8D:18:B2", "rssi": -70, "uuid": "fcd2", "data": "402d01"},
             {"addr": "a4:c1:38:8d:18:b2", "rssi": -70, "data": [64, 45, 1]}]
    relay = BleRelay(BleDecoder([]), ["home/+/BTtoMQTT/#"])
    inputs = _mutations(seeds, random.Random(seed), n)
    crashes, first = _count(inputs, lambda raw: relay.handle("home/OMG/BTtoMQTT/A4C1388D18B2", raw, NOW, 1.0))
    return _rows("BLE relay (OpenMQTTGateway, ESPHome, Shelly)", len(inputs), crashes, first)


def bthome(n: int = 5000, seed: int = 1) -> list[Row]:
    from sensors.bthome import BTHomeError, parse_service_data

    vectors = json.loads((FIXTURES / "bthome" / "vectors.json").read_text())
    seeds = [bytes.fromhex(v["hex"]) for group in vectors.values() if isinstance(group, list)
             for v in group if isinstance(v, dict) and v.get("hex")]
    rng = random.Random(seed)
    inputs = [b"", b"\x40", b"\x41" + b"\x00" * 30, bytes(range(256))]
    for _ in range(n):
        raw = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        inputs.append(bytes(raw[: rng.randint(0, len(raw))]) if rng.random() < 0.2 else bytes(raw))
    crashes, first = _count(inputs, lambda raw: parse_service_data(raw, "A4:C1:38:8D:18:B2", b"\x00" * 16),
                            (BTHomeError,))
    return _rows("BTHome service data", len(inputs), crashes, first)


def events_csv(n: int = 1000, seed: int = 1) -> list[Row]:
    from gateway.config import parse_config_text
    from sensors.replay import read_rows

    home = parse_config_text("timezone: UTC\npeople: [{id: p1, name: A}]\nsensors:\n"
                             "  - {id: door, kind: contact, room: hall, role: front_door, person: p1}\n"
                             "  - {id: kettle, kind: plug, room: kitchen, role: kettle, person: p1}\n").to_home()
    rng = random.Random(seed)
    good = "time,sensor,value\n2026-01-05T08:00:00+00:00,door,1\n2026-01-05T08:01:00,kettle,2000\n"
    inputs = [good, "", "\ufeff" + good, "time,sensor,value\n" + "9" * 400 + ",door,1\n",
              "time,sensor,value\n9999-12-31T23:59:59,door,1\n", "time,sensor,value\n2026-01-05,door,nan\n",
              "time,sensor,value\n2026-01-05,kettle,-2000\n", "a,b\n" * 100, '"' * 1000]
    for _ in range(n):
        text = list(good)
        for _ in range(rng.randint(1, 5)):
            text[rng.randrange(len(text))] = chr(rng.choice([0, 10, 13, 34, 44, 48, 57, 0xFFFF, rng.randrange(32, 127)]))
        inputs.append("".join(text))
    crashes, first = _count([t.encode() for t in inputs],
                            lambda raw: list(read_rows(io.StringIO(raw.decode()), home, lambda _n, _r: None)))
    return _rows("replay CSV", len(inputs), crashes, first)


def config(n: int = 500, seed: int = 1) -> list[Row]:
    from gateway.config import ConfigError, parse_config_text

    base = (REPO / "firmware_configs" / "hearth-example.yaml").read_text()
    rng = random.Random(seed)
    inputs = [base, "", "[]", "null", "a: [", "timezone: Nowhere/None\npeople: []\nsensors: []\n", "x: &a [*a]",
              "a: " + "[" * 500 + "]" * 500, base.replace("people:", "people: 1e400\npeoplex:")]
    for _ in range(n):
        lines = base.splitlines()
        i = rng.randrange(len(lines))
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)] + rng.choice([": ", "{", "- ", "nan", "1e400", "", "\t"])
        inputs.append("\n".join(lines))
    crashes, first = _count([t.encode() for t in inputs], lambda raw: parse_config_text(raw.decode(), "home.yaml"),
                            (ConfigError,))
    return _rows("home config (YAML)", len(inputs), crashes, first)


def console_other_origin() -> list[Row]:
    """A page on another site POSTs to the console in the technician's browser (``text/plain``, a
    "simple" request the browser sends without asking), and a DNS-rebinding Host header asks for the
    page. State changes are counted in the database's pause and outcome tables, read only."""
    work = Path(tempfile.mkdtemp(prefix="hearth-rel-console-"))
    broker = Mosquitto(work / "broker")
    broker.start()
    rx = Receiver()
    gw = GatewayProc(work, home_config(broker.port, "rel-console", 1, rx.url, work))
    try:
        gw.start()
        wait_until(lambda: _get(gw.console + "/api/status", {}) == 200, within=20)
        before = _state(gw.db)
        evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
        posts = [("/api/pause", {"person": "p000", "hours": 720}), ("/api/pause", {"person": "p000", "end": True}),
                 ("/api/alerts/outcome", {"key": "p000:battery_low:x", "outcome": "false_alarm", "by": "evil"})]
        accepted = sum(_post(gw.console + path, body, evil) < 300 for path, body in posts)
        changed = sum(a != b for a, b in zip(before, _state(gw.db), strict=True))
        rebinding = _get(gw.console + "/", {"Host": "evil.example"})
    finally:
        gw.stop()
        rx.close()
        broker.stop()
    name = "console from another origin"
    return [Row(name, "cross-origin POSTs accepted", f"{accepted} of {len(posts)}", "0", accepted == 0),
            Row(name, "state changes (pauses, outcomes)", str(changed), "0", changed == 0),
            Row(name, "foreign Host header served", "yes" if rebinding == 200 else f"no ({rebinding})", "no",
                rebinding != 200)]


def _state(db: Path) -> tuple[int, ...]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return tuple(con.execute(q).fetchone()[0] for q in (
            "SELECT count(*) || '/' || coalesce(max(end_at), '') FROM pause_periods",
            "SELECT count(*) FROM alert_outcomes"))
    finally:
        con.close()


def _post(url: str, body: dict, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _get(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def backup_archive(n: int = 300, seed: int = 1) -> list[Row]:
    """`hearth restore` on damaged and hostile archives: a real backup with bytes flipped, cut short, or
    its manifest's names changed (``..``, absolute, backslashes, other folders). Only its documented
    refusal (:class:`BackupError`) may come out, and nothing may be written outside the two folders."""
    import hashlib
    import tarfile

    from gateway.commands.backup import BackupError, make_backup, restore
    from gateway.storage import Store

    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="hearth-rel-backup-"))
    conf_dir, data_dir = work / "etc" / "hearth", work / "lib" / "hearth"
    conf_dir.mkdir(parents=True)
    data_dir.mkdir(parents=True)
    config = conf_dir / "home.yaml"
    config.write_text((REPO / "deploy" / "raspberrypi" / "home.example.yaml").read_text())
    Store(data_dir / "hearth.sqlite3").close()
    good = work / "good.tar.gz"
    make_backup(config, data_dir / "hearth.sqlite3", good)
    raw = good.read_bytes()
    with tarfile.open(good) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    manifest_name = next(k for k in members if k.endswith("manifest.json"))
    evil_names = ["config/../escape/x", "/etc/cron.d/x", "config\\..\\x", "data/../../x", "config//x", "other/x",
                  "config/./x", "data/" + "a/" * 200 + "x", "config/\x00x"]
    inputs: list[bytes] = []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # bytes flipped in the compressed archive
            b = bytearray(raw)
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            inputs.append(bytes(b))
        elif kind == 1:  # cut short
            inputs.append(raw[:rng.randrange(len(raw))])
        else:  # a well-formed archive whose manifest (with matching sums) names a file outside its folders
            manifest = json.loads(members[manifest_name])
            name = rng.choice(evil_names)
            body = b"* * * * * root touch /tmp/pwned\n"
            manifest["files"][name] = hashlib.sha256(body).hexdigest()
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                for mname, data in [*members.items(), (manifest_name.rsplit("/", 1)[0] + "/" + name, body)]:
                    data = json.dumps(manifest).encode() if mname == manifest_name else data
                    info = tarfile.TarInfo(mname)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            inputs.append(buf.getvalue())
    target = work / "restore"
    escaped = 0

    def call(blob: bytes) -> None:
        nonlocal escaped
        archive = work / "in.tar.gz"
        archive.write_bytes(blob)
        try:
            restore(archive, target / "etc", target / "lib", force=True)
        finally:
            escaped += sum(1 for p in work.rglob("*") if p.name in ("x", "pwned") and target not in p.parents)

    crashes, first = _count(inputs, call, (BackupError,))
    rows = _rows("backup archive (hearth restore)", len(inputs), crashes, first)
    return [*rows, Row("hostile input: backup archive (hearth restore)", "files written outside its folders",
                       str(escaped), "0", escaped == 0)]


def parsers(n: int = 2000) -> list[Row]:
    return [*zigbee2mqtt(n), *ble_relay(n), *bthome(n), *events_csv(n // 2), *config(n // 4),
            *backup_archive(max(30, n // 10))]
