"""The ``hearth`` command. Each subcommand lives in its own module under :mod:`gateway.commands`.

A command module defines ``register(subparsers)`` which adds its parser and sets ``func`` to a
function taking the parsed args and returning an exit code. Modules are found automatically, so a
new command is one new file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import gateway.commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description="Hearth home sensing gateway.")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO).")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="Log lines as text for people or JSON for log collectors.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(gateway.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"gateway.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from gateway.config import ConfigError
    from gateway.logs import setup_logging

    setup_logging(args.log_level, args.log_format)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:  # every command reports a bad config the same way: file, line, field
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
