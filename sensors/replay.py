"""Read recorded events from an EVENTS.csv (``time,sensor,value``) into SensorEvents, fast and forgiving.

``time`` is ISO 8601 (naive means the home's timezone); ``sensor`` a configured sensor id; ``value``
``on``/``off``, ``open``/``closed``, ``occupied``/``vacant``, ``true``/``false``, ``1``/``0``, or a
number of watts for a plug (the same range as a live plug's ``power``: :data:`sensors.readings.RANGES`).
A bad row is reported through ``on_bad_row(line_no, reason)`` and skipped, including a row whose time
is far outside the file's own: before 1970 or after 2200; more than a day before the row before it
(is the file sorted?); a lone jump more than a day ahead that the rows after it do not follow; or any
jump of more than a year (no recording of one home's routine has such a hole). A far-future typo once
made a replay close, and raise alerts for, every day of the centuries in between.

>>> import io
>>> from routines.home import Home, Person, SensorInfo
>>> from sensors.events import SensorKind
>>> home = Home("Europe/London", (Person("p1", "Ann"),),
...             (SensorInfo("kettle", SensorKind.PLUG, "kitchen", "kettle", "p1"),))
>>> bad = []
>>> rows = io.StringIO("time,sensor,value\\n2026-01-05T07:40:00,kettle,2200\\n2026-01-05T07:41,oven,on\\n")
>>> [(e.time.isoformat(), e.value) for e in read_events_csv(rows, home, lambda n, r: bad.append((n, r)))]
[('2026-01-05T07:40:00+00:00', 2200.0)]
>>> bad
[(3, "unknown sensor 'oven'")]
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Protocol

from sensors.events import SensorEvent, SensorKind
from sensors.readings import WrongType, watts_from_text


class _SensorInfo(Protocol):
    id: str
    kind: SensorKind


class Home(Protocol):
    """What reading rows needs of a home (``routines.home.Home`` is one): its timezone and sensors.
    A protocol, not an import: ``sensors/`` imports nothing above it."""

    tz: tzinfo
    sensors: Sequence[_SensorInfo]


WORDS: dict[str, bool] = {
    "on": True, "off": False, "open": True, "closed": False, "close": False, "occupied": True, "vacant": False,
    "true": True, "false": False, "1": True, "0": False, "detected": True, "clear": False,
}
HEADER = ["time", "sensor", "value"]
DAY_S = 86400.0
EARLIEST, LATEST = 0.0, 7258118400.0  # 1970-01-01 .. 2200-01-01 UTC: beyond, a time is a typo
# How many rows after a jump of more than a day are looked at before the jump is taken as a real gap
# (a gateway switched off for a week) rather than a typo the rows after it come back from.
JUMP_LOOKAHEAD = 16
MAX_JUMP_S = 366 * DAY_S  # a jump further than this is never a real gap: refused even when rows follow it

Row = tuple[float, str, SensorKind, bool | float]


def _ignore(line_no: int, reason: str) -> None:
    return None


def parse_value(text: str, kind: SensorKind) -> bool | float:
    """``on``/``off``-like words for any sensor; a plain number (watts) for a plug only."""
    word = WORDS.get(text) if text in WORDS else WORDS.get(text.strip().lower())
    if word is not None:
        return word
    if kind == SensorKind.PLUG:
        try:
            return watts_from_text(text)
        except WrongType as exc:
            raise ValueError(f"value {text[:40]!r}: {exc}") from None
    raise ValueError(f"value {text!r} is not one of on/off, open/closed, occupied/vacant, true/false, 1/0")


def read_rows(source: str | Path | IO[str], home: Home,
              on_bad_row: Callable[[int, str], None] = _ignore) -> Iterator[Row]:
    """The fast path: ``(epoch_seconds, sensor_id, kind, value)`` per good row, in a sane time order."""
    return in_time(_parse_rows(source, home, on_bad_row), on_bad_row)


def _parse_rows(source: str | Path | IO[str], home: Home,
                on_bad_row: Callable[[int, str], None]) -> Iterator[tuple[int, Row]]:
    tz = home.tz
    kinds = {s.id: s.kind for s in home.sensors}
    fromiso = datetime.fromisoformat
    naive_cache: dict[str, float] = {}
    close = False
    if isinstance(source, (str, Path)):
        f: IO[str] = open(source, encoding="utf-8", newline="")
        close = True
    else:
        f = source
    try:
        first = f.readline()
        if [c.strip().lower() for c in first.lstrip("\ufeff").strip().split(",")] != HEADER:
            on_bad_row(1, f"header must be 'time,sensor,value', got {first.strip()[:80]!r}")
            if first.count(",") != 2:
                return
            f_rows: Iterator[str] = iter([first])
            line_no = 0
        else:
            f_rows = iter(())
            line_no = 1
        for line in _chain(f_rows, f):
            line_no += 1
            parts = line.rstrip("\r\n").split(",")
            if len(parts) != 3:
                if '"' in line:
                    try:
                        parts = next(csv.reader([line]), [])
                    except csv.Error as exc:  # e.g. a lone carriage return inside an unquoted field
                        on_bad_row(line_no, f"not a CSV row: {exc}")
                        continue
                if len(parts) != 3:
                    if line.strip():
                        on_bad_row(line_no, f"expected 3 columns (time,sensor,value), got {len(parts)}")
                    continue
            ts, sid, val = parts
            kind = kinds.get(sid)
            if kind is None:
                sid = sid.strip()
                kind = kinds.get(sid)
                if kind is None:
                    on_bad_row(line_no, f"unknown sensor {sid[:64]!r}")
                    continue
            try:
                value = parse_value(val, kind)
            except ValueError as exc:
                on_bad_row(line_no, str(exc))
                continue
            try:
                dt = fromiso(ts)
            except ValueError:
                try:
                    dt = fromiso(ts.strip())
                except ValueError:
                    on_bad_row(line_no, f"time {ts[:40]!r} is not ISO 8601")
                    continue
            if dt.tzinfo is None:
                # naive = home time; minutes repeat a lot in real data, so cache the zone lookup per minute
                key = ts[:16]
                base = naive_cache.get(key)
                if base is None:
                    base = dt.replace(second=0, microsecond=0, tzinfo=tz).timestamp()
                    if len(naive_cache) > 4096:
                        naive_cache.clear()
                    naive_cache[key] = base
                t = base + dt.second + dt.microsecond / 1e6
            else:
                t = dt.timestamp()
            if not EARLIEST <= t < LATEST:
                on_bad_row(line_no, f"time {ts[:40]!r} is outside 1970..2200")
                continue
            yield line_no, (t, sid, kind, value)
    finally:
        if close:
            f.close()


def in_time(rows: Iterable[tuple[int, Row]], on_bad_row: Callable[[int, str], None]) -> Iterator[Row]:
    """Drop rows far outside the file's own time range (see the module's docstring), reporting each.

    >>> bad = []
    >>> rows = [(2, (0.0, "a", SensorKind.BED, True)), (3, (9e9, "a", SensorKind.BED, False)),
    ...         (4, (60.0, "a", SensorKind.BED, False))]
    >>> [r[0] for r in in_time(rows, lambda n, why: bad.append(n))], bad
    ([0.0, 60.0], [3])
    """
    source = iter(rows)
    again: deque[tuple[int, Row]] = deque()  # rows to look at once more after a jump proved real
    last: float | None = None  # the time of the last row let through
    held: list[tuple[int, Row]] = []  # rows after a jump of more than a day, not decided yet
    while (item := again.popleft() if again else next(source, None)) is not None:
        line_no, row = item
        t = row[0]
        near = last is not None and last - DAY_S <= t <= last + DAY_S
        if last is None or near:
            for bad_line, bad in held:  # back where the file was: what lay beyond was a typo
                on_bad_row(bad_line, _outlier(bad[0], last))
            held = []
            last = t
            yield row
        elif t > last + MAX_JUMP_S:
            on_bad_row(line_no, f"time {_iso(t)} is more than a year after the row before it ({_iso(last)})")
        elif held or t > last:
            held.append(item)
            if len(held) >= JUMP_LOOKAHEAD:  # the rows go on from the jump: a real gap in the recording
                again.extendleft(reversed(held))
                held, last = [], None
        else:
            on_bad_row(line_no, _outlier(t, last))
    if held:  # the file ends after the jump: take it as a gap (replay bounds the clock across gaps)
        yield from in_time(held, on_bad_row)


def _outlier(t: float, last: float | None) -> str:
    if last is not None and t > last:
        return f"time {_iso(t)} is more than a day ahead of the rows around it ({_iso(last)})"
    return f"time {_iso(t)} is more than a day before the row before it ({_iso(last or 0.0)}): is the file sorted?"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _chain(a: Iterator[str], b: IO[str]) -> Iterator[str]:
    yield from a
    yield from b


def read_events_csv(path: str | Path | IO[str], home: Home,
                    on_bad_row: Callable[[int, str], None] = _ignore) -> Iterator[SensorEvent]:
    """SensorEvents from an EVENTS.csv (times in the home's timezone)."""
    tz = home.tz
    for t, sid, kind, value in read_rows(path, home, on_bad_row):
        yield SensorEvent(datetime.fromtimestamp(t, tz), sid, kind, value, "replay")
