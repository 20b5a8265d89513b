"""The real recorded homes in ``../shared/data`` as Hearth homes: a config and a stream of events.

Read each dataset's SOURCE.md first; the traps it lists are handled here:

- the 2010 ``.sensors`` epoch seconds are Dutch wall-clock time encoded as if UTC, so they are kept
  as *local seconds* (``datetime.utcfromtimestamp`` gives the local wall clock, never shifted);
- every row is an on-interval (start, duration): it becomes an ``on`` and an ``off`` event, and
  overlapping intervals of one sensor are merged so the state never goes on twice;
- sensors that never fire in the recording (house B's front door, house C's freezer) are left out
  of the config and named in ``notes``: a dead sensor would only teach the core to expect silence;
- ids without a name (house B: 4, 20, 22-25; house C: 4) are kept as generic activity in an unknown
  room, because they still show the person moving about;
- an interval means "sensor firing", which is not always "open": house C's reed switches (front door,
  fridge, cupboards, toilet door, flushes) fire while CLOSED (front door "on" spells: median 51 min,
  p90 9 h; "off" spells: median 7 s). A door, cupboard or fridge spends its typical spell at rest
  (closed), so a contact whose recorded "on" spells are typically longer than its "off" spells (medians,
  at least 10 of each) is flipped to Hearth's meaning, on = open (:func:`open_means_on`).

Internally an event is ``(t, sensor_id, on)`` with ``t`` in local seconds (int). Nothing here is
copied into the repository: the data is read from a path.

>>> SENSOR_TABLE["B"]["press bed links"]
('bed_left', 'bed', 'bedroom', 'bed')
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

from routines.home import Home

Event = tuple[int, str, bool]  # (local seconds, sensor id, on)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TIMEZONE = "Europe/Amsterdam"

# name in the dataset (lower case) -> (sensor id, kind, room, role)
SENSOR_TABLE: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "B": {
        "toilet door": ("toilet_door", "contact", "toilet", "toilet_door"),
        "fridge": ("fridge", "contact", "kitchen", "fridge"),
        "cupboard groceries": ("cupboard_groceries", "contact", "kitchen", "cupboard"),
        "toilet flush": ("toilet_flush", "contact", "toilet", "toilet_flush"),
        "frontdoor": ("front_door", "contact", "hall", "front_door"),
        "cupboard plates": ("cupboard_plates", "contact", "kitchen", "cupboard"),
        "bedroom door": ("bedroom_door", "contact", "bedroom", "bedroom_door"),
        "press bed rechts": ("bed_right", "bed", "bedroom", "bed"),
        "press bed links": ("bed_left", "bed", "bedroom", "bed"),
        "kwik cutlary drawer": ("cutlery_drawer", "contact", "kitchen", "cutlery_drawer"),
        "kwik stove lid": ("stove_lid", "contact", "kitchen", "stove"),
        "pir slaapkamer": ("pir_bedroom", "motion", "bedroom", "activity"),
        "kwik dresser": ("dresser", "contact", "bedroom", "activity"),
        "pir badkamer": ("pir_bathroom", "motion", "bathroom", "activity"),
        "gootsteen float": ("sink_float", "contact", "kitchen", "sink"),
        "toaster": ("toaster", "plug", "kitchen", "toaster"),
        "magnetron": ("microwave", "plug", "kitchen", "microwave"),
        "pir keuken": ("pir_kitchen", "motion", "kitchen", "kitchen_motion"),
    },
    "C": {
        "mat bed right pressure mat": ("bed_right", "bed", "bedroom", "bed"),
        "bed mat left pressure mat": ("bed_left", "bed", "bedroom", "bed"),
        "matt couch living room": ("couch", "chair", "living_room", "couch"),
        "freezer drove": ("freezer", "contact", "kitchen", "freezer"),
        "toilet flush top flush": ("toilet_flush_upstairs", "contact", "toilet", "toilet_flush"),
        "toilet flush bottom flush": ("toilet_flush_downstairs", "contact", "toilet_downstairs", "toilet_flush"),
        "keys": ("keys", "contact", "hall", "keys"),
        "bath lift left": ("bath_lift", "contact", "bathroom", "activity"),
        "cutlery drawer mercury sensor": ("cutlery_drawer", "contact", "kitchen", "cutlery_drawer"),
        "table pans reed": ("pans", "contact", "kitchen", "cupboard"),
        "microwave reed": ("microwave", "contact", "kitchen", "microwave"),
        "table scraps containers reed": ("scraps_container", "contact", "kitchen", "activity"),
        "cabinet signs/herb reed": ("herb_cabinet", "contact", "kitchen", "cupboard"),
        "door downstairs toilet": ("toilet_door_downstairs", "contact", "toilet_downstairs", "toilet_door"),
        "cabinet cups/bowl/ tuna reed": ("cups_cabinet", "contact", "kitchen", "cupboard"),
        "front door reed": ("front_door", "contact", "hall", "front_door"),
        "bedroom door": ("bedroom_door", "contact", "bedroom", "bedroom_door"),
        "refrigerator reed": ("fridge", "contact", "kitchen", "fridge"),
        "bathtub pir": ("pir_bathtub", "motion", "bathroom", "activity"),
        "dresser pir": ("pir_dresser", "motion", "bedroom", "activity"),
        "sink top flush": ("washbasin_upstairs", "contact", "toilet", "washbasin"),
    },
    "A2008": {
        "microwave": ("microwave", "contact", "kitchen", "microwave"),
        "hall-toilet door": ("toilet_door", "contact", "hall", "toilet_door"),
        "hall-bathroom door": ("bathroom_door", "contact", "hall", "bathroom_door"),
        "cups cupboard": ("cups_cupboard", "contact", "kitchen", "cupboard"),
        "fridge": ("fridge", "contact", "kitchen", "fridge"),
        "plates cupboard": ("plates_cupboard", "contact", "kitchen", "cupboard"),
        "frontdoor": ("front_door", "contact", "hall", "front_door"),
        "dishwasher": ("dishwasher", "contact", "kitchen", "dishwasher"),
        "toiletflush": ("toilet_flush", "contact", "toilet", "toilet_flush"),
        "freezer": ("freezer", "contact", "kitchen", "freezer"),
        "pans cupboard": ("pans_cupboard", "contact", "kitchen", "cupboard"),
        "washingmachine": ("washing_machine", "contact", "utility", "washing_machine"),
        "groceries cupboard": ("groceries_cupboard", "contact", "kitchen", "cupboard"),
        "hall-bedroom door": ("bedroom_door", "contact", "hall", "bedroom_door"),
    },
}

# home name -> (loader, dataset folder, house letter, citation)
HOMES = {
    "vk2010-B": ("2010", "vankasteren-2010-houseABC", "B",
                 "van Kasteren, Englebienne, Kröse, Pervasive 2010 (tlDatasets), house B"),
    "vk2010-C": ("2010", "vankasteren-2010-houseABC", "C",
                 "van Kasteren, Englebienne, Kröse, Pervasive 2010 (tlDatasets), house C"),
    "vk2008-A": ("2008", "vankasteren-2008-houseA", "A2008",
                 "van Kasteren, Noulas, Englebienne, Kröse, UbiComp 2008, house A"),
}


@dataclass(frozen=True, slots=True)
class SensorSpec:
    id: str
    kind: str
    room: str
    role: str


@dataclass(slots=True)
class RecordedHome:
    """One recorded home: its sensors, its events (sorted, local seconds) and what was changed."""

    name: str
    sensors: list[SensorSpec]
    events: list[Event]
    citation: str = ""
    timezone: str = TIMEZONE
    notes: list[str] = field(default_factory=list)
    sleep_labels: list[tuple[int, int]] = field(default_factory=list)  # labelled 'go to bed' (start, end)

    def config_yaml(self) -> str:
        """A Hearth home config (the minimal form) that :func:`gateway.config.parse_config_text` accepts."""
        lines = [f"# Converted from {self.citation}", f"name: {self.name}", f"timezone: {self.timezone}",
                 "people:", "  - {id: p1, name: Resident, pronoun: he}", "sensors:"]
        for s in self.sensors:
            lines.append(f"  - {{id: {s.id}, kind: {s.kind}, room: {s.room}, role: {s.role}, person: p1}}")
        return "\n".join(lines) + "\n"

    def to_home(self) -> Home:
        from gateway.config import parse_config_text

        return parse_config_text(self.config_yaml(), f"{self.name}.yaml").to_home()

    def spec(self, sensor_id: str) -> SensorSpec:
        return next(s for s in self.sensors if s.id == sensor_id)


def local_datetime(t: float) -> datetime:
    """Local seconds -> naive local wall-clock datetime."""
    return datetime(1970, 1, 1) + timedelta(seconds=t)


def local_seconds(d: datetime) -> int:
    """Naive local wall-clock datetime -> local seconds."""
    return int((d - datetime(1970, 1, 1)).total_seconds())


def aware(t: float, tz: ZoneInfo) -> datetime:
    """Local seconds -> timezone-aware datetime in the home's timezone."""
    return local_datetime(t).replace(tzinfo=tz)


def write_events_csv(events: list[Event], path: Path | str, timezone: str = TIMEZONE) -> int:
    """Write ``time,sensor,value`` with ISO 8601 times carrying the UTC offset; return rows written."""
    tz = ZoneInfo(timezone)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("time,sensor,value\n")
        for t, sid, on in events:
            f.write(f"{aware(t, tz).isoformat()},{sid},{'on' if on else 'off'}\n")
    return len(events)


def intervals_to_events(rows: list[tuple[int, int, str]]) -> list[Event]:
    """(start, end, sensor) on-intervals -> sorted on/off events, overlapping intervals merged.

    >>> intervals_to_events([(10, 20, "a"), (15, 30, "a"), (40, 40, "a")])
    [(10, 'a', True), (30, 'a', False), (40, 'a', True), (41, 'a', False)]
    """
    by_sensor: dict[str, list[tuple[int, int]]] = {}
    for start, end, sid in rows:
        by_sensor.setdefault(sid, []).append((start, max(end, start + 1)))
    events: list[Event] = []
    for sid, spans in by_sensor.items():
        spans.sort()
        cur_s, cur_e = spans[0]
        for s, e in spans[1:]:
            if s <= cur_e:
                cur_e = max(cur_e, e)
            else:
                events += [(cur_s, sid, True), (cur_e, sid, False)]
                cur_s, cur_e = s, e
        events += [(cur_s, sid, True), (cur_e, sid, False)]
    events.sort(key=lambda e: (e[0], e[2], e[1]))  # at equal times an off comes before an on
    return events


def open_means_on(events: list[Event], kinds: dict[str, str]) -> tuple[list[Event], list[str]]:
    """Flip contacts recorded as "on = closed" so that on means open; return the events and flipped ids.

    >>> evs = [(t, "door", on) for i in range(12) for t, on in ((i * 100, True), (i * 100 + 95, False))]
    >>> flipped, ids = open_means_on(evs, {"door": "contact"})
    >>> ids, flipped[:2]
    (['door'], [(0, 'door', False), (95, 'door', True)])
    """
    spells: dict[str, tuple[list[int], list[int]]] = {}
    last: dict[str, Event] = {}
    for ev in events:
        prev = last.get(ev[1])
        if prev is not None and kinds.get(ev[1]) == "contact":
            on_spells, off_spells = spells.setdefault(ev[1], ([], []))
            (on_spells if prev[2] else off_spells).append(ev[0] - prev[0])
        last[ev[1]] = ev
    flip = sorted(sid for sid, (on_s, off_s) in spells.items()
                  if len(on_s) >= 10 and len(off_s) >= 10 and median(on_s) > median(off_s))
    if not flip:
        return events, []
    fl = set(flip)
    out = [(t, sid, (not on) if sid in fl else on) for t, sid, on in events]
    out.sort(key=lambda e: (e[0], e[2], e[1]))
    return out, flip


def _specs_for(table: dict[str, tuple[str, str, str, str]], names: dict[str, str],
               counts: Counter[str]) -> tuple[dict[str, SensorSpec], list[str]]:
    """Map raw ids to specs; unnamed ids become generic activity; never-firing sensors are left out."""
    specs: dict[str, SensorSpec] = {}
    notes: list[str] = []
    for raw, name in names.items():
        entry = table.get(name.lower())
        if entry is None:
            raise ValueError(f"sensor {raw} {name!r} has no row in SENSOR_TABLE")
        if counts[raw] == 0:
            notes.append(f"sensor {raw} ({name}) never fires in the recording: left out of the config")
            continue
        specs[raw] = SensorSpec(*entry)
    for raw in sorted(set(counts) - set(names), key=lambda r: int(r) if r.isdigit() else 0):
        specs[raw] = SensorSpec(f"unnamed_{raw}", "contact", "unknown", "activity")
        notes.append(f"id {raw} has no name ({counts[raw]} firings): kept as activity in an unknown room")
    return specs, notes


def _read_text(path: Path) -> list[str]:
    return path.read_text(encoding="latin-1").splitlines()


def load_vk2010(folder: Path, house: str) -> tuple[list[tuple[int, int, str]], dict[str, str]]:
    """Rows (start, end, raw id) in local seconds and the id -> name map of a 2010 house."""
    rows = []
    for line in _read_text(folder / f"house{house}.sensors"):
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].strip().isdigit():
            start, dur = int(parts[0]), int(parts[1])
            rows.append((start, start + dur, parts[2].strip()))  # epoch = local time as if UTC: keep as is
    names = {}
    for line in _read_text(folder / f"house{house}.sensor_names"):
        parts = line.split("\t", 1)
        if len(parts) == 2 and parts[0].strip():
            names[parts[0].strip()] = parts[1].strip()
    return rows, names


_ROW_2008 = re.compile(r"^(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d)\t(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d)\t(\d+)\t")
_NAME_2008 = re.compile(r"^\s*\[\s*(\d+)\]\s+'([^']+)'")


def load_vk2008(folder: Path) -> tuple[list[tuple[int, int, str]], dict[str, str]]:
    """Rows and names of the 2008 house A text release (local ``dd-Mon-YYYY HH:MM:SS`` times)."""
    rows, names = [], {}
    for line in _read_text(folder / "kasterenSenseData.txt"):
        if m := _ROW_2008.match(line):
            start, end = (local_seconds(datetime.strptime(x, "%d-%b-%Y %H:%M:%S")) for x in m.group(1, 2))
            rows.append((start, end, m.group(3)))
        elif m := _NAME_2008.match(line):
            names[m.group(1)] = m.group(2).strip()
    return rows, names


GO_TO_BED = "10"
_LABEL_ROW_2008 = re.compile(r"^(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d)\t(\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d)\t(\d+)\s*$")


def sleep_intervals(name: str, data: Path | str = DEFAULT_DATA) -> list[tuple[int, int]]:
    """Labelled ``go to bed`` intervals (start, end) of a home, in local seconds: the residents' own
    activity labels (id 10), the evaluation's ground truth for sleep where a day has them."""
    fmt, folder, house, _ = HOMES[name]
    path = Path(data) / folder
    out = []
    if fmt == "2010":
        for line in (path / f"house{house}.activities").read_text(encoding="latin-1").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0].strip().isdigit() and parts[2].strip() == GO_TO_BED:
                start = int(parts[0])
                out.append((start, start + int(parts[1])))  # epoch = local time as if UTC
    else:
        for line in (path / "kasterenActData.txt").read_text(encoding="latin-1").splitlines():
            if (m := _LABEL_ROW_2008.match(line)) and m.group(3) == GO_TO_BED:
                a, b = (local_seconds(datetime.strptime(x, "%d-%b-%Y %H:%M:%S")) for x in m.group(1, 2))
                out.append((a, b))
    return sorted(out)


def load_home(name: str, data: Path | str = DEFAULT_DATA) -> RecordedHome:
    """Load one of :data:`HOMES` from the data folder."""
    fmt, folder, house, citation = HOMES[name]
    path = Path(data) / folder
    rows, names = load_vk2010(path, house) if fmt == "2010" else load_vk2008(path)
    counts = Counter(r[2] for r in rows)
    specs, notes = _specs_for(SENSOR_TABLE[house], names, counts)
    events = intervals_to_events([(s, e, specs[r].id) for s, e, r in rows])
    events, flipped = open_means_on(events, {s.id: s.kind for s in specs.values()})
    if flipped:
        notes.append("recorded 'on' means closed (long on-spells, brief off-spells), flipped to on = open: "
                     + ", ".join(flipped))
    order = {s.id: i for i, s in enumerate(specs.values())}
    sensors = sorted(specs.values(), key=lambda s: order[s.id])
    try:
        labels = sleep_intervals(name, data)
    except OSError:  # a copy of the data without the label files: markers come from the sensors alone
        labels = []
    return RecordedHome(name, sensors, events, citation, notes=notes, sleep_labels=labels)


def convert_all(out: Path | str, data: Path | str = DEFAULT_DATA) -> list[Path]:
    """Write ``NAME.yaml`` and ``NAME.events.csv`` for every home into ``out``; return the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in HOMES:
        home = load_home(name, data)
        cfg, csv = out / f"{name}.yaml", out / f"{name}.events.csv"
        cfg.write_text(home.config_yaml(), encoding="utf-8")
        write_events_csv(home.events, csv, home.timezone)
        written += [cfg, csv]
    return written


def utc_now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
