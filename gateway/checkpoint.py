"""The gateway's routine checkpoint: a versioned envelope around the routine engine's own bytes.

Format 2 (current)::

    b"HEARTH-CHECKPOINT\\n" + JSON header + b"\\n" + RoutineEngine.checkpoint() bytes
    header: {"format": 2, "last_event_id": 1234}

``last_event_id`` is the newest stored event the engine had seen when the checkpoint was taken, so a
restarted gateway gives the core every event stored after it (nothing learned is forgotten by a crash
between checkpoints). Format 1 is the bare engine blob earlier gateways wrote; :data:`MIGRATIONS` takes
any older format to the current one, one step at a time. A checkpoint from a newer Hearth is refused
(the caller keeps it aside and says so), never guessed at.

>>> ck = unpack(pack(b"HEARTH-ROUTINES\\x01...", last_event_id=42))
>>> ck.format, ck.last_event_id, ck.engine
(2, 42, b'HEARTH-ROUTINES\\x01...')
>>> unpack(b"HEARTH-ROUTINES\\x01old").last_event_id is None  # format 1: nothing to catch up from
True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

MAGIC = b"HEARTH-CHECKPOINT\n"
ENGINE_MAGIC_V1 = b"HEARTH-ROUTINES\x01"
FORMAT = 2


class CheckpointError(ValueError):
    """The bytes are not a checkpoint this gateway can read; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    format: int
    engine: bytes  # RoutineEngine.checkpoint() bytes
    last_event_id: int | None  # None: unknown (format 1), so no catch-up


def _v1_to_v2(ck: Checkpoint) -> Checkpoint:
    return Checkpoint(2, ck.engine, None)


# format N -> the same checkpoint in format N + 1
MIGRATIONS: dict[int, Callable[[Checkpoint], Checkpoint]] = {1: _v1_to_v2}


def pack(engine: bytes, last_event_id: int) -> bytes:
    header = json.dumps({"format": FORMAT, "last_event_id": int(last_event_id)}).encode()
    return MAGIC + header + b"\n" + engine


def _read(blob: bytes) -> Checkpoint:
    if blob.startswith(ENGINE_MAGIC_V1):
        return Checkpoint(1, blob, None)
    if not blob.startswith(MAGIC):
        raise CheckpointError("not a Hearth checkpoint")
    header_end = blob.find(b"\n", len(MAGIC))
    try:
        header = json.loads(blob[len(MAGIC):header_end])
        fmt = int(header["format"])
        last = header.get("last_event_id")
        last = None if last is None else int(last)
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"unreadable checkpoint header: {exc}") from None
    return Checkpoint(fmt, blob[header_end + 1:], last)


def unpack(blob: bytes) -> Checkpoint:
    """Any known format, migrated to the current one. Raises :class:`CheckpointError`."""
    ck = _read(blob)
    if ck.format > FORMAT:
        raise CheckpointError(f"checkpoint format {ck.format} was written by a newer Hearth "
                              f"(this one reads up to {FORMAT})")
    while ck.format < FORMAT:
        ck = MIGRATIONS[ck.format](ck)
    return ck
