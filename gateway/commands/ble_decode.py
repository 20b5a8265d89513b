"""``hearth ble-decode --data HEX [--mac MAC] [--key KEY]``: what a BTHome sensor is saying.

A technician's tool: paste the service data (from ``bluetoothctl``, nRF Connect, an ESP32 proxy's
MQTT message or a log) and see the decoded readings. ``--data`` may also be the whole AD element
(``0A16D2FC40...``) or start with the UUID bytes ``D2FC``. Exits 1 with the reason when the bytes
cannot be decoded, 2 for unusable arguments. Prefer ``--key-file`` to ``--key``: a key typed on the
command line stays in the shell history.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from sensors.bthome import REASONS, BTHomeError, Reading, parse_service_data

# How to say a binary reading aloud (BTHome: 1 = the first word).
BINARY_WORDS: dict[str, tuple[str, str]] = {
    "opening": ("open", "closed"), "door": ("open", "closed"), "window": ("open", "closed"),
    "garage_door": ("open", "closed"), "occupancy": ("occupied", "clear"), "motion": ("detected", "clear"),
    "moving": ("moving", "still"), "presence": ("home", "away"), "wet": ("wet", "dry"),
    "power_on": ("on", "off"), "battery_low": ("low", "normal"), "tamper": ("tampered", "ok"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ble-decode", help="Decode a BTHome v2 advertisement (service data in hex).",
                       description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("--data", required=True, help="BTHome service data in hex, e.g. 402d01.")
    p.add_argument("--mac", help="The sensor's MAC address (needed to decrypt), e.g. 54:48:E6:8F:80:A5.")
    key = p.add_mutually_exclusive_group()
    key.add_argument("--key", help="The 32-hex-digit BTHome bind key, for encrypted sensors.")
    key.add_argument("--key-file", type=Path, help="A file holding the bind key.")
    p.set_defaults(func=run)


def service_data_from_hex(text: str) -> bytes:
    """Hex (spaces, colons and a 0x prefix allowed) -> BTHome service data, UUID / AD header removed."""
    cleaned = re.sub(r"[\s:.-]", "", text).removeprefix("0x").removeprefix("0X")
    raw = bytes.fromhex(cleaned)
    if len(raw) >= 4 and raw[1] == 0x16 and raw[2:4] == b"\xd2\xfc":  # whole AD element: len, type, UUID
        return raw[4:1 + raw[0]]
    if raw[:2] == b"\xd2\xfc":  # a BTHome device-info byte never starts with 0xd2 (version 6)
        return raw[2:]
    return raw


def describe(r: Reading) -> str:
    if isinstance(r.value, bool):
        words = BINARY_WORDS.get(r.name, ("on", "off"))
        return f"{r.name}: {words[0] if r.value else words[1]}"
    if r.value is None:
        return f"{r.name}: (no event)"
    return f"{r.name}: {r.value}{' ' + r.unit if r.unit else ''}"


def run(args: argparse.Namespace) -> int:
    try:
        data = service_data_from_hex(args.data)
    except ValueError:
        print(f"ble-decode: --data is not hexadecimal: {args.data[:60]!r}", file=sys.stderr)
        return 2
    key_text = args.key
    if args.key_file is not None:
        try:
            key_text = args.key_file.read_text().strip()
        except OSError as exc:
            print(f"ble-decode: cannot read {args.key_file}: {exc.strerror}", file=sys.stderr)
            return 2
    key = None
    if key_text is not None:
        if not re.fullmatch(r"[0-9A-Fa-f]{32}", key_text):
            print("ble-decode: a BTHome bind key is 32 hexadecimal characters", file=sys.stderr)
            return 2
        key = bytes.fromhex(key_text)
    try:
        packet = parse_service_data(data, args.mac, key)
    except BTHomeError as exc:
        print(f"ble-decode: cannot decode: {exc.reason}: {exc.detail} ({REASONS[exc.reason]})", file=sys.stderr)
        return 1
    head = "BTHome v2, " + (f"encrypted (counter {packet.counter})" if packet.encrypted else "not encrypted")
    if packet.trigger_based:
        head += ", sends only on events"
    if packet.mac:
        head += f", MAC {packet.mac}"
    print(head)
    for r in packet.readings:
        print(f"  {describe(r)}")
    if packet.stopped_at is not None:
        print(f"  (stopped at unknown object id 0x{packet.stopped_at:02x}; later objects not decoded)")
    return 0
