"""Reading a routine checkpoint back: only Hearth's own state classes, and old class names mapped to new.

A checkpoint is a pickle of the engine's state (``RoutineEngine.checkpoint``). Two things can go wrong
with a plain ``pickle.loads``: a class renamed or moved since the checkpoint was written makes the whole
load fail (and the person's learned routine would be lost), and a checkpoint from a backup archive could
name any importable callable. So loading goes through :class:`CheckpointUnpickler`:

- :data:`RENAMED` maps ``(old module, old name)`` to where the class lives now. **When you rename or move
  a class that is stored in a checkpoint, add a line here** (tests/test_checkpoint.py proves one);
- anything outside :data:`ALLOWED_MODULES` / :data:`ALLOWED_BUILTINS` is refused with an
  ``UnpicklingError`` naming it.

>>> import pickle, collections
>>> loads(pickle.dumps(collections.deque([1, 2], maxlen=3)))
deque([1, 2], maxlen=3)
>>> loads(pickle.dumps(print))
Traceback (most recent call last):
...
_pickle.UnpicklingError: a routine checkpoint may not hold builtins.print
"""

from __future__ import annotations

import io
import pickle
from typing import Any

# (old module, old class name) -> (new module, new class name)
RENAMED: dict[tuple[str, str], tuple[str, str]] = {
    # e.g. ("routines.models", "QuietSpellModel"): ("routines.models", "SilenceModel"),
}
# module prefixes whose classes may be rebuilt (the engine's state, numpy arrays and the standard types)
ALLOWED_MODULES = ("routines.", "sensors.plug", "sensors.events", "collections", "datetime", "zoneinfo",
                   "numpy", "copyreg")
ALLOWED_BUILTINS = frozenset({"getattr", "set", "frozenset", "complex", "slice", "range", "bytearray", "object"})
ALLOWED_NAMES = frozenset({("_codecs", "encode")})  # how pickle protocol 2 writes bytes


class CheckpointUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        module, name = RENAMED.get((module, name), (module, name))
        allowed = (name in ALLOWED_BUILTINS) if module in ("builtins", "__builtin__") else (
            (module.startswith(ALLOWED_MODULES) and not name.startswith("_"))
            or module.startswith("numpy") or module == "copyreg" or (module, name) in ALLOWED_NAMES)
        if not allowed:
            raise pickle.UnpicklingError(f"a routine checkpoint may not hold {module}.{name}")
        return super().find_class(module, name)


def loads(data: bytes) -> Any:
    return CheckpointUnpickler(io.BytesIO(data)).load()
