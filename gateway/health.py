"""The running gateway's own health as it saved it (``Gateway._save_health``), read by other processes:
``hearth status`` prints it and ``hearth doctor`` judges it.

The record is saved at once when a task fails or a problem appears or clears, and refreshed every
10 minutes otherwise, so an old ``saved_at`` means the gateway is not running (or is stuck).

>>> judge({"problems": [], "tasks": {"consume": {"state": "running", "restarts": 0}},
...        "saved_at": "2026-03-02T07:00:00+00:00", "internal_errors": 0}, now=1772434900.0)
('OK', 'running: 1 task(s), none failed; no input the gateway failed on', '')
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

HEALTH_KEY = "gateway_health"
STALE_S = 25 * 60  # a refresh is due every 10 min; missing two of them means no live gateway saved it


def read_health(db: Path) -> dict[str, Any] | None:
    """The saved record, read-only; ``None`` if there is none (or no database)."""
    if not db.exists():
        return None
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("SELECT blob FROM state WHERE key = ?", (HEALTH_KEY,)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    try:
        record = json.loads(bytes(row[0]))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def judge(record: dict[str, Any] | None, now: float) -> tuple[str, str, str]:
    """(OK|WARN|FAIL, what, what to do) for a technician."""
    if record is None:
        return "WARN", "the gateway has not saved its health yet", "start it: sudo systemctl start hearth"
    tasks: dict[str, dict[str, Any]] = record.get("tasks") or {}
    failed = {name: t for name, t in tasks.items() if t.get("restarts")}
    saved = record.get("saved_at")
    age = now - datetime.fromisoformat(saved).timestamp() if saved else None
    if record.get("problems"):
        return "FAIL", "; ".join(record["problems"]), "see the gateway log: journalctl -u hearth -e"
    if age is not None and age > STALE_S:
        return ("FAIL", f"no health report from the gateway since {saved} (not running, or stuck)",
                "sudo systemctl status hearth; journalctl -u hearth -e")
    errors = int(record.get("internal_errors") or 0)
    what = (f"running: {len(tasks)} task(s), "
            + (", ".join(f"{n} restarted {t['restarts']}x (last: {t.get('last_error')})" for n, t in failed.items())
               if failed else "none failed")
            + (f"; {errors} message(s) the gateway failed on (counted as internal_error)" if errors
               else "; no input the gateway failed on"))
    if failed or errors:
        return "WARN", what, "report it with the log lines: journalctl -u hearth | grep -i 'failed'"
    return "OK", what, ""
