"""A quiet home's long recording for ``hearth bench``: about 4,700 days of 200-500 events a day.

Most real homes send a few hundred events a day, so the routine core's per-day work (the day-end) weighs
as much as its per-event work. The recorded homes are busier than that because their bed mats and PIRs
report every flicker: house C's right bed mat sends about 2,000 on/off changes a day, where a Zigbee
occupancy sensor holds its state through a brief release. So the quiet home is house C with every sensor
debounced as such a sensor does it (an "off" shorter than :data:`DEBOUNCE_S` followed by "on" again is no
change at all): 200-425 events on most recorded days, median about 250. Its days are reordered into a long
stream by :func:`benchmarks.streams.build_streams` (seeded, so the file is the same on every machine), and
the CSV is written once into a cache folder, not the repository (about 45 MB).

Without ../shared/data the generated home (:mod:`benchmarks.synthetic`, about 60 events a day) stands in,
and the bench says so.

>>> debounce([(0, "bed", True), (100, "bed", False), (110, "bed", True), (500, "bed", False)], 30)
[(0, 'bed', True), (500, 'bed', False)]
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.homes import DEFAULT_DATA, Event, RecordedHome, load_home, write_events_csv
from benchmarks.streams import build_streams, profile
from benchmarks.synthetic import synthetic_home

DEBOUNCE_S = 30
DAYS = 4_700
SEED = 1


def debounce(events: list[Event], hold_s: int = DEBOUNCE_S) -> list[Event]:
    """``events`` without the off-then-on-again pairs of a sensor whose "off" lasted under ``hold_s``."""
    out: list[Event | None] = []
    last_off: dict[str, tuple[int, int]] = {}  # sensor -> (time, index in out) of its last "off"
    for ev in events:
        t, sid, on = ev
        if on and sid in last_off and t - last_off[sid][0] < hold_s:
            out[last_off.pop(sid)[1]] = None  # the release and the press again: no change at all
            continue
        if on:
            last_off.pop(sid, None)
        else:
            last_off[sid] = (t, len(out))
        out.append(ev)
    return [e for e in out if e is not None]


def quiet_home(data: Path | str | None = DEFAULT_DATA) -> RecordedHome:
    """House C debounced (see the module's docstring), or the generated home without the data."""
    if data is None or not Path(data).is_dir():
        return synthetic_home(days=60, seed=SEED)
    c = load_home("vk2010-C", data)
    return RecordedHome("vk2010-C-quiet", c.sensors, debounce(c.events), c.citation,
                        notes=[*c.notes, f"every sensor debounced: an off shorter than {DEBOUNCE_S} s is no change"],
                        sleep_labels=c.sleep_labels)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hearth" / "bench"


def quiet_home_csv(data: Path | str | None = DEFAULT_DATA, days: int = DAYS,
                   folder: Path | None = None) -> tuple[RecordedHome, Path, int]:
    """(the home, its long EVENTS.csv in the cache, the number of events), written on first use."""
    home = quiet_home(data)
    folder = folder or cache_dir()
    path = folder / f"{home.name}-{days}d-seed{SEED}-debounce{DEBOUNCE_S}.csv"
    if not path.exists():
        stream, _, _ = build_streams(profile(home), 1, days - 1, SEED, kinds=())
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        write_events_csv(stream.events, tmp, home.timezone)
        tmp.replace(path)  # never a half-written file under the final name
    with path.open("rb") as f:
        n = sum(1 for _ in f) - 1
    return home, path, n
