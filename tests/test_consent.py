"""Recipients and consent in the home's config, and the consent gate's rules one by one."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from alerts.config import PrivacyPause
from alerts.consent import Decision, category_of, decide, quiet_until
from gateway.config import ConfigError, parse_config_text
from routines.alert import Alert, Audience, Severity

HOME = """\
timezone: Europe/London
people:
  - id: p1
    name: Ann
"""

# Exactly the form in issue 6.
ISSUE_FORM = """\
recipients:
  - id: sam
    name: Sam Okafor
    group: team            # team (wellbeing team) | circle (Community Circle) | technical
    ntfy: {server: "https://ntfy.example.org", topic: hearth-sam-4f9c}
    email: sam@example.org
  - id: jo
    name: Jo (daughter)
    group: circle
    email: jo@example.org
consent:
  - person: p1
    recipient: sam
    receives: [urgent, concern, trends, technical]
    recorded_by: "Ann, with Sam present"
    recorded_on: 2026-11-20
    review_on: 2027-05-20
  - person: p1
    recipient: jo
    receives: [urgent, digest]
    quiet_hours: "21:30-08:00"
escalation:
  urgent: [sam, jo]        # in order; the next step after 10 minutes without acknowledgement
"""


def cfg(extra: str = ISSUE_FORM):
    return parse_config_text(HOME + extra, "home.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_text(HOME + text, "home.yaml")
    return exc.value.problems


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_issue_form_loads() -> None:
    c = cfg()
    sam, jo = c.recipients
    assert (sam.id, sam.group, sam.ntfy.topic_url, sam.email) == ("sam", "team", "https://ntfy.example.org/hearth-sam-4f9c", "sam@example.org")
    assert sam.channels == ("ntfy", "email") and jo.channels == ("email",)
    assert c.consent[0].review_on == date(2027, 5, 20) and c.consent[0].recorded_by == "Ann, with Sam present"
    assert c.consent[1].quiet_window == (time(21, 30), time(8, 0))
    assert c.escalation.chain("urgent") == ("sam", "jo") and c.escalation.after_minutes == 10
    assert c.escalation.chain("concern") == ()


def test_recipient_without_channel_is_located_error() -> None:
    text = ISSUE_FORM.replace("    group: circle\n    email: jo@example.org\n", "    group: circle\n")
    assert problems(text) == [
        "home.yaml:11: recipients[1]: recipient 'jo' has no channel: give at least one of ntfy, email, webhook, mqtt"]


def test_unknown_person_and_recipient_in_consent_name_line_and_field() -> None:
    text = ISSUE_FORM.replace("  - person: p1\n    recipient: jo", "  - person: p2\n    recipient: bob")
    assert problems(text) == [
        "home.yaml:22: consent[1].person: person 'p2' is not one of people (p1)",
        "home.yaml:23: consent[1].recipient: recipient 'bob' is not one of recipients (sam, jo)",
    ]


def test_field_errors_inside_consent_are_located() -> None:
    text = ISSUE_FORM.replace("receives: [urgent, digest]", "receives: [urgent, gossip]").replace(
        '"21:30-08:00"', '"9pm-8am"').replace("urgent: [sam, jo]", "urgent: [sam, kim]")
    got = problems(text)
    assert got[0].startswith("home.yaml:24: consent[1].receives[1]: Input should be 'urgent', 'concern', 'digest', 'trends' or 'technical'; got 'gossip'")
    assert got[1] == ("home.yaml:25: consent[1].quiet_hours: hours are HH:MM-HH:MM in 24-hour local time, "
                      "e.g. 23:30-06:30 (may wrap midnight); got '9pm-8am'")
    assert len(got) == 2  # cross-references are checked only once the parts themselves are valid
    assert problems(ISSUE_FORM.replace("urgent: [sam, jo]", "urgent: [sam, kim]")) == [
        "home.yaml:27: escalation.urgent[1]: recipient 'kim' is not one of recipients (sam, jo)"]


def test_duplicate_recipient_and_duplicate_consent() -> None:
    got = problems(ISSUE_FORM.replace("id: jo", "id: sam").replace("recipient: jo", "recipient: sam"))
    assert got == ["home.yaml:11: recipients[1].id: recipient id 'sam' appears twice",
                   "home.yaml:22: consent[1]: a second consent for person 'p1' and recipient 'sam'; merge them",
                   "home.yaml:27: escalation.urgent[1]: recipient 'jo' is not one of recipients (sam)"]


def test_categories_from_severity_and_audience() -> None:
    def a(sev: Severity, aud: Audience) -> Alert:
        return Alert(utc(2026, 1, 5, 9), "p1", "x", sev, aud, "")
    assert [category_of(a(s, Audience.CARE)) for s in Severity] == ["urgent", "concern", None]
    assert {category_of(a(s, Audience.TECHNICAL)) for s in Severity} == {"technical"}


def test_gate_rules_in_order() -> None:
    c = cfg()
    noon = utc(2026, 1, 5, 12)
    assert decide(c, "p1", "sam", "urgent", noon, []) == Decision(True, noon, "consented")
    assert decide(c, "p1", "sam", "digest", noon, []) == Decision(False, noon, "category_not_consented")
    assert decide(c, "p2", "sam", "urgent", noon, []) == Decision(False, noon, "no_consent")
    assert decide(c, "p1", "kim", "urgent", noon, []) == Decision(False, noon, "no_consent")
    pause = PrivacyPause(1, "p1", noon - timedelta(hours=1), noon + timedelta(hours=3), by="Ann")
    assert decide(c, "p1", "sam", "urgent", noon, [pause]) == Decision(False, noon, "paused")
    assert decide(c, "p1", "sam", "urgent", noon + timedelta(hours=3), [pause]).allow
    other = PrivacyPause(2, "p2", noon - timedelta(hours=1), noon + timedelta(hours=3), by="Bo")
    assert decide(c, "p1", "sam", "urgent", noon, [other]).allow
    ended = PrivacyPause(3, "p1", noon - timedelta(hours=1), noon + timedelta(hours=3), by="Ann",
                         ended_at=noon - timedelta(minutes=1))
    assert decide(c, "p1", "sam", "urgent", noon, [ended]).allow


def test_quiet_hours_delay_non_urgent_to_their_end_but_never_urgent() -> None:
    c = cfg()
    late = utc(2026, 1, 5, 23, 0)  # London is UTC in January
    assert decide(c, "p1", "jo", "digest", late, []) == Decision(True, utc(2026, 1, 6, 8, 0), "quiet_hours")
    assert decide(c, "p1", "jo", "urgent", late, []) == Decision(True, late, "consented")
    early = utc(2026, 1, 6, 7, 59)
    assert decide(c, "p1", "jo", "digest", early, []).deliver_at == utc(2026, 1, 6, 8, 0)
    assert decide(c, "p1", "jo", "digest", utc(2026, 1, 6, 8, 0), []).reason == "consented"
    assert decide(c, "p1", "jo", "digest", utc(2026, 1, 5, 21, 29), []).reason == "consented"


def test_quiet_hours_are_local_time_and_dst_safe() -> None:
    from zoneinfo import ZoneInfo
    london = ZoneInfo("Europe/London")
    window = (time(21, 30), time(8, 0))
    # Summer: 22:00 BST is 21:00 UTC, inside; ends 08:00 BST = 07:00 UTC.
    assert quiet_until(window, utc(2026, 7, 1, 21, 0), london) == utc(2026, 7, 2, 7, 0)
    assert quiet_until(window, utc(2026, 7, 1, 20, 0), london) is None  # 21:00 BST
    # The night the clocks go forward (29 March 2026, 01:00 UTC): 23:00 GMT -> 08:00 BST = 07:00 UTC.
    assert quiet_until(window, utc(2026, 3, 28, 23, 0), london) == utc(2026, 3, 29, 7, 0)
    # The night they go back (25 October 2026): 23:00 BST (22:00 UTC) -> 08:00 GMT = 08:00 UTC.
    assert quiet_until(window, utc(2026, 10, 24, 22, 0), london) == utc(2026, 10, 25, 8, 0)
    # A window ending at 01:30, which happens twice on 25 October: the second 01:15 ends at the second 01:30.
    short = (time(0, 30), time(1, 30))
    assert quiet_until(short, utc(2026, 10, 25, 0, 15), london) == utc(2026, 10, 25, 0, 30)  # 01:15 BST
    assert quiet_until(short, utc(2026, 10, 25, 1, 15), london) == utc(2026, 10, 25, 1, 30)  # 01:15 GMT
    # A window ending at 01:30 on the night 01:00-02:00 does not exist: it ends at the change.
    assert quiet_until((time(0, 0), time(1, 30)), utc(2026, 3, 29, 0, 45), london) > utc(2026, 3, 29, 0, 45)


def test_equal_quiet_hours_and_repeated_category_are_errors() -> None:
    got = problems(ISSUE_FORM.replace('"21:30-08:00"', '"08:00-08:00"').replace(
        "[urgent, digest]", "[urgent, urgent]"))
    assert got == ["home.yaml:24: consent[1].receives: a category is listed twice",
                   "home.yaml:25: consent[1].quiet_hours: quiet hours start and end at the same time; leave quiet_hours out instead"]


def test_withholding_is_logged_with_reason(caplog: pytest.LogCaptureFixture) -> None:
    from alerts.consent import log_withheld
    with caplog.at_level("INFO", logger="hearth.consent"):
        log_withheld("p1", "jo", "urgent", "paused", "p1:not_up")
    (rec,) = caplog.records
    assert rec.levelname == "WARNING" and rec.ctx["reason"] == "paused" and "from jo: paused" in rec.getMessage()
