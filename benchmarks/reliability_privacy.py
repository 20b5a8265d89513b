"""Privacy: a full demo run (`hearth run`, no config: the simulated home, its broker, its signed
webhooks to Sam of the team and Jo, Ann's daughter), then a scan of its log, its database and every
message it sent, for what consent did not allow to leave.

What is looked for:
- the webhook signing secret, anywhere (log, database, messages);
- a message to a recipient in a category their consent row does not list (the demo's consent:
  Sam urgent/concern/trends/technical, Jo urgent/digest);
- raw sensor data in a message (zigbee2mqtt payload keys, IEEE addresses, topics).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.reliability_rig import REPO, Row

CONSENTED = {"sam": {"urgent", "concern", "trends", "technical"}, "jo": {"urgent", "digest"}}
RAW = re.compile(r"linkquality|0x[0-9a-f]{16}|zigbee2mqtt/|\"contact\"|\"occupancy\"|\"power\"", re.I)


def demo_scan(seconds: float = 120.0, speed: float = 2880.0) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="hearth-rel-privacy-"))
    db = work / "hearth.sqlite3"
    run = subprocess.run([sys.executable, "-m", "gateway.cli", "--log-format", "json", "run", "--db", str(db),
                          "--speed", str(speed), "--for-seconds", str(seconds)],
                         cwd=REPO, capture_output=True, timeout=seconds + 120, check=False)
    log = run.stderr.decode(errors="replace")
    m = re.search(r"alerts:\s+(\S+)", log)
    secret = (Path(m.group(1)).parent / "inbox-webhook.secret").read_text().strip() if m else ""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        sent = con.execute("SELECT recipient, category, title || ' ' || body, state FROM outbox_messages").fetchall()
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    delivered = [s for s in sent if s[3] == "sent"]
    leaks = {
        "secret in log / database / messages": sum(secret in text for text in (log, dump, *[s[2] for s in sent]))
        if secret else -1,
        "messages outside the recipient's consent": sum(cat not in CONSENTED.get(rid, set())
                                                        for rid, cat, _t, _s in sent),
        "messages carrying raw sensor data": sum(bool(RAW.search(text)) for _r, _c, text, _s in sent),
    }
    name = f"privacy (demo, {seconds:g} s at {speed:g}x)"
    rows = [Row(name, "messages scanned (sent)", f"{len(sent)} ({len(delivered)})", "> 0", bool(sent)),
            Row(name, "log lines scanned", str(log.count("\n")), "> 0", log.count("\n") > 0)]
    rows += [Row(name, figure, "secret not found to scan for" if n < 0 else str(n), "0", n == 0)
             for figure, n in leaks.items()]
    return rows
