"""A small generator of plausible days for one person (seeded), and checks that it is plausible.

Other routine tests import :func:`make_home` and :func:`month`. The person (Ann) gets up around 07:30,
visits the bathroom, makes tea (kettle plug, fridge, kitchen motion), sits in her chair with movement
in the living room, goes out on some days, cooks at lunch and dinner, and goes to bed around 22:30 with
0-2 night-time bathroom trips.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from routines.home import Home, Person, SensorInfo
from sensors.events import SensorEvent, SensorKind

TZ = ZoneInfo("Europe/London")
K = SensorKind
SENSORS = (
    SensorInfo("bed", K.BED, "bedroom", "bed", "p1"),
    SensorInfo("chair", K.CHAIR, "living room", "chair", "p1"),
    SensorInfo("living_pir", K.MOTION, "living room", "activity", "p1"),
    SensorInfo("kitchen_pir", K.MOTION, "kitchen", "kitchen_motion", "p1"),
    SensorInfo("fridge", K.CONTACT, "kitchen", "fridge", "p1"),
    SensorInfo("kettle", K.PLUG, "kitchen", "kettle", "p1"),
    SensorInfo("bath_pir", K.MOTION, "bathroom", "activity", "p1"),
    SensorInfo("flush", K.CONTACT, "bathroom", "toilet_flush", "p1"),
    SensorInfo("maindoor", K.CONTACT, "hall", "front_door", "p1"),
)

Ev = tuple[datetime, str, bool | float]


def make_home() -> Home:
    return Home("Europe/London", (Person("p1", "Ann", "she"),), SENSORS)


def at(d: date, hour: float) -> datetime:
    """Local wall time ``hour`` (may exceed 24: the small hours after that day) as an aware datetime."""
    return (datetime(d.year, d.month, d.day) + timedelta(hours=hour)).replace(tzinfo=TZ)


def _motion(out: list[Ev], t: datetime, sid: str) -> None:
    out += [(t, sid, True), (t + timedelta(seconds=60), sid, False)]


def _bathroom(out: list[Ev], t: datetime, rng: random.Random) -> datetime:
    _motion(out, t, "bath_pir")
    t2 = t + timedelta(minutes=rng.uniform(2, 5))
    out.append((t2, "flush", True))
    out.append((t2 + timedelta(seconds=5), "flush", False))
    return t2 + timedelta(seconds=30)


def _kitchen(out: list[Ev], t: datetime, rng: random.Random, kettle: bool = True) -> datetime:
    _motion(out, t, "kitchen_pir")
    out += [(t + timedelta(seconds=20), "fridge", True), (t + timedelta(seconds=40), "fridge", False)]
    if kettle:
        out += [(t + timedelta(seconds=60), "kettle", 2200.0),
                (t + timedelta(seconds=60 + rng.uniform(120, 200)), "kettle", 0.0)]
    _motion(out, t + timedelta(minutes=4), "kitchen_pir")
    return t + timedelta(minutes=rng.uniform(8, 20))


def _living(out: list[Ev], start: datetime, end: datetime, rng: random.Random) -> None:
    """Sitting in the chair with movement every few minutes (standing up now and then)."""
    t = start
    out.append((t, "chair", True))
    while True:
        t += timedelta(minutes=rng.uniform(4, 25))
        if t >= end:
            break
        _motion(out, t, "living_pir")
        if rng.random() < 0.2:
            out.append((t, "chair", False))
            out.append((t + timedelta(minutes=2), "chair", True))
    out.append((end, "chair", False))


def day_events(d: date, rng: random.Random) -> list[Ev]:
    """One person day, from getting up on ``d`` to the small hours of the next date."""
    out: list[Ev] = []
    wake = rng.gauss(7.5, 0.3)
    t = at(d, wake)
    out.append((t, "bed", False))
    t = _bathroom(out, t + timedelta(minutes=1), rng)
    t = _kitchen(out, t + timedelta(minutes=2), rng)
    outing = rng.random() < 0.4
    _living(out, t, at(d, 10.0), rng)
    if outing:
        t = at(d, 10.0 + rng.uniform(0, 0.3))
        _motion(out, t, "living_pir")
        out += [(t + timedelta(minutes=1), "maindoor", True), (t + timedelta(minutes=1, seconds=20), "maindoor", False)]
        back = t + timedelta(hours=rng.uniform(1.0, 2.0))
        out += [(back, "maindoor", True), (back + timedelta(seconds=20), "maindoor", False)]
        _motion(out, back + timedelta(minutes=1), "living_pir")
        t = back + timedelta(minutes=5)
        if t < at(d, 12.2):
            _living(out, t, at(d, 12.3), rng)
    else:
        t = at(d, 10.0)
        _living(out, t, at(d, 12.3), rng)
    t = max(t, at(d, 12.3))
    t = _kitchen(out, t + timedelta(minutes=rng.uniform(0, 30)), rng)
    t = _bathroom(out, t, rng)
    _living(out, t + timedelta(minutes=1), at(d, 17.8), rng)
    t = _kitchen(out, at(d, 17.8 + rng.uniform(0, 0.4)), rng, kettle=False)
    _living(out, t, at(d, 21.8), rng)
    t = _bathroom(out, at(d, 21.9), rng)
    bed = at(d, rng.gauss(22.5, 0.3))
    out.append((max(bed, t + timedelta(minutes=1)), "bed", True))
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        nt = at(d, rng.uniform(24.5, 29.5))
        out.append((nt, "bed", False))
        back = _bathroom(out, nt + timedelta(minutes=1), rng)
        out.append((back + timedelta(minutes=rng.uniform(1, 4)), "bed", True))
    return out


def month(start: date, days: int, seed: int = 7, edit=None) -> list[SensorEvent]:
    """Time-ordered events for ``days`` person days; ``edit(day_index, d, events)`` may change a day."""
    rng = random.Random(seed)
    evs: list[Ev] = []
    # the evening before day 0: in bed
    evs.append((at(start - timedelta(days=1), 22.5), "bed", True))
    for i in range(days):
        d = start + timedelta(days=i)
        day = day_events(d, rng)
        if edit is not None:
            day = edit(i, d, day)
        evs += day
    evs.sort(key=lambda e: e[0])
    kinds = {s.id: s.kind for s in SENSORS}
    return [SensorEvent(t, sid, kinds[sid], v, "test") for t, sid, v in evs]


def test_generated_days_are_plausible() -> None:
    evs = month(date(2026, 3, 2), 7)
    assert evs == sorted(evs, key=lambda e: e.time)
    per_sensor: dict[str, int] = {}
    for e in evs:
        per_sensor[e.sensor_id] = per_sensor.get(e.sensor_id, 0) + 1
    assert set(per_sensor) == {s.id for s in SENSORS}
    assert 100 < len(evs) / 7 < 400  # a modestly sensored home
    beds = [e for e in evs if e.sensor_id == "bed" and e.value is True and e.time.hour in (21, 22, 23)]
    assert len(beds) == 7 + 1
