"""Read recorded events from an EVENTS.csv (``time,sensor,value``) into SensorEvents, fast and forgiving.

``time`` is ISO 8601 (naive means the home's timezone); ``sensor`` a configured sensor id; ``value``
``on``/``off``, ``open``/``closed``, ``occupied``/``vacant``, ``true``/``false``, ``1``/``0``, or a
number of watts for a plug. A bad row is reported through ``on_bad_row(line_no, reason)`` and skipped.

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
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

from routines.home import Home
from sensors.events import SensorEvent, SensorKind

WORDS: dict[str, bool] = {
    "on": True, "off": False, "open": True, "closed": False, "close": False, "occupied": True, "vacant": False,
    "true": True, "false": False, "1": True, "0": False, "detected": True, "clear": False,
}
HEADER = ["time", "sensor", "value"]


def _ignore(line_no: int, reason: str) -> None:
    return None


def parse_value(text: str, kind: SensorKind) -> bool | float:
    """``on``/``off``-like words for any sensor; a plain number (watts) for a plug only."""
    word = WORDS.get(text) if text in WORDS else WORDS.get(text.strip().lower())
    if word is not None:
        return word
    if kind == SensorKind.PLUG:
        try:
            watts = float(text)
        except ValueError:
            raise ValueError(f"value {text!r} is neither on/off nor watts") from None
        if not math.isfinite(watts) or watts < 0:
            raise ValueError(f"watts must be a finite number >= 0, not {text!r}")
        return watts
    raise ValueError(f"value {text!r} is not one of on/off, open/closed, occupied/vacant, true/false, 1/0")


def read_rows(source: str | Path | IO[str], home: Home,
              on_bad_row: Callable[[int, str], None] = _ignore) -> Iterator[tuple[float, str, SensorKind, bool | float]]:
    """The fast path: ``(epoch_seconds, sensor_id, kind, value)`` per good row."""
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
                    parts = next(csv.reader([line]), [])
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
            yield t, sid, kind, value
    finally:
        if close:
            f.close()


def _chain(a: Iterator[str], b: IO[str]) -> Iterator[str]:
    yield from a
    yield from b


def read_events_csv(path: str | Path | IO[str], home: Home,
                    on_bad_row: Callable[[int, str], None] = _ignore) -> Iterator[SensorEvent]:
    """SensorEvents from an EVENTS.csv (times in the home's timezone)."""
    tz = home.tz
    for t, sid, kind, value in read_rows(path, home, on_bad_row):
        yield SensorEvent(datetime.fromtimestamp(t, tz), sid, kind, value, "replay")
