"""The family digest (text and PNG chart) and the team's weekly trends, from DaySummary objects."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from alerts.digest import (
    TODAY,
    USUAL,
    digest_chart,
    digest_sentences,
    digest_text,
    digest_title,
    weekly_trends,
)
from routines.summary import DaySummary

HOURLY = (0, 0, 0, 1, 0, 0, 0, 6, 12, 9, 5, 7, 10, 6, 0, 0, 4, 8, 9, 7, 6, 3, 1, 0)
USUAL_HOURLY = (0.2, 0.1, 0.3, 0.5, 0.2, 0.1, 0.5, 5, 10, 8, 6, 6, 9, 7, 5, 4, 5, 7, 8, 7, 5, 3, 1, 0.4)


def day(d: date = date(2026, 1, 5), **kw: object) -> DaySummary:
    base = DaySummary(
        person="p1", date=d, wake_time=time(7, 40), usual_wake_time=time(7, 50), bed_time=time(22, 15),
        usual_bed_time=time(22, 30), appliance_uses={"kettle": 4}, kitchen_events=30,
        outings=[(datetime.combine(d, time(14, 10)), datetime.combine(d, time(15, 30)))], night_bed_exits=0,
        hourly_activity=HOURLY, usual_hourly_activity=USUAL_HOURLY, blind=[], alerts=[])
    return replace(base, **kw)


def test_the_ordinary_day_reads_as_in_the_issue() -> None:
    assert digest_text(day(), "Ann") == (
        "Up at 07:40 (usually up by 07:50). Kettle 4 times. Out 14:10-15:30. In bed by 22:15. A settled night.")


def test_a_late_morning_and_late_night_say_so_calmly() -> None:
    s = day(wake_time=time(9, 10), bed_time=time(0, 20), usual_bed_time=time(22, 30), night_bed_exits=2,
            appliance_uses={"kettle": 1, "microwave": 2, "washing_machine": 1}, outings=[])
    assert digest_sentences(s, "Ann") == [
        "Up at 09:10, later than usual (usually up by 07:50).",
        "Microwave twice, kettle once, washing machine once.",
        "In bed by 00:20, later than usual (usually about 22:30).",
        "Up twice in the night.",
    ]


def test_offline_sensors_are_named_and_nothing_is_claimed_about_them() -> None:
    s = day(wake_time=None, bed_time=None, appliance_uses={}, kitchen_events=0, outings=[],
            blind=["the bed sensor (offline from 02:10)", "the kettle plug (no reports all day)"])
    text = digest_text(s, "Ann")
    assert text == ("I could not tell when Ann got up. I did not see Ann go to bed. "
                    "Some sensors were offline, so this is not the whole picture. I could not see: "
                    "the bed sensor (offline from 02:10); the kettle plug (no reports all day).")
    assert "normal" not in text.lower() and "settled" not in text


def test_no_kitchen_activity_is_said_only_when_the_kitchen_could_be_seen() -> None:
    quiet = day(appliance_uses={}, kitchen_events=0)
    assert "No kitchen activity seen." in digest_sentences(quiet, "Ann")
    blind = replace(quiet, blind=["the kitchen motion sensor (offline)"])
    assert not any("kitchen activity" in x for x in digest_sentences(blind, "Ann"))
    assert "Busy in the kitchen (7 times)." in digest_sentences(day(appliance_uses={}, kitchen_events=7), "Ann")


def test_outings_in_home_time_including_one_not_back() -> None:
    london = ZoneInfo("Europe/London")
    d = date(2026, 7, 6)  # summer time: UTC+1
    s = day(d, outings=[(datetime(2026, 7, 6, 9, 5, tzinfo=UTC), datetime(2026, 7, 6, 9, 40, tzinfo=UTC)),
                        (datetime(2026, 7, 6, 20, 0, tzinfo=UTC), None)])
    assert "Out 10:05-10:40 and from 21:00 (not back by the end of the day)." in digest_sentences(s, "Ann", london)


def test_chart_is_a_phone_sized_png_showing_today_against_usual() -> None:
    png = digest_chart(day(), "Ann")
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert img.size == (720, 360)
    colours = {c for _, c in img.getcolors(720 * 360)}
    assert TODAY in colours and USUAL in colours
    # the busiest hour (08:00, 12 events) has the tallest bar: count today's colour per column
    assert bar_height(img, 8) > bar_height(img, 12) > bar_height(img, 21) > 0
    assert bar_height(img, 14) == 0  # out: no bar
    offline = Image.open(io.BytesIO(digest_chart(day(blind=["the bed sensor"]), "Ann"))).convert("RGB")
    assert (170, 40, 40) in {c for _, c in offline.getcolors(720 * 360)}
    assert (170, 40, 40) not in colours


SLOT = (720 - 20 - 44) / 24


def bar_height(img: Image.Image, hour: int, day_start: int = 4) -> int:
    """Pixels of the day's colour in the column of clock ``hour`` (hours run from the day's start)."""
    x = int(44 + ((hour - day_start) % 24 + 0.5) * SLOT)
    return sum(1 for yy in range(116, 360) if img.getpixel((x, yy)) == TODAY)


def test_the_night_after_the_day_is_drawn_after_its_evening() -> None:
    """A 03:00 trip belongs to the night after the day (the person day ends at 04:00): it is drawn at
    the right end, after midnight, never at the left as if it were that morning."""
    hourly = [0] * 24
    hourly[3], hourly[9] = 5, 7
    img = Image.open(io.BytesIO(digest_chart(day(hourly_activity=tuple(hourly)), "Ann"))).convert("RGB")
    last_column = int(44 + 23.5 * SLOT)
    first_column = int(44 + 0.5 * SLOT)
    assert sum(1 for yy in range(116, 316) if img.getpixel((last_column, yy)) == TODAY) > 0
    assert sum(1 for yy in range(116, 316) if img.getpixel((first_column, yy)) == TODAY) == 0
    assert bar_height(img, 9) > bar_height(img, 3) > 0
    late_start = Image.open(io.BytesIO(digest_chart(day(hourly_activity=tuple(hourly)), "Ann", day_start_hour=2)))
    assert bar_height(late_start.convert("RGB"), 3, day_start=2) > 0


def test_the_chart_names_its_day_and_says_when_the_usual_day_is_still_being_learned() -> None:
    learning = Image.open(io.BytesIO(digest_chart(day(usual_hourly_activity=(0.0,) * 24), "Ann"))).convert("RGB")
    plot = learning.crop((44, 116, 700, 316))
    assert USUAL not in {c for _, c in plot.getcolors(656 * 200)}  # no line drawn...
    legend = learning.crop((0, 50, 720, 90))
    assert USUAL in {c for _, c in legend.getcolors(720 * 40)}  # ...and the legend says why, in its colour
    learned = Image.open(io.BytesIO(digest_chart(day(), "Ann"))).convert("RGB")
    assert USUAL in {c for _, c in learned.crop((44, 116, 700, 316)).getcolors(656 * 200)}


def test_a_night_is_not_called_settled_when_bed_was_not_seen() -> None:
    s = day(bed_time=None, night_bed_exits=0)
    assert digest_sentences(s, "Ann")[-1] == "I did not see Ann go to bed."
    assert "settled" not in digest_text(s, "Ann")


def test_title_names_the_day() -> None:
    assert digest_title(day(), "Ann") == "Ann's day: Monday 5 January"


def test_weekly_trends_for_the_team() -> None:
    start = date(2026, 1, 5)
    days = [day(start + timedelta(days=i), night_bed_exits=i // 4 * 2, alerts=["not_up"] if i == 3 else [])
            for i in range(7)]
    days[1] = replace(days[1], bed_time=time(23, 30))
    days[2] = replace(days[2], bed_time=time(0, 30), wake_time=time(9, 0), blind=["the bed sensor"])
    days[4] = replace(days[4], appliance_uses={"kettle": 2, "microwave": 7})
    text = weekly_trends(list(reversed(days)), "Ann")
    assert text.splitlines() == [
        "Ann, 5 Jan to 11 Jan (7 days).",
        "Up on average at 07:51 (seen on 7 of 7 days; later than usual on 1).",
        "In bed on average by 22:45 (seen on 7 of 7 days).",  # 22:15 x5, 23:30, 00:30
        "Up in the night 6 times in all, more often later in the week.",
        "Appliances per day: kettle 3.7, microwave 1.0.",
        "Went out 7 times, on 7 days.",
        "Alerts: not up by the usual time (1).",
        "Partly blind on 1 day: Wed: the bed sensor.",
    ]
    assert weekly_trends([], "Ann") == "No days were summarised for Ann this week."


def test_digest_message_and_files(tmp_path) -> None:
    from alerts.digest import digest_message, write_digest_files

    msg = digest_message(day(), "Ann", "jo", "email")
    assert (msg.message_id, msg.category, msg.priority, msg.title) == (
        "digest/p1/2026-01-05/jo/email", "digest", "low", "Ann's day: Monday 5 January")
    assert msg.body == digest_text(day(), "Ann")
    [(fname, data, mime)] = msg.attachments
    assert (fname, mime, data) == ("p1-2026-01-05.png", "image/png", digest_chart(day(), "Ann"))
    txt, png = write_digest_files(day(), "Ann", tmp_path / "digests")
    assert txt.name == "p1-2026-01-05.txt" and png.read_bytes() == data
    assert txt.read_text().splitlines() == ["Ann's day: Monday 5 January", "", digest_text(day(), "Ann")]
