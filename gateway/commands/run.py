"""``hearth run``: run the gateway for a home, or the demo home when no config is given."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
import tempfile
from datetime import datetime, time
from importlib.resources import files
from pathlib import Path
from typing import Any

from gateway.config import HomeConfig, load_config, parse_config_text
from gateway.paths import database_path
from gateway.timebase import Clock, ScaledClock

log = logging.getLogger("hearth.run")
RELOAD = -1  # _main's answer when SIGHUP asked for a reload on a config that loads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="Run the gateway (the demo home when no --config is given).",
                       description="Run the gateway. With no --config, runs a simulated demo home on a local "
                                   "broker with a temporary database, sped up so events flow within seconds.")
    p.add_argument("--config", help="The home's YAML config. Omit to run the demo home.")
    p.add_argument("--db", help="SQLite file (default: storage.path from the config, or the data dir).")
    p.add_argument("--alerts-out", help="Also append each alert as a JSON line to this file.")
    p.add_argument("--speed", type=float, default=720.0,
                   help="Demo only: how many times faster than real time the demo home lives (default 720: "
                        "a day in two minutes).")
    p.add_argument("--for-seconds", type=float, default=None, help="Stop after this many real seconds.")
    p.add_argument("--with-hub", action="store_true",
                   help="Demo only: three simulated homes feeding the wellbeing team's hub (scripts/demo.sh).")
    p.set_defaults(func=run)


def demo_config() -> HomeConfig:
    text = files("gateway").joinpath("demo_home.yaml").read_text(encoding="utf-8")
    return parse_config_text(text, "demo_home.yaml (embedded)")


async def _main(args: argparse.Namespace) -> int:
    from gateway.broker import LocalBroker
    from gateway.dblock import DatabaseInUseError
    from gateway.demo import run_demo_home
    from gateway.service import Gateway

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    broker: LocalBroker | None = None
    if args.config:
        cfg = load_config(args.config)
        db = Path(args.db) if args.db else database_path(cfg.storage.path)
        gw = Gateway(cfg, db, Clock(), alerts_jsonl=Path(args.alerts_out) if args.alerts_out else None)
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGHUP, _hangup, args.config, gw, stop)
    else:
        from gateway.demo_inbox import DemoInbox, pick_port, with_demo_recipients

        cfg = demo_config()
        broker = LocalBroker()
        await broker.start()
        tmp = Path(tempfile.mkdtemp(prefix="hearth-demo-"))
        db = Path(args.db) if args.db else tmp / "hearth.sqlite3"
        tz = cfg.to_home().tz
        start = datetime.combine(datetime.now(tz).date(), time(6, 50), tz)
        clock = ScaledClock(start, args.speed)
        # demo recipients, reached by a real signed webhook to the console's inbox
        secret_file = tmp / "inbox-webhook.secret"
        secret_file.write_text(secrets.token_hex(32), encoding="utf-8")
        secret_file.chmod(0o600)
        port = pick_port(cfg.console.host, cfg.console.port)
        inbox_url = f"http://{cfg.console.host}:{port}/inbox"
        cfg = with_demo_recipients(cfg, f"{inbox_url}/hook", secret_file)
        if args.with_hub:
            from gateway.demo_hub import with_hub

            cfg = with_hub(cfg, broker.host, broker.port)
        gw = Gateway(cfg, db, clock, broker_host=broker.host, broker_port=broker.port,
                     alerts_jsonl=Path(args.alerts_out) if args.alerts_out else tmp / "alerts.jsonl",
                     console_port=port)
        gw.demo_inbox = DemoInbox(tmp / "inbox", secret_file.read_text(encoding="utf-8").encode(), clock=clock,
                                  tz=tz, names={r.id: r.name for r in cfg.recipients},
                                  outbox_path=db)
        gw.extra_tasks.append(lambda: run_demo_home(broker.host, broker.port, clock, tz,
                                                    cfg.zigbee2mqtt.base_topic, ready=gw.subscribed))
        print(f"Hearth demo: a simulated home ({', '.join(s.id for s in cfg.sensors)}) on a local "
              f"{'broker'} at {broker.host}:{broker.port}, {args.speed:g}x real time.\n"
              f"  database: {db}\n  alerts:   {gw.alerts_jsonl}\n"
              f"  console:  http://{cfg.console.host}:{port}/"
              + (f"  (port {cfg.console.port} is in use by another program, so {port} instead)\n"
                 if port != cfg.console.port else "\n") +
              f"  inbox:    {inbox_url}  (what Sam of the team and Jo, Ann's daughter, were sent)\n"
              "  Ctrl-C to stop. Events appear below within seconds; day 4 brings a 'not up' alert.",
              file=sys.stderr, flush=True)
    others: list[Any] = []
    if args.with_hub and not args.config:
        others = await _start_hub_demo(args, broker, clock, tmp, stop)
    if args.for_seconds:
        loop.call_later(args.for_seconds, stop.set)
    try:
        await asyncio.gather(gw.run(stop), *others)
    except DatabaseInUseError as exc:
        print(f"hearth run: {exc}", file=sys.stderr)
        return 1
    finally:
        if broker is not None:
            await broker.stop()
    if gw.db_lost:  # written back (gateway/service.py): exit 1 so systemd starts it again on that file
        print(f"hearth run: the database file was {gw.db_lost} while running; stopped to keep its data",
              file=sys.stderr)
        return 1
    return RELOAD if gw.reloading else 0


def _hangup(path: str, gw: Any, stop: asyncio.Event) -> None:
    """SIGHUP (``systemctl reload hearth``): reload the config, but only one that loads. A broken one
    is refused aloud and the gateway runs on as it is. (Unhandled, SIGHUP ended the process, and
    systemd does not restart a service a SIGHUP ended: monitoring stopped.)"""
    from gateway.config import ConfigError

    try:
        load_config(path)
    except ConfigError as exc:
        gw.config_problem = (f"config {path} was not reloaded, the gateway runs on as it started: "
                             + "; ".join(exc.problems[:3]) + (" ..." if len(exc.problems) > 3 else ""))
        log.error("%s", gw.config_problem)
        return
    gw.config_problem = None
    gw.reloading = True
    log.warning("reloading: stopping to start again on the config as it is now",
                extra={"ctx": {"config": path}})
    stop.set()


async def _start_hub_demo(args: argparse.Namespace, broker: Any, clock: Any, tmp: Path,
                          stop: asyncio.Event) -> list[Any]:
    """Two more simulated homes and the hub; returns what to run alongside Ann's gateway."""
    from gateway.demo import run_demo_home
    from gateway.demo_hub import HUB_PORT, OTHER_HOMES, hub_config, make_accounts, other_home, with_hub
    from gateway.demo_inbox import pick_port
    from gateway.service import Gateway
    from hub.service import serve

    runs: list[Any] = []
    names = []
    for name, person, base, seed, not_up_day in OTHER_HOMES:
        cfg = with_hub(other_home(demo_config(), name, person, base), broker.host, broker.port)
        gw = Gateway(cfg, tmp / f"{name}.sqlite3", clock, broker_host=broker.host, broker_port=broker.port,
                     alerts_jsonl=tmp / f"{name}-alerts.jsonl", console_port=0)
        home_tz = cfg.to_home().tz
        gw.extra_tasks.append(lambda b=base, s=seed, n=not_up_day, tz=home_tz, g=gw:
                              run_demo_home(broker.host, broker.port, clock, tz, b, s, n, ready=g.subscribed))
        runs.append(gw.run(stop))
        names.append(f"{person} ({name})")
    hub_db = tmp / "hub.db"
    accounts = make_accounts(hub_db)
    port = pick_port("127.0.0.1", HUB_PORT)
    runs.append(serve(hub_config(hub_db, port, broker.host, broker.port), stop))
    moved = f"  (port {HUB_PORT} is in use by another program, so {port} instead)" if port != HUB_PORT else ""
    print(f"  hub:      http://127.0.0.1:{port}/{moved}\n"
          f"            three homes: Ann (demo-home), {', '.join(names)}; sign in as\n"
          + "".join(f"            {a.name} / {a.password}   ({a.role})\n" for a in accounts),
          file=sys.stderr, flush=True)
    return runs


def run(args: argparse.Namespace) -> int:
    code = asyncio.run(_main(args))  # a bad config is reported by gateway.cli: file, line, field
    if code == RELOAD:  # everything is stored and closed: start again as this same process (same PID)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, sys.orig_argv)
    return code
