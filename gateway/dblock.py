"""One gateway per database: an exclusive ``flock`` on ``<db>.lock`` held for the gateway's life.

Two gateways on one database would both store every event (each is a broker client, and with the same
client id they also take the session from each other in turn), so the second one refuses to start and
says which process holds the home. ``flock`` is released by the kernel when the holder dies, even by
SIGKILL, so a crashed gateway never blocks its own restart.

>>> import tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "h.sqlite3"
>>> first = DatabaseLock.acquire(db)
>>> try:
...     DatabaseLock.acquire(db)
... except DatabaseInUseError as e:
...     "already using" in str(e)
True
>>> DatabaseLock.in_use(db)
True
>>> first.release()
>>> DatabaseLock.in_use(db)
False
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class DatabaseInUseError(RuntimeError):
    """Another gateway holds this database."""


class DatabaseLock:
    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    @classmethod
    def acquire(cls, db_path: Path) -> DatabaseLock:
        path = db_path.with_name(db_path.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = f" (process {int(os.pread(fd, 32, 0).decode().strip())})"
            os.close(fd)
            raise DatabaseInUseError(
                f"another Hearth gateway{holder} is already using {db_path}; stop it first "
                f"(systemctl stop hearth) or give this one its own database (--db)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    @staticmethod
    def in_use(db_path: Path) -> bool:
        """Does a running gateway hold this database? Creates nothing (a tool run as root must not leave
        a lock file the gateway's own user cannot open)."""
        path = db_path.with_name(db_path.name + ".lock")
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing releases a lock taken here
        return False

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1
