"""``hearth hub ...``: the wellbeing team's hub (the package ``hub``; this module only parses arguments).

    hearth hub run --db hub.db --port 8090 --broker 127.0.0.1:1883
    hearth hub user add --db hub.db sam --role worker            # prints a one-time password
    hearth hub user password --db hub.db sam                     # a new one; sam's sessions end
    hearth hub user remove --db hub.db sam                       # the account and its sessions gone
    hearth hub broker-config --dir /etc/hearth-hub/mosquitto --port 8883 --cert ... --key ...
    hearth hub add-home --dir /etc/hearth-hub/mosquitto ann-home --host hub.example.org
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any


def _broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"HOST:PORT, such as 127.0.0.1:1883, not {text!r}")
    return host, int(port)


def register(sub: Any) -> None:
    p = sub.add_parser("hub", help="The wellbeing team's hub: every home on one screen (see `hearth hub -h`).")
    hs = p.add_subparsers(dest="hub_command", metavar="HUB_COMMAND")
    run = hs.add_parser("run", help="Run the hub: uplink intake and web pages.")
    run.add_argument("--config", type=Path, help="hub.yaml (everything else); flags below override it.")
    run.add_argument("--db", type=Path, help="SQLite file of the hub.")
    run.add_argument("--database-url", help="postgresql://... instead of SQLite.")
    run.add_argument("--port", type=int, help="Web port (default 8090).")
    run.add_argument("--host", help="Address to listen on (default 127.0.0.1).")
    run.add_argument("--broker", type=_broker, help="The team's broker as HOST:PORT.")
    run.add_argument("--client-id", help="This process's MQTT client id (each hub process needs its own).")
    run.add_argument("--share-group", help="Split the uplink with the other hub processes of this group "
                                           "(MQTT shared subscription; with PostgreSQL).")
    run.set_defaults(func=_run)

    user = hs.add_parser("user", help="Accounts.").add_subparsers(dest="user_command", metavar="USER_COMMAND")
    add = user.add_parser("add", help="Add an account; prints a one-time password (or reads one from stdin).")
    add.add_argument("--db", type=Path, help="SQLite file of the hub (or --database-url).")
    add.add_argument("--database-url", help="postgresql://... instead of --db.")
    add.add_argument("name", help="The account's name (as colleagues know them).")
    add.add_argument("--role", choices=("worker", "circle", "technician"), required=True)
    add.add_argument("--home", help="For a Circle member: the home whose person they are close to.")
    add.add_argument("--recipient", help="For a Circle member: their recipient id in that home's config.")
    add.add_argument("--team-home", action="append", default=None, dest="team",
                     help="For a worker: a home of their team (repeat); without it, every home on this hub.")
    add.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")
    add.set_defaults(func=_user_add)
    pw = user.add_parser("password", help="A new one-time password for an account (or read from stdin); "
                                          "every session of it ends.")
    rm = user.add_parser("remove", help="Remove an account; every session of it ends.")
    for sp, func in ((pw, _user_password), (rm, _user_remove)):
        sp.add_argument("--db", type=Path, help="SQLite file of the hub (or --database-url).")
        sp.add_argument("--database-url", help="postgresql://... instead of --db.")
        sp.add_argument("name", help="The account's name.")
        sp.set_defaults(func=func)
    pw.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")

    bc = hs.add_parser("broker-config", help="Write the team broker's mosquitto config, ACL and hub account.")
    bc.add_argument("--dir", type=Path, required=True, help="Directory for mosquitto.conf, passwd and acl.")
    bc.add_argument("--port", type=int, default=8883)
    bc.add_argument("--listen", default="0.0.0.0", help="Address the broker listens on.")
    bc.add_argument("--cert", type=Path, help="TLS certificate (with --key); without, no TLS (tests only).")
    bc.add_argument("--key", type=Path)
    bc.add_argument("--prefix", default="hearth")
    bc.set_defaults(func=_broker_config)

    ah = hs.add_parser("add-home", help="Give a gateway its broker account; print its config snippet.")
    ah.add_argument("--dir", type=Path, required=True, help="The broker-config directory.")
    ah.add_argument("home", help="The home's name (its config's `name`).")
    ah.add_argument("--host", required=True, help="The broker's name as gateways reach it.")
    ah.add_argument("--port", type=int, default=8883)
    ah.add_argument("--prefix", default="hearth")
    ah.add_argument("--no-tls", action="store_true", help="Plain MQTT (a broker on the same LAN only).")
    ah.add_argument("--person", action="append", default=[], help="A person's id in that home (repeat).")
    ah.set_defaults(func=_add_home)
    p.set_defaults(func=lambda _a: (p.print_help(), 2)[1])


def _run(args: argparse.Namespace) -> int:
    from hub.config import HubBroker, HubConfig, load
    from hub.service import serve

    cfg = load(args.config) if args.config else HubConfig()
    over: dict[str, Any] = {}
    if args.db:
        over["database"] = args.db
    if args.database_url:
        over["database_url"] = args.database_url
    if args.port is not None:
        over["port"] = args.port
    if args.host:
        over["host"] = args.host
    broker: dict[str, Any] = {}
    if args.broker:
        broker |= {"host": args.broker[0], "port": args.broker[1]}
    if args.client_id:
        broker["client_id"] = args.client_id
    if args.share_group:
        broker["share_group"] = args.share_group
    if broker:  # validated like the file's own fields
        over["broker"] = HubBroker.model_validate(cfg.broker.model_dump() | broker)
    cfg = cfg.model_copy(update=over)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(cfg, stop)

    asyncio.run(main())
    return 0


def _user_add(args: argparse.Namespace) -> int:
    from hub import auth, store
    from hub.db import connect

    if not (args.db or args.database_url):
        print("give --db PATH (SQLite) or --database-url postgresql://...", file=sys.stderr)
        return 2
    if args.password_stdin:
        password, shown = sys.stdin.readline().rstrip("\n"), False
    else:
        password, shown = secrets.token_urlsafe(12), True
    db = connect(args.database_url or args.db)
    store.create(db)
    try:
        auth.add_user(db, args.name, args.role, password, time.time(), args.home, args.recipient, args.team)
    except ValueError as exc:
        print(f"not added: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(f"added {args.role} {args.name}" + (f"; one-time password: {password}" if shown else ""))
    return 0


def _on_account(args: argparse.Namespace, change: Any, done: str) -> int:
    """Run ``change(db)`` on the hub's database; print ``done`` or why not."""
    from hub import store
    from hub.db import connect

    if not (args.db or args.database_url):
        print("give --db PATH (SQLite) or --database-url postgresql://...", file=sys.stderr)
        return 2
    db = connect(args.database_url or args.db)
    store.create(db)
    try:
        change(db)
    except ValueError as exc:
        print(f"not changed: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(done)
    return 0


def _user_password(args: argparse.Namespace) -> int:
    from hub import auth

    if args.password_stdin:
        password, shown = sys.stdin.readline().rstrip("\n"), False
    else:
        password, shown = secrets.token_urlsafe(12), True
    return _on_account(args, lambda db: auth.set_password(db, args.name, password),
                       f"new password for {args.name}, every session of it ended"
                       + (f"; one-time password: {password}" if shown else ""))


def _user_remove(args: argparse.Namespace) -> int:
    from hub import auth

    return _on_account(args, lambda db: auth.remove_user(db, args.name),
                       f"removed {args.name}, every session of it ended")


def _broker_config(args: argparse.Namespace) -> int:
    from hub.broker import HUB_USER, BrokerFiles

    if (args.cert is None) != (args.key is None):
        print("give --cert and --key together", file=sys.stderr)
        return 2
    password = BrokerFiles(args.dir, args.prefix).write_config(args.port, host=args.listen, certfile=args.cert,
                                                               keyfile=args.key)
    print(f"wrote {args.dir}/mosquitto.conf, passwd and acl. The hub's broker account: {HUB_USER} / {password}\n"
          "Put that password in the hub's password_file; then `hearth hub add-home` for each gateway.")
    return 0


def _add_home(args: argparse.Namespace) -> int:
    from hub.broker import BrokerFiles, gateway_snippet

    try:
        password = BrokerFiles(args.dir, args.prefix).add_home(args.home)
    except (ValueError, RuntimeError) as exc:
        print(f"not added: {exc}", file=sys.stderr)
        return 1
    print(gateway_snippet(args.home, password, host=args.host, port=args.port, prefix=args.prefix,
                          tls=not args.no_tls, people=args.person))
    print("# then: systemctl reload mosquitto (it re-reads the passwords and the ACL)")
    return 0
