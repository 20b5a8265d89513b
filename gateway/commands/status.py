"""``hearth status``: what the gateway has stored about devices, rejected input and alerts.

Reads the SQLite file (safe while the gateway runs: WAL lets readers in). For technicians on SSH.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gateway.commands.doctor import outbox_finding
from gateway.config import load_config
from gateway.health import judge, read_health
from gateway.paths import database_path
from gateway.storage import Store
from gateway.storage_errors import StorageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="Show device health, rejected input and recent alerts from the database.")
    p.add_argument("--config", help="The home's YAML config (to find the database and list silent sensors).")
    p.add_argument("--db", help="The SQLite file (default: from the config, or the data dir).")
    p.add_argument("--alerts", type=int, default=10, help="How many recent alerts to show (default 10).")
    p.set_defaults(func=run)


def _t(t: object) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t is not None else "never"  # type: ignore[attr-defined]


def _print_learning(store: Store, cfg: object) -> None:
    """Per person and check, how far the routine is learned: the same words the console and the uplink
    show (routines.learning through RoutineEngine.status), read from the gateway's checkpoint."""
    from gateway.checkpoint import unpack
    from gateway.service import STATE_KEY
    from routines.engine import RoutineEngine

    blob = store.load_state(STATE_KEY)
    try:
        engine = (RoutineEngine.restore(cfg.to_home(), unpack(blob).engine, cfg.routines)  # type: ignore[attr-defined]
                  if blob else RoutineEngine(cfg.to_home(), cfg.routines))  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - status must still print the rest
        print(f"Learning: the learned routines could not be read ({exc})")
        return
    print("Learning" + ("" if blob else " (nothing learned yet: the gateway has not saved its routines)") + ":")
    for pid, st in engine.status().items():
        print(f"  {st['name']} ({pid}), starting limits from prior {st['prior'] or 'none'}:")
        for c in st["checks"]:
            print(f"    {c['watches']:<28} {c['words']}")


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config) if args.config else None
    db = Path(args.db) if args.db else database_path(cfg.storage.path if cfg else None)
    if not db.exists():
        print(f"no database at {db}: has the gateway run yet? (hearth run --config FILE)", file=sys.stderr)
        return 1
    try:
        store = Store(db)
    except StorageError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    try:
        health = {h.sensor_id: h for h in store.health()}
        ids = [s.id for s in cfg.sensors] if cfg else sorted(health)
        print(f"Devices ({db}):")
        print(f"  {'sensor':<16} {'last seen':<17} {'online':<8} {'battery':<8} link")
        for sid in ids:
            h = health.get(sid)
            online = "?" if h is None or h.available is None else ("yes" if h.available else "OFFLINE")
            battery = f"{h.battery:.0f}%" if h is not None and h.battery is not None else "-"
            link = f"{h.linkquality:.0f}" if h is not None and h.linkquality is not None else "-"
            print(f"  {sid:<16} {_t(h.last_seen if h else None):<17} {online:<8} {battery:<8} {link}")
        health = read_health(db)
        state, what, fix = judge(health, time.time())
        print(f"Gateway: {state} {what}" + (f" -> {fix}" if fix else ""))
        for name, t in ((health or {}).get("tasks") or {}).items():
            if t.get("restarts"):
                print(f"  task {name}: {t['state']}, restarted {t['restarts']}x, last {t.get('last_error_at')}: "
                      f"{t.get('last_error')}")
        outbox = outbox_finding(db, cfg, args.config or "FILE")
        print(f"Outbox: {outbox.status} {outbox.detail}" + (f" -> {outbox.fix}" if outbox.fix else ""))
        untrusted = store.count_clock_untrusted()
        if untrusted:
            print(f"Events kept while the clock was not synchronised (stored, never judged): {untrusted}")
        rejections = store.rejections()
        print(f"Rejected input ({sum(r.count for r in rejections)} in all):")
        for r in sorted(rejections, key=lambda r: -r.count):
            print(f"  {r.count:>7}  {r.source}/{r.reason}  {r.device or '-'}  last {_t(r.last)}: {r.last_detail[:80]}")
        if cfg is not None:
            _print_learning(store, cfg)
        alerts = store.alerts()[-args.alerts:]
        print(f"Recent alerts ({len(alerts)} shown):")
        for a in alerts:
            print(f"  {_t(a.time)}  {a.severity:<7} {a.kind:<16} {a.message}")
        night_light = (health or {}).get("night_light")  # gateway/night_light.py: lights, never care alerts
        for key, light in ((night_light or {}).get("lights") or {}).items():
            c = light.get("counts") or {}
            print(f"Night light {key}: switched on {c.get('switched_on', 0)}x, off {c.get('switched_off', 0)}x"
                  + (", OFFLINE" if light.get("available") is False else "")
                  + (f"; last problem: {light['last_problem']}" if light.get("last_problem") else ""))
    finally:
        store.close()
    return 0
