"""The ``hearth`` command. Each subcommand lives in its own module under :mod:`gateway.commands`.

A command module defines ``register(subparsers)`` which adds its parser and sets ``func`` to a
function taking the parsed args and returning an exit code. Modules are found automatically, so a
new command is one new file.

Only the module of the command being run is imported (``backup`` -> ``gateway.commands.backup``, dashes
as underscores; a module may register more than one command, ``restore`` lives in ``backup``): the
others pull in aiohttp, the outbox and the notifiers, which ``hearth replay`` of a million events never
needs and should not wait for. ``hearth --help`` and a command no module is named after load them all.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import gateway.commands

GLOBAL_OPTIONS_WITH_VALUE = ("--log-level", "--log-format")  # options before the command that take a value


def command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(gateway.commands.__path__) if not m.name.startswith("_"))


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command word in ``argv`` (the first word that is neither an option nor an option's value).

    >>> chosen_command(["--log-level", "DEBUG", "replay", "--config", "x.yaml"])
    'replay'
    >>> chosen_command(["--log-format=json", "-h"]) is None
    True
    """
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``hearth`` parser with every command, or with only the one whose module is named ``only``."""
    parser = argparse.ArgumentParser(prog="hearth", description="Hearth home sensing gateway.")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO).")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="Log lines as text for people or JSON for log collectors.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        if only is None or name == only:
            importlib.import_module(f"gateway.commands.{name}").register(sub)
    return parser


def _parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    word = chosen_command(argv)
    module = word.replace("-", "_") if word else None
    if module in command_modules():
        parser = build_parser(module)
        if word in _commands(parser):  # the module did register this very command
            return parser
    return build_parser()


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    return {name for a in parser._actions if isinstance(a, argparse._SubParsersAction) for name in a.choices}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser_for(argv)
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
