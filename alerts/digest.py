"""The family's calm daily note, a small chart of the day against the usual day, and the team's weekly trends.

Written from :class:`routines.summary.DaySummary` only (never from raw sensor data). The note says plainly
what was seen; where sensors were offline it says what could not be seen, and it never says "all normal".

>>> from datetime import date, datetime, time
>>> s = DaySummary("p1", date(2026, 1, 5), time(7, 40), time(7, 50), time(22, 15), time(22, 30),
...                {"kettle": 4}, 30, [(datetime(2026, 1, 5, 14, 10), datetime(2026, 1, 5, 15, 30))], 0,
...                (0,) * 24, (0.0,) * 24, [], [])
>>> print(digest_text(s, "Ann"))
Up at 07:40 (usually up by 07:50). Kettle 4 times. Out 14:10-15:30. In bed by 22:15. A settled night.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, time
from functools import cache
from pathlib import Path
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from alerts.notifiers.base import OutgoingMessage
from routines.kinds import words as kind_words
from routines.summary import DaySummary

USUAL_WITHIN_MIN = 30  # a bed time within this of the usual one reads as usual (a wake: by the usual time)

# appliance roles as people say them
ROLE_WORDS = {"kettle": "Kettle", "microwave": "Microwave", "toaster": "Toaster", "hob": "Hob", "stove": "Cooker",
              "oven": "Oven", "tv": "TV", "washing_machine": "Washing machine", "dishwasher": "Dishwasher",
              "iron": "Iron", "heater": "Heater"}


def _hhmm(t: time | datetime) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _local(d: datetime, tz: ZoneInfo | None) -> datetime:
    return d.astimezone(tz) if tz is not None and d.tzinfo is not None else d


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _compare(seen: time, usual: time | None, what: str, late_word: str, early_word: str) -> str:
    if usual is None:
        return f"{what} {_hhmm(seen)}."
    # wrap-around difference, so 23:50 vs 00:10 is 20 minutes, not 23 hours
    diff = (_minutes(seen) - _minutes(usual) + 720) % 1440 - 720
    if abs(diff) <= USUAL_WITHIN_MIN:
        return f"{what} {_hhmm(seen)} as usual."
    word = late_word if diff > 0 else early_word
    return f"{what} {_hhmm(seen)}, {word} than usual (usually about {_hhmm(usual)})."


def _up(seen: time, usual_by: time | None) -> str:
    """Getting up, against the ONE usual time the day's alerts cite: the latest the person is usually up
    by (so a worker's "usually up by 07:38" and the family's note never give two different usuals)."""
    if usual_by is None:
        return f"Up at {_hhmm(seen)}."
    if _late(seen, usual_by) > 0:
        return f"Up at {_hhmm(seen)}, later than usual (usually up by {_hhmm(usual_by)})."
    return f"Up at {_hhmm(seen)} (usually up by {_hhmm(usual_by)})."


def _late(seen: time, usual: time) -> int:
    """Minutes ``seen`` is after ``usual``, around the clock (23:50 vs 00:10 is -20, not 23 hours)."""
    return (_minutes(seen) - _minutes(usual) + 720) % 1440 - 720


def digest_sentences(s: DaySummary, name: str, tz: ZoneInfo | None = None) -> list[str]:
    """The note as sentences, in the order of the day."""
    out: list[str] = []
    blind = " ".join(s.blind).lower()
    if s.wake_time is not None:
        out.append(_up(s.wake_time, s.usual_wake_time))
    else:
        out.append(f"I could not tell when {name} got up.")
    uses = sorted(((n, role) for role, n in s.appliance_uses.items() if n > 0), key=lambda x: (-x[0], x[1]))
    if uses:
        words = [f"{ROLE_WORDS.get(role, role.replace('_', ' ').capitalize())} {_times(n)}" for n, role in uses]
        out.append(", ".join([words[0], *(w[0].lower() + w[1:] for w in words[1:])]) + ".")
    elif s.kitchen_events > 0:
        out.append(f"Busy in the kitchen ({s.kitchen_events} times).")
    elif "kitchen" not in blind and not any(r in blind for r in ROLE_WORDS):
        out.append("No kitchen activity seen.")
    if s.outings:
        spans = []
        for start, end in s.outings:
            a = _local(start, tz)
            spans.append(f"{_hhmm(a)}-{_hhmm(_local(end, tz))}" if end is not None
                         else f"from {_hhmm(a)} (not back by the end of the day)")
        out.append("Out " + (", ".join(spans[:-1]) + " and " + spans[-1] if len(spans) > 1 else spans[0]) + ".")
    if s.bed_time is not None:
        bed = _compare(s.bed_time, s.usual_bed_time, "In bed by", "later", "earlier")
        out.append(bed.replace(" as usual.", "."))
    else:
        out.append(f"I did not see {name} go to bed.")
    # the person day runs to the next morning, so its night comes after bed time; a night is called
    # settled only when the bed was seen and she was seen going to it (else nothing is claimed)
    if s.night_bed_exits == 0:
        if "bed" not in blind and s.bed_time is not None:
            out.append("A settled night.")
    else:
        out.append(f"Up {_times(s.night_bed_exits)} in the night.")
    if s.blind:
        out.append("Some sensors were offline, so this is not the whole picture. I could not see: "
                   + "; ".join(s.blind) + ".")
    return out


def digest_text(s: DaySummary, name: str, tz: ZoneInfo | None = None) -> str:
    """The calm daily note for the Community Circle, one paragraph."""
    return " ".join(digest_sentences(s, name, tz))


def digest_title(s: DaySummary, name: str) -> str:
    return f"{name}'s day: {s.date.strftime('%A')} {s.date.day} {s.date.strftime('%B')}"


# ---- chart ------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 720, 360
TODAY = (46, 110, 180)
USUAL = (230, 140, 40)
INK = (40, 40, 40)
GRID = (225, 225, 225)
_FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for f in _FONT_FILES:
        if f.startswith("/") and not Path(f).exists():
            continue
        try:
            return ImageFont.truetype(f, size)
        except OSError:
            continue
    return ImageFont.load_default(size)  # Pillow's own scalable font


DAY_START_HOUR = 4  # routines' default day_start_hour; a home that changes it passes its own


def _hour_label(h: int) -> str:
    return {0: "midnight", 12: "noon"}.get(h, f"{h % 12 or 12}{'am' if h < 12 else 'pm'}")


def digest_chart(s: DaySummary, name: str, day_start_hour: int = DAY_START_HOUR) -> bytes:
    """A 720x360 PNG: the person day's sensor events per hour (bars) against a usual day (line).

    The hours run in the person day's own order, from ``day_start_hour`` to the same hour next morning,
    so the night after the day is drawn after its evening, not on its morning. The bars are named by the
    day's weekday (a digest is read the next morning: "Today" would be wrong), the y axis says what it
    counts, and while the usual day is still being learned the chart says so instead of leaving it out.
    """
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    d = ImageDraw.Draw(img)
    title, label, small = _font(26), _font(20), _font(18)
    d.text((20, 12), digest_title(s, name), font=title, fill=INK)
    left, right, top, bottom = 44, WIDTH - 20, 116, HEIGHT - 44
    order = [(day_start_hour + i) % 24 for i in range(24)]
    today = [s.hourly_activity[h] if h < len(s.hourly_activity) else 0 for h in order]
    usual = [s.usual_hourly_activity[h] if h < len(s.usual_hourly_activity) else 0.0 for h in order]
    learning = not any(usual)
    # legend
    d.rectangle((24, 58, 44, 78), fill=TODAY)
    day_word = s.date.strftime("%A")
    d.text((52, 56), day_word, font=label, fill=INK)
    lx = 52 + d.textlength(day_word, font=label) + 28
    if learning:
        d.text((lx, 56), "Usual day: still learning", font=label, fill=USUAL)
    else:
        d.line((lx, 68, lx + 36, 68), fill=USUAL, width=5)
        d.text((lx + 44, 56), "A usual day", font=label, fill=INK)
    peak = max([*today, *usual, 1])
    slot = (right - left) / 24

    def y(v: float) -> float:
        return bottom - (bottom - top) * v / peak

    d.text((left - 36, top - 14), "sensor events each hour", font=small, fill=(110, 110, 110), anchor="ls")
    for frac in (0.5, 1.0):
        d.line((left, y(peak * frac), right, y(peak * frac)), fill=GRID, width=1)
        d.text((left - 6, y(peak * frac)), f"{peak * frac:.0f}", font=small, fill=(110, 110, 110), anchor="rm")
    for i, v in enumerate(today):
        if v > 0:
            d.rectangle((left + i * slot + 3, y(v), left + (i + 1) * slot - 3, bottom), fill=TODAY)
    if not learning:
        pts = [(left + (i + 0.5) * slot, y(v)) for i, v in enumerate(usual)]
        d.line(pts, fill=USUAL, width=5, joint="curve")
    d.line((left, bottom, right, bottom), fill=INK, width=2)
    for i, h in enumerate(order):
        if i % 4 == 0:  # every four hours from the day's start: room for "midnight" on a phone
            x = left + i * slot
            d.line((x, bottom, x, bottom + 6), fill=INK, width=2)
            d.text((x, bottom + 8), _hour_label(h), font=small, fill=INK, anchor="ma" if i else "la")
    if s.blind:
        d.text((right, 60), "some sensors offline", font=small, fill=(170, 40, 40), anchor="ra")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# ---- the day as facts, for the hub (its alert chart and the Circle's week strip) -------------------

def day_facts(s: DaySummary, tz: ZoneInfo | None = None, day_start_hour: int = DAY_START_HOUR) -> dict[str, Any]:
    """The day's facts as the hub needs them, in the home's local clock: no words, only what was seen
    (times, counts) and the hourly counts the chart draws (index = clock hour). ``night_seen`` is the
    digest's own rule: a night is called settled only when the bed was seen and so was going to it.

    >>> from datetime import date, datetime, time
    >>> s = DaySummary("p1", date(2026, 1, 5), time(7, 40), time(7, 35), time(22, 15), None, {"kettle": 4}, 6,
    ...                [(datetime(2026, 1, 5, 10, 5), datetime(2026, 1, 5, 11, 30))], 1, (0,) * 24, (0.0,) * 24, [], [])
    >>> f = day_facts(s)
    >>> f["up"], f["outings"], f["night_trips"], f["night_seen"], f["kitchen"], f["meals"]
    ('07:40', [['10:05', '11:30']], 1, True, 6, None)
    >>> from dataclasses import replace
    >>> day_facts(replace(s, meals=0))["meals"], day_facts(replace(s, meals=2))["meals"]  # 0 with kitchen use: unsaid
    (None, 2)
    """
    blind = " ".join(s.blind).lower()
    meals = getattr(s, "meals", None)  # meal episodes (None: no kitchen sensor): the hub then says "kitchen N times"
    if meals == 0 and s.kitchen_events:
        # the meal rule wants a run of kitchen events that a home with only a kettle plug never makes:
        # "0 meals" on a day the kitchen was used would be untrue to a family; its count is what was seen
        meals = None
    return {
        "date": s.date.isoformat(), "day_start_hour": day_start_hour,
        "up": _hhmm(s.wake_time) if s.wake_time else None,
        "usual_up": _hhmm(s.usual_wake_time) if s.usual_wake_time else None,
        "bed": _hhmm(s.bed_time) if s.bed_time else None,
        "kitchen": s.kitchen_events, "meals": meals if isinstance(meals, int) else None,
        "appliances": {k: n for k, n in s.appliance_uses.items() if n > 0},
        "outings": [[_hhmm(_local(a, tz)), _hhmm(_local(b, tz)) if b is not None else None] for a, b in s.outings],
        "night_trips": s.night_bed_exits, "night_seen": "bed" not in blind and s.bed_time is not None,
        "blind": list(s.blind),
        "hourly": [int(v) for v in s.hourly_activity[:24]],
        "usual_hourly": [round(float(v), 2) for v in s.usual_hourly_activity[:24]],
    }


# ---- weekly trends for the team ---------------------------------------------------------------------

def _mean_time(ts: list[time]) -> str | None:
    if not ts:
        return None
    # average around the clock's noon-to-noon (bed times straddle midnight)
    mins = [(_minutes(t) + 720) % 1440 - 720 if t.hour >= 12 else _minutes(t) for t in ts]
    m = round(mean(mins)) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def weekly_trends(days: Sequence[DaySummary], name: str, learning: Sequence[str] = ()) -> str:
    """A short note for the wellbeing team from (up to) seven day summaries, oldest first. ``learning``:
    while the routine core still learns this person, what each check watches with (the same words as
    ``hearth status``; ``routines.learning.weekly_note_lines``), so the team knows which limits are the
    starting ones."""
    if not days:
        return f"No days were summarised for {name} this week." + "".join(f"\n{line}" for line in learning)
    days = sorted(days, key=lambda s: s.date)
    first, last = days[0].date, days[-1].date
    lines = [f"{name}, {first.day} {first.strftime('%b')} to {last.day} {last.strftime('%b')} ({len(days)} days)."]
    wakes = [s.wake_time for s in days if s.wake_time is not None]
    beds = [s.bed_time for s in days if s.bed_time is not None]
    if wakes:
        late = sum(1 for s in days if s.wake_time and s.usual_wake_time and _late(s.wake_time, s.usual_wake_time) > 0)
        lines.append(f"Up on average at {_mean_time(wakes)} (seen on {len(wakes)} of {len(days)} days"
                     + (f"; later than usual on {late})." if late else ")."))
    if beds:
        lines.append(f"In bed on average by {_mean_time(beds)} (seen on {len(beds)} of {len(days)} days).")
    exits = [s.night_bed_exits for s in days]
    half = len(exits) // 2
    trend = ""
    if half and mean(exits[half:]) > mean(exits[:half]) + 0.9:
        trend = ", more often later in the week"
    lines.append(f"Up in the night {sum(exits)} times in all{trend}.")
    totals: dict[str, int] = {}
    for s in days:
        for role, n in s.appliance_uses.items():
            totals[role] = totals.get(role, 0) + n
    if totals:
        per_day = ", ".join(f"{ROLE_WORDS.get(r, r.replace('_', ' ')).lower()} {n / len(days):.1f}"
                            for r, n in sorted(totals.items(), key=lambda x: -x[1]))
        lines.append(f"Appliances per day: {per_day}.")
    outs = sum(len(s.outings) for s in days)
    lines.append(f"Went out {_times(outs) if outs else 'not at all'}" + (
        f", on {sum(1 for s in days if s.outings)} days." if outs else "."))
    kinds: dict[str, int] = {}
    for s in days:
        for k in s.alerts:
            kinds[k] = kinds.get(k, 0) + 1
    if kinds:
        lines.append("Alerts: " + ", ".join(f"{kind_words(k)} ({n})"
                                            for k, n in sorted(kinds.items(), key=lambda x: -x[1])) + ".")
    else:
        lines.append("No alerts.")
    lines.extend(unusual_day_lines(days))
    blind_days = [s for s in days if s.blind]
    if blind_days:
        lines.append(f"Partly blind on {len(blind_days)} day{'s' if len(blind_days) > 1 else ''}: "
                     + "; ".join(f"{s.date.strftime('%a')}: {', '.join(s.blind)}" for s in blind_days) + ".")
    lines.extend(learning)
    return "\n".join(lines)


def unusual_day_lines(days: Sequence[DaySummary]) -> list[str]:
    """The week's least usual day by the daily profile's score, with what was unusual in the person's own
    figures (:mod:`routines.unusual`); nothing when no day lay beyond the learned days. Days a context
    explains (a visit, a holiday) or with sensors offline (a dead sensor looks like an empty kitchen) are
    not candidates.

    >>> from datetime import date
    >>> d = DaySummary("p1", date(2026, 1, 8), None, None, None, None, {}, 2, [], 0, (0,) * 24, (0.0,) * 24, [], [],
    ...                profile_score=0.4, unusual=("2 kitchen events (on all 30 days learned between 14 and 40)",))
    >>> unusual_day_lines([d])
    ['Least usual day, Thursday 8 Jan: 2 kitchen events (on all 30 days learned between 14 and 40).']
    """
    odd = [s for s in days if getattr(s, "unusual", ()) and not s.contexts and not s.blind]
    if not odd:
        return []
    s = max(odd, key=lambda x: x.profile_score)
    return [f"Least usual day, {s.date.strftime('%A')} {s.date.day} {s.date.strftime('%b')}: "
            + "; ".join(s.unusual) + "."]


# ---- as a message, and as files --------------------------------------------------------------------

def digest_message(s: DaySummary, name: str, recipient: str, channel: str,
                   tz: ZoneInfo | None = None, day_start_hour: int = DAY_START_HOUR) -> OutgoingMessage:
    """The daily digest for one recipient on one channel, chart attached; the id is stable per day."""
    return OutgoingMessage(
        message_id=f"digest/{s.person}/{s.date.isoformat()}/{recipient}/{channel}", recipient=recipient,
        channel=channel, category="digest", title=digest_title(s, name), body=digest_text(s, name, tz),
        priority="low", tags=("house",),
        attachments=((f"{s.person}-{s.date.isoformat()}.png", digest_chart(s, name, day_start_hour), "image/png"),))


def write_digest_files(s: DaySummary, name: str, out_dir: Path, tz: ZoneInfo | None = None,
                       day_start_hour: int = DAY_START_HOUR) -> tuple[Path, Path]:
    """Write ``PERSON-YYYY-MM-DD.txt`` and ``.png`` into ``out_dir`` (used by ``hearth replay``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{s.person}-{s.date.isoformat()}"
    txt, png = stem.with_suffix(".txt"), stem.with_suffix(".png")
    txt.write_text(f"{digest_title(s, name)}\n\n{digest_text(s, name, tz)}\n", encoding="utf-8")
    png.write_bytes(digest_chart(s, name, day_start_hour))
    return txt, png
