"""``hearth send-test --config FILE --recipient ID``: a test message on each of a recipient's channels.

What a technician runs at installation: one plain test message (no information about the person) goes out
on every channel configured for that recipient; the result is printed per channel, and the exit code is
non-zero if any channel failed (1), or if the config or recipient is wrong (2).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

from alerts.notifiers import build_notifiers, close_notifiers
from alerts.notifiers.base import DeliveryResult, OutgoingMessage
from gateway.config import ConfigError, HomeConfig, load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("send-test", help="Send a test message on each of a recipient's channels.",
                       description="Send a test message on each channel of one recipient and print the result "
                                   "per channel; exits 1 if a channel failed.")
    p.add_argument("--config", required=True, help="The home's YAML config.")
    p.add_argument("--recipient", required=True, help="Recipient id (from recipients in the config).")
    p.add_argument("--timeout", type=float, default=15.0, help="Seconds to wait per channel (default 15).")
    p.set_defaults(func=run)


def test_message(cfg: HomeConfig, recipient_id: str, channel: str) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=f"send-test/{recipient_id}/{channel}/{uuid.uuid4().hex[:12]}",
        recipient=recipient_id, channel=channel, category="technical",
        title=f"Hearth test message ({cfg.name})",
        body=f"This is a test from Hearth at {cfg.name}, sent by the installer. "
             f"If you can read this, {channel} works. No action is needed.",
        priority="default", tags=("white_check_mark",))


async def send_all(cfg: HomeConfig, recipient_id: str, timeout_s: float) -> list[tuple[str, DeliveryResult, float]]:
    recipient = next(r for r in cfg.recipients if r.id == recipient_id)
    notifiers = build_notifiers(home=cfg.name, smtp=cfg.smtp, timeout_s=timeout_s)

    async def one(channel: str) -> tuple[str, DeliveryResult, float]:
        t0 = time.monotonic()
        try:
            result = await asyncio.wait_for(notifiers[channel].send(test_message(cfg, recipient_id, channel),
                                                                    recipient), timeout_s + 5)
        except TimeoutError:
            result = DeliveryResult.failed(f"no result within {timeout_s + 5:g} s", retryable=True)
        return channel, result, time.monotonic() - t0

    try:
        return list(await asyncio.gather(*(one(c) for c in recipient.channels)))
    finally:
        await close_notifiers(notifiers)


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    ids = [r.id for r in cfg.recipients]
    if args.recipient not in ids:
        known = ", ".join(ids) or "none configured"
        print(f"{args.config}: no recipient {args.recipient!r} (recipients: {known})", file=sys.stderr)
        return 2
    results = asyncio.run(send_all(cfg, args.recipient, args.timeout))
    for channel, result, took in results:
        status = "OK" if result.ok else ("FAILED (may be temporary)" if result.retryable else "FAILED")
        ref = f" [{result.remote_id}]" if result.ok and result.remote_id else ""
        print(f"{channel:<8} {status}: {result.detail}{ref} ({took:.1f} s)")
    failed = [c for c, r, _ in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} channel(s) OK for {args.recipient}"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
