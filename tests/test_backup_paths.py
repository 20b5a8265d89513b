"""gateway.paths: where data and config live by default (systemd, /var/lib/hearth, XDG)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.paths import database_path, default_config_dir, default_data_dir


def test_systemd_state_directory_comes_first(tmp_path: Path) -> None:
    system = tmp_path / "var-lib-hearth"
    system.mkdir()
    env = {"STATE_DIRECTORY": "/var/lib/hearth", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert default_data_dir(env, system_dir=system) == Path("/var/lib/hearth")


def test_writable_system_dir_next(tmp_path: Path) -> None:
    system = tmp_path / "var-lib-hearth"
    system.mkdir()
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path / "xdg")}, system_dir=system) == system


def test_missing_system_dir_falls_back_to_xdg(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert default_data_dir(env, system_dir=tmp_path / "absent") == tmp_path / "xdg" / "hearth"


def test_relative_xdg_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    got = default_data_dir({"XDG_DATA_HOME": "relative/dir"}, system_dir=tmp_path / "absent")
    assert got == tmp_path / ".local" / "share" / "hearth"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_system_dir_is_skipped(tmp_path: Path) -> None:
    system = tmp_path / "ro"
    system.mkdir(mode=0o555)
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert default_data_dir(env, system_dir=system) == tmp_path / "xdg" / "hearth"


def test_config_dir_and_database_path(tmp_path: Path) -> None:
    assert default_config_dir({"CONFIGURATION_DIRECTORY": "/etc/hearth"}) == Path("/etc/hearth")
    assert default_config_dir({}) == Path("/etc/hearth")
    assert database_path(tmp_path / "x.db") == tmp_path / "x.db"
    assert database_path(None, {"STATE_DIRECTORY": str(tmp_path)}) == tmp_path / "hearth.sqlite3"
