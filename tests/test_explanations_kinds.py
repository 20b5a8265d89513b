"""One table of alert kinds and their words (routines/kinds.py): every kind the code can raise has an
entry, no entry names a kind nothing raises, and the weekly note reads kinds from it."""

from __future__ import annotations

import ast
from datetime import date, time
from pathlib import Path

from alerts.digest import weekly_trends
from routines import kinds
from routines.detectors import CONTEXT_PAUSES, KINDS
from routines.summary import DaySummary

ROOT = Path(__file__).resolve().parents[1]


def raised_kinds(folder: str, call: str, pos: int, strict: bool = True) -> set[str]:
    """The literal kinds passed as argument ``pos`` of every call to ``call`` in ``folder``'s sources
    (``strict``: every such call must pass a literal; else others, such as rows read back, are skipped)."""
    out: set[str] = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name == call and len(node.args) > pos:
                arg = node.args[pos]
                if not strict and not isinstance(arg, ast.Constant):
                    continue
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                    f"{path.name}:{node.lineno}: a kind must be a literal, so this test can see it")
                out.add(arg.value)
    return out


def test_every_kind_the_core_raises_has_words_and_every_entry_is_raised() -> None:
    core = raised_kinds("routines", "_alert", 3)  # _alert(eng, p, t, KIND, ...)
    assert core, "no core alert found: the scan is broken"
    assert core == set(kinds.CORE), (core - set(kinds.CORE), set(kinds.CORE) - core)
    assert set(KINDS) == core  # the engine's severity table is the same table
    assert all(KINDS[k] == (v.severity, v.audience) for k, v in kinds.CORE.items())


def test_every_kind_the_delivery_layer_raises_has_words_and_every_entry_is_raised() -> None:
    # Alert(time, person, KIND, ...); the gateway also rebuilds stored alerts from their rows (not a literal)
    raised = raised_kinds("alerts", "Alert", 2) | raised_kinds("gateway", "Alert", 2, strict=False)
    assert raised == set(kinds.DELIVERY), (raised - set(kinds.DELIVERY), set(kinds.DELIVERY) - raised)


def test_words_are_plain_and_distinct() -> None:
    texts = [k.words for k in kinds.ALL.values()]
    assert len(set(texts)) == len(texts)
    assert all(t and "_" not in t and t == t.lower() for t in texts)


def test_contexts_pause_only_kinds_that_exist() -> None:
    assert all(paused <= set(kinds.CORE) for paused in CONTEXT_PAUSES.values())


def test_the_weekly_note_names_every_kind_from_the_table() -> None:
    def day(d: int, alerts: list[str]) -> DaySummary:
        return DaySummary("p1", date(2026, 1, d), time(7, 40), time(7, 50), time(22, 15), time(22, 30), {}, 3, [],
                          0, (0,) * 24, (0.0,) * 24, [], alerts)

    core = list(kinds.CORE)
    note = weekly_trends([day(5, core[:6]), day(6, core[6:]), day(7, ["night_bed_exit"])], "Ann")
    [line] = [ln for ln in note.splitlines() if ln.startswith("Alerts: ")]
    for kind, k in kinds.CORE.items():
        n = 2 if kind == "night_bed_exit" else 1
        assert f"{k.words} ({n})" in line
    assert "_" not in line  # no kind id reaches the team


def test_the_hub_words_every_kind_a_gateway_can_send() -> None:
    """The hub may not import routines/ (its own words, hub/words.py): it must still word every kind."""
    from hub.words import KINDS as HUB_KINDS

    assert set(kinds.ALL) <= set(HUB_KINDS), set(kinds.ALL) - set(HUB_KINDS)
    assert set(HUB_KINDS) - set(kinds.ALL) == {"digest", "trends"}  # message categories, not alert kinds
