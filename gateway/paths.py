"""Where Hearth keeps its data and config by default, on a Pi under systemd and on a laptop.

Order for the data dir: systemd's ``$STATE_DIRECTORY`` (set by ``StateDirectory=hearth`` in
hearth.service), else ``/var/lib/hearth`` if this user may write there (install.sh creates it,
owned by the ``hearth`` user), else the XDG user data dir (``~/.local/share/hearth``).

>>> default_data_dir({"STATE_DIRECTORY": "/var/lib/hearth:/var/lib/other"})
PosixPath('/var/lib/hearth')
>>> default_data_dir({"XDG_DATA_HOME": "/home/ann/.data"}, system_dir=Path("/nonexistent/hearth"))
PosixPath('/home/ann/.data/hearth')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SYSTEM_DATA_DIR = Path("/var/lib/hearth")
SYSTEM_CONFIG_DIR = Path("/etc/hearth")
DATABASE_NAME = "hearth.sqlite3"


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def default_data_dir(env: Mapping[str, str] | None = None, system_dir: Path = SYSTEM_DATA_DIR) -> Path:
    """The directory for the SQLite database and learned routines (not created here)."""
    env = os.environ if env is None else env
    state = env.get("STATE_DIRECTORY", "")
    if state:
        return Path(state.split(":")[0])  # systemd lists one path per StateDirectory= entry
    if _writable_dir(system_dir):
        return system_dir
    xdg = env.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "hearth"


def default_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$CONFIGURATION_DIRECTORY`` under systemd, else /etc/hearth."""
    env = os.environ if env is None else env
    conf = env.get("CONFIGURATION_DIRECTORY", "")
    return Path(conf.split(":")[0]) if conf else SYSTEM_CONFIG_DIR


def database_path(configured: Path | None, env: Mapping[str, str] | None = None) -> Path:
    """The SQLite file: ``storage.path`` from the config if set, else ``<data dir>/hearth.sqlite3``.

    >>> database_path(Path("/srv/h.db"))
    PosixPath('/srv/h.db')
    >>> database_path(None, {"STATE_DIRECTORY": "/var/lib/hearth"})
    PosixPath('/var/lib/hearth/hearth.sqlite3')
    """
    if configured is not None:
        return configured
    return default_data_dir(env) / DATABASE_NAME
