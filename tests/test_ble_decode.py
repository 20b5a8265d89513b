"""`hearth ble-decode`: a technician's view of BTHome bytes, with a reason and non-zero exit on failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main

KEY = "231d39c1d7cc1ab1aee224cd096db932"


def test_plain_window_and_battery(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ble-decode", "--data", "40 00 52 01 64 2d 01"]) == 0
    assert capsys.readouterr().out == "BTHome v2, not encrypted\n  packet_id: 82\n  battery: 100 %\n  window: open\n"


def test_whole_ad_element_from_the_format_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ble-decode", "--data", "0A16D2FC4002C40903BF13"]) == 0
    assert capsys.readouterr().out == "BTHome v2, not encrypted\n  temperature: 25.0 °C\n  humidity: 50.55 %\n"


def test_encrypted_with_key_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keyfile = tmp_path / "hallway.key"
    keyfile.write_text(KEY + "\n")
    rc = main(["ble-decode", "--data", "4187b90011223372b0231f", "--mac", "54:48:E6:8F:80:A5", "--key-file", str(keyfile)])
    assert rc == 0
    assert capsys.readouterr().out == "BTHome v2, encrypted (counter 857870592)\n  motion: detected\n"


@pytest.mark.parametrize(("args", "rc", "reason"), [
    (["--data", "41e445f3c9962b332211006c7c4519"], 1, "needs_key"),
    (["--data", "41e445f3c9962b332211006c7c4519", "--mac", "54:48:E6:8F:80:A5", "--key", "814aac74c4f17b6c1581e1ab87816b99"],
     1, "wrong_key"),
    (["--data", "4002ca0903bf"], 1, "truncated"),
    (["--data", "40feca09"], 1, "unknown_object_id"),
    (["--data", "00"], 1, "not_bthome_v2"),
    (["--data", "not hex"], 2, "not hexadecimal"),
    (["--data", "402d01", "--key", "abc"], 2, "32 hexadecimal"),
])
def test_failures_exit_nonzero_with_the_reason(args: list[str], rc: int, reason: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ble-decode", *args]) == rc
    captured = capsys.readouterr()
    assert captured.out == ""
    assert reason in captured.err


def test_installed_command_exit_code() -> None:
    hearth = Path(sys.executable).with_name("hearth")
    done = subprocess.run([str(hearth), "ble-decode", "--data", "4002ca0903"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    assert "truncated" in done.stderr
