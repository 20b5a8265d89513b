"""A folder Hearth makes for its data is its user's alone (0700), whatever the umask: run by hand
outside systemd (which sets UMask=0077 and StateDirectoryMode=0700), a laptop's ~/.local/share/hearth
or a hub's new --db folder was 0755, the person's days and the team's accounts readable by any local user."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from alerts.outbox import connect as outbox_connect
from gateway.storage import Store
from tests.conftest import PATIENCE_S


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_the_folders_hearth_makes_for_its_data_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a login shell's usual umask
    try:
        Store(tmp_path / "gw" / "hearth.sqlite3").close()
        outbox_connect(tmp_path / "outbox" / "outbox.sqlite3").close()
        out = subprocess.run([sys.executable, "-m", "gateway.cli", "hub", "user", "add", "--db",
                              str(tmp_path / "hub" / "hub.db"), "sam", "--role", "worker"],
                             capture_output=True, text=True, timeout=PATIENCE_S, check=False)
    finally:
        os.umask(old)
    assert out.returncode == 0, out.stderr
    for folder in ("gw", "outbox", "hub"):
        assert private(tmp_path / folder), folder
