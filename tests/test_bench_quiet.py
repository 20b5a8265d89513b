"""The quiet home's file for ``hearth bench``: reproducible, made once, and its table reads the right way."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench import format_bench, verdict
from benchmarks.sparse import debounce, quiet_home_csv


def test_the_quiet_file_is_the_same_everywhere_and_made_once(tmp_path: Path) -> None:
    home, path, n = quiet_home_csv(None, days=6, folder=tmp_path / "a")  # no data folder: the generated home
    _, again, n2 = quiet_home_csv(None, days=6, folder=tmp_path / "b")
    assert path.read_bytes() == again.read_bytes() and n == n2 > 100
    assert path.read_text().splitlines()[0] == "time,sensor,value"
    stamp = path.stat().st_mtime_ns
    _, same, _ = quiet_home_csv(None, days=6, folder=tmp_path / "a")
    assert same == path and path.stat().st_mtime_ns == stamp  # the cached file is reused, not rewritten
    assert {line.split(",")[1] for line in path.read_text().splitlines()[1:]} <= {s.id for s in home.sensors}


def test_a_brief_release_is_no_change_but_a_real_one_is_kept() -> None:
    evs = [(0, "bed", True), (100, "bed", False), (129, "bed", True), (400, "bed", False), (430, "bed", True),
           (500, "chair", True), (505, "chair", False)]
    assert debounce(evs, 30) == [(0, "bed", True), (400, "bed", False), (430, "bed", True), (500, "chair", True),
                                 (505, "chair", False)]


def test_the_ratio_passes_below_its_target_and_rates_above_theirs() -> None:
    ratio, rate = "quiet home: replay time / parse time", "quiet home: hearth replay end to end"
    assert (verdict(ratio, 10.9, 11.0), verdict(ratio, 12.0, 11.0)) == ("PASS", "MISS")
    assert (verdict(rate, 160_000.0, 150_000.0), verdict(rate, 90_000.0, 150_000.0)) == ("PASS", "MISS")
    assert verdict(rate, None, 150_000.0) == "PENDING" and verdict("quiet home: one day-end", 2.0, None) == ""
    text = format_bench([{"metric": ratio, "value": 12.0, "unit": "x", "target": 11.0, "verdict": "MISS", "note": ""}])
    assert "<= 11.00" in text
