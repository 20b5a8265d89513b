"""``hearth backup`` and ``hearth restore``: the home's config, learned routines and alert history.

The SQLite database is copied with SQLite's online backup API, so a backup taken while the gateway
runs is consistent (it includes what is committed, WAL included, and nothing half-written). Other
files in the data dir (e.g. learned routine snapshots) are copied as they are, when the data dir
is Hearth's own (named ``hearth``, as /var/lib/hearth is). The archive::

    hearth-backup/manifest.json        format, time, file list with sha256
    hearth-backup/config/home.yaml     the config, plus secret files kept beside it (config/secrets/...)
    hearth-backup/data/...             the database and the rest of the data dir

Restore checks every file's sha256 and the database's integrity before touching anything, refuses
a non-empty data dir unless ``--force``, and refuses while the gateway holds the database.
The archive holds personal data and secrets: it is written with mode 0600.

Usage::

    hearth backup --config /etc/hearth/home.yaml --out /media/usb/hearth-2026-03-10.tar.gz
    hearth restore --from /media/usb/hearth-2026-03-10.tar.gz --config-dir /etc/hearth --data-dir /var/lib/hearth
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from gateway.config import ConfigError, load_config
from gateway.dblock import DatabaseLock
from gateway.paths import DATABASE_NAME, database_path, default_config_dir, default_data_dir

FORMAT = 1
TOP = "hearth-backup"
SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".lock")  # SQLite's side files (the backup API covers
# them) and the running gateway's lock (gateway/dblock.py), which belongs to a process, not the data


class BackupError(Exception):
    """A problem worded for a technician, with what to do."""


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="Save config, learned routines and alert history to a .tar.gz.",
                       description="Back up the home (safe while the gateway runs).")
    b.add_argument("--config", type=Path, default=default_config_dir() / "home.yaml",
                   help="The home's YAML config (default: /etc/hearth/home.yaml).")
    b.add_argument("--out", type=Path, default=None,
                   help="Archive to write (default: <data dir>/backups/hearth-<time>.tar.gz).")
    b.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="Restore a backup made by `hearth backup` (stop the gateway first).",
                       description="Restore config, learned routines and alert history from a backup.")
    r.add_argument("--from", dest="archive", type=Path, required=True, help="The .tar.gz made by `hearth backup`.")
    r.add_argument("--config-dir", type=Path, default=default_config_dir(), help="Where the config goes.")
    r.add_argument("--data-dir", type=Path, default=None, help="Where the database goes (default: the data dir).")
    r.add_argument("--force", action="store_true", help="Overwrite a data dir that already holds data.")
    r.set_defaults(func=run_restore)


# ---- backup ------------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_database(src: Path, dest: Path) -> None:
    """Consistent copy of a live SQLite database with the online backup API (read-only on ``src``)."""
    source = sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target, pages=1024)  # in steps, so a running gateway is never blocked for long
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
        finally:
            target.close()
    finally:
        source.close()


def _config_secrets(config: Path) -> list[Path]:
    """Secret files the config names that live beside it (they move with the config)."""
    try:
        cfg = load_config(config)
    except ConfigError:
        return []
    named = [cfg.broker.password_file, cfg.console.password_file] + [s.ble.bindkey_file for s in cfg.sensors
                                                                      if s.ble is not None]
    base = config.parent.resolve()
    return [p for p in named if p is not None and p.is_file() and p.resolve().is_relative_to(base)]


def make_backup(config: Path, db: Path, out: Path) -> dict[str, object]:
    """Write the archive; return its manifest."""
    if not config.is_file():
        raise BackupError(f"{config}: no such config file; give the home's config with --config")
    data_dir = db.parent
    with tempfile.TemporaryDirectory(prefix="hearth-backup-") as tmp:
        stage = Path(tmp) / TOP
        (stage / "config").mkdir(parents=True)
        (stage / "data").mkdir()
        shutil.copy2(config, stage / "config" / config.name)
        for secret in _config_secrets(config):
            rel = secret.resolve().relative_to(config.parent.resolve())
            (stage / "config" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(secret, stage / "config" / rel)
        if db.is_file():
            copy_database(db, stage / "data" / db.name)
        # Other data files (learned routine snapshots) only from a data dir of Hearth's own: a
        # database put in some shared folder must not drag that whole folder into the archive.
        if data_dir.is_dir() and data_dir.name == "hearth" and data_dir.resolve() != config.parent.resolve():
            for path in sorted(data_dir.rglob("*")):
                rel = path.relative_to(data_dir)
                if (path == db or path.name.endswith(SKIP_SUFFIXES) or rel.parts[0] == "backups"
                        or not path.is_file() or path.is_symlink() or path.resolve() == out.resolve()):
                    continue
                (stage / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, stage / "data" / rel)
        files = {str(p.relative_to(stage)): _sha256(p) for p in sorted(stage.rglob("*")) if p.is_file()}
        manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "config": f"config/{config.name}", "database": f"data/{db.name}" if db.is_file() else None,
                    "files": files}
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2))
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(stage, arcname=TOP)
        os.replace(partial, out)  # never leave a half-written archive under the real name
    return manifest


def run_backup(args: argparse.Namespace) -> int:
    config: Path = args.config
    try:
        db = database_path(load_config(config).storage.path)
    except ConfigError as exc:
        print(f"warning: {exc.problems[0]} (backing it up anyway; database at the default place)", file=sys.stderr)
        db = database_path(None)
    out = args.out or default_data_dir() / "backups" / f"hearth-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    try:
        manifest = make_backup(config, db, out)
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print(f"backup failed: {exc}. Check free space and permissions (run as the hearth user or root).",
              file=sys.stderr)
        return 1
    files = manifest["files"]
    assert isinstance(files, dict)
    note = "" if manifest["database"] else f" (no database at {db} yet)"
    print(f"backup written: {out} ({len(files)} files{note})")
    return 0


# ---- restore -----------------------------------------------------------------------------------

def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    seen: set[str] = set()
    for m in members:
        p = PurePosixPath(m.name)
        if (p.is_absolute() or ".." in p.parts or "\\" in m.name or not p.parts or p.parts[0] != TOP
                or not (m.isfile() or m.isdir())):
            raise BackupError(f"refusing archive member {m.name!r}: not a file inside {TOP}/ "
                              "(links, devices and names leaving it are never restored)")
        # a second member of the same name would silently replace the first one checked
        if m.isfile() and str(p) in seen:
            raise BackupError(f"refusing archive member {m.name!r}: it appears twice in the archive")
        seen.add(str(p))
    return members


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:  # json.loads would keep the last silently: which one was checked?
            raise BackupError(f"manifest.json names {key!r} twice")
        out[key] = value
    return out


def _restorable_name(name: object) -> PurePosixPath:
    """A manifest name that stays inside ``config/`` or ``data/``; else :class:`BackupError`.

    Checked by its letters, not by resolving, so nothing on this machine decides what it means:
    plain relative POSIX names only, already in normal form (no ``..``, ``.``, ``//``, ``\\``).

    >>> _restorable_name("config/secrets/mqtt_password")
    PurePosixPath('config/secrets/mqtt_password')
    >>> _restorable_name("config/../escape/x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gateway.commands.backup.BackupError: manifest.json names 'config/../escape/x': ...
    """
    why = None
    if not isinstance(name, str) or not name:
        why = "not a file name"
    elif "\\" in name or "\0" in name:
        why = "backslashes and NUL are not allowed in names"
    elif name.startswith("/"):
        why = "an absolute name"
    else:
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            why = "empty, '.' or '..' parts would leave (or blur) its folder"
        elif parts[0] not in ("config", "data") or len(parts) < 2:
            why = "not inside config/ or data/"
    if why is not None:
        raise BackupError(f"manifest.json names {name!r}: {why}; refusing the whole backup, nothing was written")
    return PurePosixPath(str(name))


def _check_manifest(manifest: dict[str, object]) -> None:
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(d, str) for d in files.values()):
        raise BackupError("manifest.json has no valid file list")
    names = [_restorable_name(n) for n in files]
    folded = [str(n).casefold() for n in names]  # one file twice on a case-insensitive disk (a USB stick)
    if len(set(folded)) != len(folded):
        raise BackupError("manifest.json names one file twice (differing only in case); refusing it")
    database = manifest.get("database")
    if database is not None and (database not in files or _restorable_name(database).parts[0] != "data"):
        raise BackupError(f"manifest.json: database {database!r} is not one of its data/ files")


def _inside(dest: Path, folder: Path) -> Path:
    """``dest`` if, with every link already on this disk followed, it is still inside ``folder``.

    Catches a folder on the target that is a symlink (``config_dir/secrets -> /etc/cron.d``)."""
    if not dest.resolve().is_relative_to(folder.resolve()):
        raise BackupError(f"{dest} would land at {dest.resolve()}, outside {folder} (a symlink?); "
                          "nothing was written")
    return dest


def _read_archive(archive: Path, into: Path) -> dict[str, object]:
    """Extract and verify: sha256 of every file, and the database's integrity."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = _safe_members(tar)
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive}: not a readable hearth backup ({exc})") from None
    stage = into / TOP
    try:
        manifest = json.loads((stage / "manifest.json").read_text(), object_pairs_hook=_no_duplicate_keys)
    except BackupError as exc:
        raise BackupError(f"{archive}: {exc}") from None
    except (OSError, ValueError):
        raise BackupError(f"{archive}: no manifest.json; not made by `hearth backup`") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BackupError(f"{archive}: backup format {found!r}, this Hearth reads {FORMAT}")
    try:
        _check_manifest(manifest)
    except BackupError as exc:
        raise BackupError(f"{archive}: {exc}") from None
    for rel, digest in manifest["files"].items():
        path = stage / rel
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{archive}: {rel} is missing or damaged (sha256 differs); use another backup")
    if manifest.get("database"):
        con = sqlite3.connect(stage / manifest["database"])
        try:
            ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            ok = str(exc)
        finally:
            con.close()
        if ok != "ok":
            raise BackupError(f"{archive}: the database fails SQLite's integrity check ({ok})")
    return manifest


def _database_in_use(db: Path) -> bool:
    """A gateway holds the database's lock (even idle, with no transaction open), or another writer
    holds SQLite's."""
    if DatabaseLock.in_use(db):
        return True
    if not db.exists():
        return False
    con = sqlite3.connect(db, timeout=0)
    try:
        con.execute("BEGIN EXCLUSIVE")
        con.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


def _place(src: Path, dest: Path, owner: tuple[int, int] | None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_name(dest.name + ".restoring")
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o600)
    if owner is not None:
        os.chown(tmp, *owner)
    os.replace(tmp, dest)


def _destination(rel: PurePosixPath, config_dir: Path, data_dir: Path) -> tuple[Path, bool]:
    """Where a checked manifest name goes, and whether it is config (``_check_manifest`` ran first)."""
    is_config = rel.parts[0] == "config"
    folder = config_dir if is_config else data_dir
    return _inside(folder.joinpath(*rel.parts[1:]), folder), is_config


def restore(archive: Path, config_dir: Path, data_dir: Path, force: bool = False) -> list[str]:
    """Restore an archive; return what was written. Raises :class:`BackupError` before changing anything."""
    if data_dir.is_dir() and any(p.name != "backups" for p in data_dir.iterdir()) and not force:
        raise BackupError(f"{data_dir} already holds data; restoring would replace it. "
                          "Back it up first, then run again with --force")
    db = data_dir / DATABASE_NAME
    with tempfile.TemporaryDirectory(prefix="hearth-restore-") as tmp:
        manifest = _read_archive(archive, Path(tmp))
        stage = Path(tmp) / TOP
        # every destination is decided and checked before the first byte is written
        plan = [(stage / rel, _destination(PurePosixPath(rel), config_dir, data_dir)) for rel in manifest["files"]]
        if manifest.get("database"):
            db = data_dir / PurePosixPath(str(manifest["database"])).name
        if _database_in_use(db):
            raise BackupError(f"{db} is in use; stop the gateway first (sudo systemctl stop hearth)")
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        config_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
        st = data_dir.stat()
        owner = (st.st_uid, st.st_gid) if os.geteuid() == 0 else None
        for suffix in SKIP_SUFFIXES:  # a stale WAL next to the restored file would corrupt it
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        written = []
        for src, (dest, is_config) in plan:
            if is_config:
                if dest.exists() and dest.read_bytes() != src.read_bytes():
                    shutil.copy2(dest, dest.with_name(dest.name + ".before-restore"))
                cst = config_dir.stat()
                _place(src, dest, (cst.st_uid, cst.st_gid) if os.geteuid() == 0 else None)
                os.chmod(dest, 0o640)  # readable by the hearth group, like install.sh lays it down
            else:
                _place(src, dest, owner)
            written.append(str(dest))
    return written


def run_restore(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or default_data_dir()
    try:
        written = restore(args.archive, args.config_dir, data_dir, args.force)
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print(f"restore failed: {exc}. Check free space and permissions (run as root).", file=sys.stderr)
        return 1
    out = io.StringIO()
    for path in written:
        print(f"  {path}", file=out)
    print(f"restored {len(written)} files from {args.archive}:\n{out.getvalue().rstrip()}")
    print("next: hearth check-config, then sudo systemctl start hearth")
    return 0
