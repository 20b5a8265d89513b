"""hearth backup / restore with real SQLite files (WAL, a live writer) and real tar.gz archives."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.commands.backup import BackupError, copy_database, make_backup, restore

CONFIG = """\
timezone: Europe/London
people: [{{id: p1, name: Resident}}]
sensors:
  - {{id: kettle, kind: plug, room: kitchen, role: kettle, person: p1}}
broker: {{username: hearth, password_file: {secret}}}
storage: {{path: {db}}}
"""

TABLES = ["events", "alerts", "routine_models"]


def make_home(tmp_path: Path) -> tuple[Path, Path, sqlite3.Connection]:
    """A config dir with a secret beside the config, and a data dir with a live WAL database."""
    conf_dir, data_dir = tmp_path / "etc", tmp_path / "var" / "hearth"
    (conf_dir / "secrets").mkdir(parents=True)
    data_dir.mkdir(parents=True)
    (conf_dir / "secrets" / "mqtt_password").write_text("s3cret-broker-pw")
    db = data_dir / "hearth.sqlite3"
    config = conf_dir / "home.yaml"
    config.write_text(CONFIG.format(secret=conf_dir / "secrets" / "mqtt_password", db=db))
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")  # keep committed rows in the WAL, as a busy gateway would
    con.execute("CREATE TABLE events (t TEXT, sensor TEXT, value REAL)")
    con.execute("CREATE TABLE alerts (t TEXT, kind TEXT, severity TEXT, explanation TEXT)")
    con.execute("CREATE TABLE routine_models (person TEXT, model BLOB)")
    con.execute("BEGIN")
    for i in range(500):
        con.execute("INSERT INTO events VALUES (?, 'kettle', ?)", (f"2026-03-0{1 + i % 9}T07:{i % 60:02d}", i * 1.5))
    con.execute("INSERT INTO alerts VALUES ('2026-03-05T10:00', 'no_kettle', 'warning', 'No kettle by 10:00')")
    con.execute("INSERT INTO routine_models VALUES ('p1', ?)", (bytes(range(256)) * 40,))
    con.execute("COMMIT")
    (data_dir / "routines").mkdir()
    (data_dir / "routines" / "p1.snapshot").write_bytes(b"\x80\x05learned-routine-bytes")
    return config, db, con


def rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        con.close()


def test_live_database_copy_includes_wal_and_not_uncommitted(tmp_path: Path) -> None:
    _config, db, live = make_home(tmp_path)
    assert Path(f"{db}-wal").stat().st_size > 0  # the committed rows are still only in the WAL
    live.execute("BEGIN")
    live.execute("INSERT INTO alerts VALUES ('x', 'half-written', 'x', 'x')")  # uncommitted
    naive = tmp_path / "naive.sqlite3"
    naive.write_bytes(db.read_bytes())  # what `cp` would give: misses the WAL
    copy = tmp_path / "copy.sqlite3"
    copy_database(db, copy)
    live.execute("ROLLBACK")
    expected = rows(db)
    assert len(expected["events"]) == 500
    assert rows(copy) == expected
    con = sqlite3.connect(naive)
    assert con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] < 3
    con.close()
    live.close()


def test_backup_then_restore_into_empty_dirs_gives_the_same_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, _db, live = make_home(tmp_path / "old")
    out = tmp_path / "b.tar.gz"
    assert main(["backup", "--config", str(config), "--out", str(out)]) == 0  # gateway still running
    assert "backup written" in capsys.readouterr().out
    assert out.stat().st_mode & 0o777 == 0o600
    live.execute("INSERT INTO alerts VALUES ('later', 'after-backup', 'x', 'x')")
    live.close()

    new_conf, new_data = tmp_path / "new" / "etc", tmp_path / "new" / "var"
    assert main(["restore", "--from", str(out), "--config-dir", str(new_conf), "--data-dir", str(new_data)]) == 0
    restored_db = new_data / "hearth.sqlite3"
    got = rows(restored_db)
    assert got["alerts"] == [("2026-03-05T10:00", "no_kettle", "warning", "No kettle by 10:00")]
    assert got["routine_models"] == [("p1", bytes(range(256)) * 40)]
    assert len(got["events"]) == 500
    assert (new_data / "routines" / "p1.snapshot").read_bytes() == b"\x80\x05learned-routine-bytes"
    assert (new_conf / "home.yaml").read_text() == config.read_text()
    assert (new_conf / "secrets" / "mqtt_password").read_text() == "s3cret-broker-pw"
    assert restored_db.stat().st_mode & 0o777 == 0o600
    con = sqlite3.connect(restored_db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_restore_refuses_a_non_empty_data_dir_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, db, live = make_home(tmp_path / "home")
    out = tmp_path / "b.tar.gz"
    make_backup(config, db, out)
    live.execute("DELETE FROM alerts")
    live.close()
    args = ["restore", "--from", str(out), "--config-dir", str(config.parent), "--data-dir", str(db.parent)]
    assert main(args) == 1
    assert "already holds data" in capsys.readouterr().err
    assert rows(db)["alerts"] == []  # untouched
    assert main([*args, "--force"]) == 0
    assert len(rows(db)["alerts"]) == 1
    assert not Path(f"{db}-wal").exists()


def test_restore_refuses_while_the_database_is_busy(tmp_path: Path) -> None:
    config, db, live = make_home(tmp_path / "home")
    out = tmp_path / "b.tar.gz"
    make_backup(config, db, out)
    live.execute("BEGIN IMMEDIATE")
    live.execute("INSERT INTO alerts VALUES ('x', 'x', 'x', 'x')")
    with pytest.raises(BackupError, match="stop the gateway first"):
        restore(out, config.parent, db.parent, force=True)
    live.execute("ROLLBACK")
    live.close()


def test_restore_refuses_while_an_idle_gateway_holds_the_database(tmp_path: Path) -> None:
    """An idle gateway has no transaction open, so SQLite alone would let a restore in under it."""
    from gateway.dblock import DatabaseLock

    config, db, live = make_home(tmp_path / "home")
    live.close()
    out = tmp_path / "b.tar.gz"
    make_backup(config, db, out)
    gateway = DatabaseLock.acquire(db)
    try:
        with pytest.raises(BackupError, match="stop the gateway first"):
            restore(out, config.parent, db.parent, force=True)
    finally:
        gateway.release()
    assert restore(out, config.parent, db.parent, force=True)


def test_damaged_archive_is_refused_before_anything_changes(tmp_path: Path) -> None:
    config, db, live = make_home(tmp_path / "home")
    live.close()
    out = tmp_path / "b.tar.gz"
    make_backup(config, db, out)
    with tarfile.open(out) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]  # type: ignore[union-attr]
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        for m, data in members:
            if m.name.endswith("p1.snapshot"):
                data = b"tampered"
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data) if data is not None else None)
    target = tmp_path / "fresh"
    with pytest.raises(BackupError, match=r"data/routines/p1.snapshot is missing or damaged"):
        restore(bad, target / "etc", target / "var")
    assert not target.exists()


def test_path_traversal_member_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("hearth-backup/../../escaped")
        payload = b"x"
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(BackupError, match="refusing archive member"):
        restore(evil, tmp_path / "etc", tmp_path / "var")
    assert not (tmp_path.parent / "escaped").exists()


def test_not_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    assert main(["restore", "--from", str(junk), "--config-dir", str(tmp_path / "c"), "--data-dir", str(tmp_path / "d")]) == 1
    assert "not a readable hearth backup" in capsys.readouterr().err


def test_backup_without_database_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "home.yaml"
    conf.write_text(f"timezone: Europe/London\npeople: [{{id: p1, name: R}}]\nstorage: {{path: {tmp_path}/none.sqlite3}}\n")
    out = tmp_path / "b.tar.gz"
    assert main(["backup", "--config", str(conf), "--out", str(out)]) == 0
    assert "no database" in capsys.readouterr().out
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("hearth-backup/manifest.json").read())  # type: ignore[union-attr]
    assert manifest["database"] is None and list(manifest["files"]) == ["config/home.yaml"]
