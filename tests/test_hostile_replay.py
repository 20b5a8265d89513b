"""Hostile replay CSV rows: nothing raises, every line is either an event or a reported bad row, and the
events that come out are in a sane time order with values the live adapters would accept too."""

from __future__ import annotations

import io
import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from test_routines_days import make_home

from sensors.events import SensorKind
from sensors.readings import RANGES
from sensors.replay import DAY_S, read_rows

HOME = make_home()
cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["2026-01-05T07:00:00", "2026-01-05T07:00:00+00:00", "9999-12-31T23:59:59", "0001-01-01",
                     "2126-01-01T00:00", "2026-02-30T00:00", "bed", "kettle", "maindoor", "on", "off", "NaN", "inf",
                     "-2000", "1e400", "9" * 400, "", '"', "\x00", "\udc80"]),
    st.floats().map(str), st.integers().map(str))
rows = st.lists(st.lists(cells, min_size=0, max_size=4), max_size=40)


def _text(table: list[list[str]], header: bool) -> str:
    lines = [",".join(r) for r in table]
    return "\n".join((["time,sensor,value"] if header else []) + lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(rows, st.booleans())
def test_any_csv_rows_never_raise_and_every_line_is_accounted_for(table: list[list[str]], header: bool) -> None:
    text = _text(table, header)
    bad: list[tuple[int, str]] = []
    got = list(read_rows(io.StringIO(text), HOME, lambda n, why: bad.append((n, why))))
    assert all(isinstance(n, int) and why for n, why in bad)
    if header:  # every non-blank data line is an event or a reported bad row: none silently lost
        data_lines = [n for n, line in enumerate(text.split("\n")[1:], 2) if line.strip()]
        assert len(got) + len({n for n, _ in bad}) == len(data_lines)
    for t, _sid, kind, value in got:
        assert math.isfinite(t)
        if isinstance(value, float):
            assert kind is SensorKind.PLUG and RANGES["watts"].low <= value <= RANGES["watts"].high
    for (a, *_), (b, *_) in itertools.pairwise(got):
        assert b >= a - DAY_S  # never more than a day back


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_as_a_csv_file_never_raise(raw: bytes) -> None:
    text = raw.decode("utf-8", errors="surrogateescape")
    list(read_rows(io.StringIO(text), HOME, lambda n, why: None))


def test_a_row_the_csv_module_refuses_is_a_bad_row_not_a_crash() -> None:
    bad: list[tuple[int, str]] = []
    text = 'time,sensor,value\n2026-01-05T07:00:00,"b,ed",1\rx\n2026-01-05T07:01:00,bed,0\n'  # csv: a bare CR
    got = list(read_rows(io.StringIO(text), HOME, lambda n, why: bad.append((n, why))))
    assert [(n, why.split(":")[0]) for n, why in bad] == [(2, "not a CSV row")]
    assert len(got) == 1
