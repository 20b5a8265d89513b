"""``hearth check-config FILE``: validate a home's config and say exactly what is wrong."""

from __future__ import annotations

import argparse

from alerts.consent import shared_addresses
from gateway.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-config", help="Validate a home config file.",
                       description="Validate a home config; errors name the file, line, field and what was expected.")
    p.add_argument("file", help="The home's YAML config.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.file)
    kinds: dict[str, int] = {}
    for s in cfg.sensors:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no sensors"
    print(f"{args.file}: OK: {len(cfg.people)} person(s), {len(cfg.sensors)} sensor(s) ({summary}), timezone {cfg.timezone}")
    for address, ids in shared_addresses(cfg).items():
        # not an error (a couple may share an inbox), but each of them now gets only what all may see
        print(f"{args.file}: WARNING: recipients {', '.join(ids)} share one address ({address}): each of them "
              "can read what the others are sent, so each gets only what all of them may receive; "
              "give each their own address unless that is intended")
    return 0
