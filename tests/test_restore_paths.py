"""``hearth restore`` never writes outside its config and data folders, whatever the archive says.

Each archive is built here by hand, as a hostile one would be: sha256 sums that match, so only the
name checks stand between it and the disk. Each runs through the real ``hearth restore`` command, and
each is refused with a message before anything at all is written (a good file listed first included).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from gateway.cli import main

GOOD = "config/home.yaml"


def member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(f"hearth-backup/{name}")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def build(path: Path, files: dict[str, bytes], names: dict[str, str] | None = None,
          manifest_text: str | None = None) -> Path:
    """An archive holding ``files`` (archive name -> bytes) and a manifest listing ``names``
    (manifest name -> archive name whose bytes it claims), with true sha256 sums."""
    names = names if names is not None else {n: n for n in files}
    listed = {n: hashlib.sha256(files[src]).hexdigest() for n, src in names.items()}
    manifest = manifest_text or json.dumps({"format": 1, "created": "2026-03-10T00:00:00+00:00",
                                            "config": GOOD, "database": None, "files": listed})
    with tarfile.open(path, "w:gz") as tar:
        member(tar, "manifest.json", manifest.encode())
        for name, data in files.items():
            member(tar, name, data)
    return path


def run_restore(tmp_path: Path, archive: Path, capsys: pytest.CaptureFixture[str]) -> str:
    target = tmp_path / "target"
    code = main(["restore", "--from", str(archive), "--config-dir", str(target / "etc" / "hearth"),
                 "--data-dir", str(target / "var" / "hearth")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert not target.exists(), sorted(target.rglob("*"))  # not even the good file, nor the folders
    return err


CRON = b"* * * * * root touch /tmp/pwned\n"

# (manifest name, archive member it points at): each must be refused by name
HOSTILE = [
    ("config/../escape/x", "escape/x"),
    ("config/../../cron.d/hearth", "escape/x"),
    ("data/routines/../../../x", "escape/x"),
    ("/etc/cron.d/hearth", "escape/x"),
    ("config\\..\\..\\x", "escape/x"),
    ("config/./home.yaml", GOOD),
    ("config//secrets", GOOD),
    ("escape/x", "escape/x"),
    ("config", GOOD),
    ("data/", GOOD),
    ("", GOOD),
]


@pytest.mark.parametrize(("name", "source"), HOSTILE, ids=[n or "empty" for n, _ in HOSTILE])
def test_a_name_leaving_its_folder_is_refused_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, source: str) -> None:
    files = {GOOD: b"timezone: Europe/London\n", "escape/x": CRON}
    archive = build(tmp_path / "evil.tar.gz", files, {GOOD: GOOD, name: source})
    err = run_restore(tmp_path, archive, capsys)
    assert f"restore refused: {archive}: manifest.json names {name!r}: " in err
    assert "nothing was written" in err
    assert not (tmp_path / "target" / "etc" / "escape").exists()


def test_the_same_name_twice_in_the_manifest_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    digest = hashlib.sha256(b"a").hexdigest()
    entry = f'"config/home.yaml": "{digest}"'
    text = f'{{"format": 1, "database": null, "files": {{{entry}, {entry}}}}}'
    archive = build(tmp_path / "dup.tar.gz", {GOOD: b"a"}, manifest_text=text)
    assert "manifest.json names 'config/home.yaml' twice" in run_restore(tmp_path, archive, capsys)


def test_names_differing_only_in_case_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {GOOD: b"a", "config/HOME.yaml": b"b"}
    assert "names one file twice (differing only in case)" in run_restore(
        tmp_path, build(tmp_path / "case.tar.gz", files), capsys)


def test_a_symlink_in_the_archive_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "link.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        member(tar, "manifest.json", json.dumps({"format": 1, "files": {}}).encode())
        link = tarfile.TarInfo("hearth-backup/config/secrets")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/cron.d"
        tar.addfile(link)
    err = run_restore(tmp_path, archive, capsys)
    assert "refusing archive member 'hearth-backup/config/secrets': not a file inside hearth-backup/" in err


def test_a_member_twice_in_the_archive_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = build(tmp_path / "twice.tar.gz", {GOOD: b"checked"})
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(archive, "w:gz") as tar:
        for m, data in members:
            tar.addfile(m, io.BytesIO(data))
        member(tar, GOOD, b"* * * * * root sh\n")  # the later copy would win at extraction
    assert "it appears twice in the archive" in run_restore(tmp_path, archive, capsys)


def test_a_symlinked_folder_on_the_target_is_not_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "cron.d"
    elsewhere.mkdir()
    config_dir = tmp_path / "etc-hearth"
    config_dir.mkdir()
    (config_dir / "secrets").symlink_to(elsewhere)
    archive = build(tmp_path / "ok.tar.gz", {GOOD: b"a", "config/secrets/mqtt_password": CRON})
    code = main(["restore", "--from", str(archive), "--config-dir", str(config_dir),
                 "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"would land at {elsewhere / 'mqtt_password'}, outside {config_dir} (a symlink?)" in err
    assert list(elsewhere.iterdir()) == [] and not (config_dir / "home.yaml").exists()
    assert not (tmp_path / "data").exists()


def test_a_well_formed_archive_still_restores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {GOOD: b"timezone: Europe/London\n", "config/secrets/mqtt_password": b"pw", "data/routines/p1": b"r"}
    archive = build(tmp_path / "good.tar.gz", files)
    target = tmp_path / "target"
    assert main(["restore", "--from", str(archive), "--config-dir", str(target / "etc"),
                 "--data-dir", str(target / "var")]) == 0
    assert "restored 3 files" in capsys.readouterr().out
    assert (target / "etc" / "secrets" / "mqtt_password").read_bytes() == b"pw"
    assert (target / "var" / "routines" / "p1").read_bytes() == b"r"
