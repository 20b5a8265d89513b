"""The hub's pages as HTML: phone first (one column, 44 px targets, no horizontal scrolling), plain
words, no script (forms post with the session's CSRF token). Every value is escaped here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.auth import User
from hub.chart import day_svg
from hub.words import ROLES

RANK_WORDS = {"urgent": "Urgent alert", "concern": "Concern", "quiet": "Not heard from", "well": "All well"}
NAV = {  # role -> (path, label) in the header
    "worker": (("/", "Board"), ("/handover", "Since your last visit"), ("/audit", "Audit log")),
    "circle": (("/", "Your page"),),
    "technician": (("/", "Homes"),),
}


def when(t: float | str | None, tz: str | None = None, *, date: bool = True) -> str:
    """A time as people read it, in the home's own timezone: 'Mon 5 Jan 08:40'."""
    if t is None:
        return "never"
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError, TypeError):  # a heartbeat's timezone is the home's word
        zone = UTC
    try:  # a time a gateway sent (an event's, a "told" entry's) is its word: one it garbled is said so
        d = datetime.fromisoformat(t) if isinstance(t, str) else datetime.fromtimestamp(t, UTC)
        d = d.astimezone(zone)
    except (TypeError, ValueError, OverflowError, OSError):
        return "an unreadable time"
    return f"{d:%a} {d.day} {d:%b %H:%M}" if date else f"{d:%H:%M}"


def page(title: str, body: str, user: User | None = None, csrf: str = "") -> str:
    nav = ""
    if user is not None:
        links = "".join(f'<a href="{p}">{escape(label)}</a>' for p, label in NAV.get(user.role, ()))
        nav = (f'<nav>{links}<a href="/password">Password</a><form method="post" action="/logout" class="inline">'
               f'{hidden(csrf)}'
               f'<button class="link">Sign out {escape(user.name)}</button></form></nav>')
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)} · Hearth hub</title><link rel="stylesheet" href="/static/hub.css"></head>'
            f'<body><header><strong>Hearth hub</strong>{nav}</header><main><h1>{escape(title)}</h1>{body}</main>'
            '</body></html>')


def hidden(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(csrf)}">'


def login(error: str = "", login_token: str = "") -> str:
    err = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return page("Sign in", f'{err}<form method="post" action="/login" class="stack">'
                f'<input type="hidden" name="login_token" value="{escape(login_token)}">'
                '<label>Name<input name="name" autocomplete="username" required></label>'
                '<label>Password<input name="password" type="password" autocomplete="current-password" required>'
                '</label><button>Sign in</button></form>')


def _alert_line(a: dict[str, Any], tz: str | None) -> str:
    by = f" by {escape(a['acknowledged_by'])}" if a["state"] == "acknowledged" and a["acknowledged_by"] else ""
    return (f'<li><a href="/alerts/{a["id"]}" class="alert {escape(a["category"])}">'
            f'<span class="what">{escape(a["what"])}</span>'
            f'<span class="meta">{escape(a["category_words"])} · {when(a["raised_at"], tz)} · '
            f'{escape(a["state_words"])}{by}</span></a></li>')


def board(rows: list[dict[str, Any]], tzs: dict[str, str | None], user: User, csrf: str) -> str:
    if not rows:
        return page("Who needs you now", "<p>No home has reported yet.</p>", user, csrf)
    cards = []
    for r in rows:
        tz = tzs.get(r["home"])
        status = RANK_WORDS[r["rank"]]
        if r["rank"] == "quiet":
            status = f"Not heard from since {when(r['last_seen'], tz)}"
        alerts = "".join(_alert_line(a, tz) for a in r["alerts"])
        cards.append(f'<section class="card rank-{r["rank"]}"><h2><a href="/people/{escape(r["home"])}/'
                     f'{escape(r["person"])}">{escape(r["name"])}</a></h2><p class="status">{escape(status)}</p>'
                     f'{"<ul class=alerts>" + alerts + "</ul>" if alerts else ""}</section>')
    return page("Who needs you now", "".join(cards), user, csrf)


def told(items: Iterable[dict[str, Any]], tz: str | None) -> str:
    lines = [f"<li>{escape(str(t.get('name')))} ({escape(str(t.get('channel')))}) at {when(t.get('at'), tz)}</li>"
             for t in items if isinstance(t, dict)]
    return f"<ul>{''.join(lines)}</ul>" if lines else "<p>Only the team's hub so far.</p>"


def alert(a: dict[str, Any], tz: str | None, day: dict[str, Any] | None, user: User, csrf: str) -> str:
    state = escape(a["state_words"])
    if a["state"] == "acknowledged" and a["acknowledged_by"]:
        state += f" by {escape(a['acknowledged_by'])} since {when(a['acknowledged_at'], tz, date=False)}"
    if a["state"] == "resolved":
        state += f" by {escape(a['resolved_by'] or '?')}: {escape(a['outcome_words'] or 'no outcome given')}"
    if a["requested"] and a["state"] != "resolved":
        state += f'<span class="meta">{escape(a["requested"])}; waiting for the home to confirm.</span>'
    chart = ""
    if day is not None:
        seen = "the whole day, from the daily note" if day["complete"] else "as the home's last heartbeat had it"
        chart = (f'<figure>{day_svg(day["day"], day["label"], mark_hour=day["mark_hour"])}<figcaption>'
                 f'{escape(a["person_name"])}\'s day when this alert was raised ({escape(seen)}), against '
                 f'a usual day.</figcaption></figure>')
    actions = ""
    if user.role == "worker" and a["state"] != "resolved":
        base = f'/alerts/{a["id"]}'
        actions = (f'<div class="actions"><form method="post" action="{base}/ack">{hidden(csrf)}'
                   f'<button {"disabled" if a["state"] == "acknowledged" else ""}>I\'m on it</button></form>'
                   f'<form method="post" action="{base}/resolve">{hidden(csrf)}<input type="hidden" name="outcome" '
                   f'value="false_alarm"><button class="good">Resolved: all well</button></form>'
                   f'<form method="post" action="{base}/resolve">{hidden(csrf)}<input type="hidden" name="outcome" '
                   f'value="real"><button class="bad">Resolved: needed help</button></form></div>')
    body = (f'<p class="person"><a href="/people/{escape(a["home"])}/{escape(a["person"] or "")}">'
            f'{escape(a["person_name"])}</a> · {escape(a["category_words"])} · {when(a["raised_at"], tz)}</p>'
            f'<p class="explanation">{escape(a["explanation"])}</p><p class="state">{state}</p>{actions}{chart}'
            f'<h2>Who was told</h2>{told(a["told"], tz)}')
    return page(a["what"], body, user, csrf)


def week_strip(days: list[dict[str, Any]]) -> str:
    """The last days the person's daily note covered, one small card each: up, meals, out, night."""
    if not days:
        return ""
    cells = "".join(f'<li><strong>{escape(d["day_words"])}</strong>'
                    + "".join(f"<span>{escape(d['words'][k])}</span>" for k in ("up", "meals", "out", "night"))
                    + "</li>" for d in days)
    return f'<h3>The last {len(days)} day{"s" if len(days) != 1 else ""}</h3><ul class="week">{cells}</ul>'


def notes_list(notes: list[dict[str, Any]], tz: str | None) -> str:
    out = []
    for n in notes:
        img = (f'<img src="/charts/{n["id"]}.png" alt="{escape(n["title"])}: the day as a chart">'
               if n["has_chart"] else "")
        out.append(f'<article class="note"><h3>{escape(n["title"])}</h3><p class="meta">'
                   f'{escape(n["category_words"])} · {when(n["at"], tz)}</p><p>{escape(n["body"])}</p>{img}</article>')
    return "".join(out) or "<p>No notes yet.</p>"


def person(name: str, home: str, pid: str, open_alerts: list[dict[str, Any]], history: list[dict[str, Any]],
           notes: list[dict[str, Any]], team_notes: list[dict[str, Any]], tz: str | None, user: User,
           csrf: str, days: list[dict[str, Any]] | None = None) -> str:
    lines = "".join(_alert_line(a, tz) for a in open_alerts) or "<li>Nothing open.</li>"
    past = "".join(_alert_line(a, tz) for a in history if a["state"] == "resolved") or "<li>None.</li>"
    written = "".join(f'<li><span class="meta">{escape(n["author"])}, {when(n["at"], tz)}</span> '
                      f'{escape(n["text"])}</li>' for n in team_notes)
    form = ""
    if user.role == "worker":
        form = (f'<form method="post" action="/people/{escape(home)}/{escape(pid)}/notes" class="stack">{hidden(csrf)}'
                '<label>Add a short note<textarea name="text" maxlength="1000" required></textarea></label>'
                '<button>Save note</button></form>')
    body = (f'<h2>Open</h2><ul class="alerts">{lines}</ul><h2>Team notes</h2>{form}<ul class="notes">{written}</ul>'
            f'<h2>Daily notes</h2>{week_strip(days or [])}{notes_list(notes, tz)}<h2>Before</h2><ul class="alerts">{past}</ul>')
    return page(name, body, user, csrf)


def circle(sections: list[tuple[Any, ...]], user: User, csrf: str) -> str:
    if not sections:
        return page("Your page", "<p>Nothing has been shared with you yet.</p>", user, csrf)
    out = []
    for name, alerts, notes, tz, days in sections:
        told_lines = []
        for a in alerts:
            if a["state"] == "resolved":
                how = "all is well" if a["outcome"] == "false_alarm" else "they needed help and the team is with them"
                told_lines.append(f"<li>{escape(a['what'])} ({when(a['raised_at'], tz)}): "
                                  f"{escape(a['resolved_by'] or 'the team')} checked at "
                                  f"{when(a['resolved_at'], tz, date=False)}: {escape(how)}.</li>")
            else:
                told_lines.append(f"<li>{escape(a['what'])} ({when(a['raised_at'], tz)}): {escape(a['state_words'])}"
                                  f"{' by ' + escape(a['acknowledged_by']) if a['acknowledged_by'] else ''}.</li>")
        alerts_html = f"<h3>Alerts you were given</h3><ul>{''.join(told_lines)}</ul>" if told_lines else ""
        out.append(f'<section class="card"><h2>{escape(name)}</h2>{alerts_html}{week_strip(days)}'
                   f'{notes_list(notes, tz)}</section>')
    return page("Your page", "".join(out), user, csrf)


def hub_link(link: dict[str, Any], dropped: list[dict[str, Any]]) -> str:
    """This hub's own broker link and what it dropped, first on the technicians' page."""
    if not link:
        return ""
    taken = sum(link.get("taken", {}).values())
    facts = [("Broker link", link["status"]), ("Messages taken", f"{taken} since this hub started"),
             ("Dropped", "; ".join(f"{d['count']} {d['words']} (last {when(d['last_at'])})" for d in dropped)
              or "none")]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    bad = not link.get("connected")
    return (f'<section class="card {"rank-urgent" if bad else "rank-well"}" id="hub-link"><h2>This hub</h2>'
            f'<dl>{dl}</dl></section>')


def fleet(rows: list[dict[str, Any]], user: User, csrf: str, link: dict[str, Any] | None = None,
          dropped: list[dict[str, Any]] | None = None) -> str:
    cards = [hub_link(link or {}, dropped or [])]
    for r in rows:
        facts = [("Heard from", ("not since " if r["quiet"] else "") + when(r["last_seen"])),
                 ("Broker link", {True: "connected", False: "DOWN", None: "not shared"}[r["broker_connected"]]),
                 ("Devices offline", ", ".join(map(str, r["offline"])) or "none"),
                 ("Low batteries", ", ".join(f"{b['sensor']} {b['battery']:.0f}%" for b in r["low_battery"]) or "none"),
                 ("Cannot check", "; ".join(r["blind"]) or "nothing"),
                 ("Still learning", ", ".join(map(str, r["learning"])) or "no"),
                 ("Clock", r["clock"] or "not shared"),
                 ("Disk free", f"{r['disk_free_mb']} MB" if r["disk_free_mb"] is not None else "not shared"),
                 ("Problems", "; ".join(r["problems"]) or "none")]
        if not r["shares_health"]:
            facts = [*facts[:1], ("Health", "this home does not share technical details with the hub")]
        dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
        bad = r["quiet"] or r["offline"] or r["problems"] or r["broker_connected"] is False
        cards.append(f'<section class="card {"rank-urgent" if bad else "rank-well"}"><h2>{escape(r["home"])}</h2>'
                     f'<dl>{dl}</dl></section>')
    if len(cards) == 1:
        cards.append("<p>No home has reported yet.</p>")
    return page("Homes", "".join(cards), user, csrf)


def handover(data: dict[str, Any], tzs: dict[str, str | None], user: User, csrf: str) -> str:
    since = f"since {when(data['since'])}" if data["since"] else "(first visit: everything)"
    alerts = "".join(_alert_line(a, tzs.get(a["home"])) for a in data["alerts"]) or "<li>No alerts.</li>"
    notes = "".join(f'<li><span class="meta">{escape(n["name"])}, {escape(n["author"])}, {when(n["at"])}</span> '
                    f'{escape(n["text"])}</li>' for n in data["notes"]) or "<li>No notes.</li>"
    return page("Since your last visit", f'<p>{escape(since)}</p><h2>Alerts</h2><ul class="alerts">{alerts}</ul>'
                f'<h2>Team notes</h2><ul class="notes">{notes}</ul>', user, csrf)


def password(user: User, csrf: str, error: str = "") -> str:
    err = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return page("Change your password", f'{err}<form method="post" action="/password" class="stack">{hidden(csrf)}'
                '<label>Your password now<input name="current" type="password" autocomplete="current-password" '
                'required></label><label>A new password (10 characters or more)<input name="new" type="password" '
                'autocomplete="new-password" minlength="10" required></label><label>The new one again<input '
                'name="again" type="password" autocomplete="new-password" required></label><button>Change it'
                '</button><p class="meta">You stay signed in here; everywhere else you are signed out.</p></form>',
                user, csrf)


def audit(rows: list[tuple[Any, ...]], user: User, csrf: str) -> str:
    lines = "".join(f"<li><span class=meta>{when(at)} · {escape(name)}</span> {escape(action)} "
                    f"{escape(home or '')} {escape(person or '')} {escape(detail)}</li>"
                    for at, name, action, home, person, detail in rows)
    return page("Audit log", f'<ul class="notes">{lines}</ul>', user, csrf)


def error(status: int, message: str, user: User | None = None, csrf: str = "") -> str:
    return page({403: "Not allowed", 404: "Not found"}.get(status, "Something went wrong"),
                f"<p>{escape(message)}</p>", user, csrf)


def role_words(role: str) -> str:
    return ROLES.get(role, role)
