"""`hearth replay` fills recipients under consent and writes each day's digest (issue 6, item 7)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from test_replay import CONFIG, _csv
from test_routines_days import month

from gateway.cli import main

RECIPIENTS = """\
recipients:
  - {id: sam, name: Sam Okafor, group: team, webhook: {url: "https://care.example.org/hook", secret_env: X}}
  - {id: jo, name: Jo (daughter), group: circle, email: jo@example.org}
  - {id: ray, name: Ray (neighbour), group: circle, email: ray@example.org}
consent:
  - {person: p1, recipient: sam, receives: [urgent, concern, trends, technical]}
  - {person: p1, recipient: jo, receives: [urgent, digest], quiet_hours: "21:30-08:00"}
  - {person: p1, recipient: ray, receives: [digest]}
escalation:
  urgent: [sam, jo]
"""


def test_replay_names_who_would_be_told_and_writes_digests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "home.yaml").write_text(CONFIG + RECIPIENTS)

    def lie_in(i, d, day):  # day 12: no sign of Ann until 13:00
        return day if i != 12 else [e for e in day if e[0].hour >= 13]

    (tmp_path / "events.csv").write_text(_csv(month(date(2026, 3, 2), 14, seed=8, edit=lie_in)))
    out, digests = tmp_path / "alerts.jsonl", tmp_path / "digests"
    rc = main(["replay", "--config", str(tmp_path / "home.yaml"), "--events", str(tmp_path / "events.csv"),
               "--alerts-out", str(out), "--digests-out", str(digests)])
    assert rc == 0, capsys.readouterr().err
    alerts = [json.loads(x) for x in out.read_text().splitlines()]
    not_up = [a for a in alerts if a["kind"] == "not_up"]
    assert len(not_up) == 1
    # urgent: Sam and Jo consented (Jo's quiet hours never hold urgent); Ray only takes the digest
    assert not_up[0]["recipients"] == ["sam", "jo"]
    for a in alerts:
        if a["audience"] == "technical":
            assert a["recipients"] in ([], ["sam"])  # only Sam consented to technical messages
    files = sorted(p.name for p in digests.iterdir())
    days = sorted({f.rsplit(".", 1)[0] for f in files})
    assert len(days) >= 12 and all(f"{d}.txt" in files and f"{d}.png" in files for d in days)
    assert days[0] == "p1-2026-03-02"
    text = (digests / "p1-2026-03-05.txt").read_text()
    assert "Ann" in text and "Up at" in text
    assert (digests / "p1-2026-03-05.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
