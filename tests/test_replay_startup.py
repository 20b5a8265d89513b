"""``hearth replay`` loads only what a replay needs: no web console, no outbox, no notifiers, no aiohttp.

Run in a fresh interpreter (the test process itself has imported everything): the command replays a real
file, writes its alerts, and then the modules it loaded are listed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from test_replay import CONFIG, _csv
from test_routines_days import month

from gateway.cli import build_parser, chosen_command

NEVER_IN_REPLAY = ("aiohttp", "gateway.console", "gateway.service", "gateway.web", "alerts.outbox",
                   "alerts.notifiers", "alerts.delivery", "hub")

PROBE = """
import json, sys
from gateway.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "modules": sorted(sys.modules)}))
"""


def test_replay_imports_no_console_outbox_or_notifier(tmp_path: Path) -> None:
    (tmp_path / "home.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "events.csv").write_text(_csv(month(date(2026, 3, 2), 12)), encoding="utf-8")
    out = tmp_path / "alerts.jsonl"
    proc = subprocess.run([sys.executable, "-c", PROBE, "replay", "--config", str(tmp_path / "home.yaml"),
                           "--events", str(tmp_path / "events.csv"), "--alerts-out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["rc"] == 0
    assert "replayed " in proc.stderr and out.exists()  # it did replay the file
    loaded = [m for m in report["modules"] if m.startswith(NEVER_IN_REPLAY)]
    assert loaded == []
    assert "routines.engine" in report["modules"]  # the probe sees what the command really imported


def test_every_command_is_still_offered_and_found() -> None:
    everything = build_parser()
    sub = next(a for a in everything._actions if a.__class__.__name__ == "_SubParsersAction")
    assert {"replay", "run", "backup", "restore", "bench", "ble-decode", "check-config"} <= set(sub.choices)
    assert chosen_command(["--log-level", "DEBUG", "restore", "--from", "x"]) == "restore"


def test_a_command_living_in_another_commands_module_still_runs(tmp_path: Path) -> None:
    """``restore`` is registered by the ``backup`` module: the lazy path must fall back to all commands."""
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "restore", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--from" in proc.stdout
