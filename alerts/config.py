"""Who may hear what: recipients, the person's consent, escalation chains and privacy pauses.

These strict models are fields of the home's config (``recipients:``, ``consent:``, ``escalation:``), so
their errors name the file, the line and the field like the rest of it. The cross-references (a consent
naming an unknown person or recipient, an escalation naming an unknown recipient) are checked by
:func:`check_references`, called from the home config's own validator.

>>> r = RecipientConfig(id="jo", name="Jo (daughter)", group="circle", email="jo@example.org")
>>> r.channels
('email',)
>>> c = ConsentConfig(person="p1", recipient="jo", receives=["urgent", "digest"], quiet_hours="21:30-08:00")
>>> c.quiet_window
(datetime.time(21, 30), datetime.time(8, 0))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from alerts.channels import MqttChannel, NtfyChannel, WebhookChannel

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_HHMM = r"([01]\d|2[0-3]):[0-5]\d"

Category = Literal["urgent", "concern", "digest", "trends", "technical"]
Group = Literal["team", "circle", "technical"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecipientConfig(_Strict):
    """Someone who may be told things: a wellbeing team member, a Community Circle member or a technician."""

    id: str = Field(pattern=_ID, description="Short stable id used in consent and escalation (e.g. sam).")
    name: str = Field(min_length=1, description="The recipient's name as the person knows them.")
    group: Group = Field(description="team (wellbeing team), circle (Community Circle) or technical.")
    ntfy: NtfyChannel | None = Field(None, description="Push to the recipient's phone through an ntfy topic.")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              description="Email address (sent through the top-level smtp settings).")
    webhook: WebhookChannel | None = Field(None, description="Signed JSON webhook (SMS gateway, care records).")
    mqtt: MqttChannel | None = Field(None, description="The team's own MQTT broker.")

    @model_validator(mode="after")
    def _reachable(self) -> RecipientConfig:
        if not self.channels:
            raise ValueError(f"recipient {self.id!r} has no channel: give at least one of ntfy, email, webhook, mqtt")
        return self

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels configured for this recipient, in a fixed order."""
        return tuple(c for c in ("ntfy", "email", "webhook", "mqtt") if getattr(self, c) is not None)


class ConsentConfig(_Strict):
    """What one person agreed one recipient may receive about them, and when it was agreed."""

    person: str = Field(description="Id of the person (from people) this consent is about.")
    recipient: str = Field(description="Id of the recipient (from recipients) who may receive messages.")
    receives: list[Category] = Field(
        description="Kinds of message allowed: urgent, concern, digest, trends, technical.")
    quiet_hours: str | None = Field(
        None, pattern=rf"^{_HHMM}-{_HHMM}$",
        description="HH:MM-HH:MM local time (may wrap midnight); non-urgent messages wait until it ends.")
    recorded_by: str | None = Field(None, description="Who recorded the consent, and who was present.")
    recorded_on: date | None = Field(None, description="When the consent was given (YYYY-MM-DD).")
    review_on: date | None = Field(None, description="When to review it with the person; once passed, the team is told.")

    @field_validator("receives")
    @classmethod
    def _no_repeats(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a category is listed twice")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _not_empty(cls, v: str | None) -> str | None:
        if v is not None and v[:5] == v[6:]:
            raise ValueError("quiet hours start and end at the same time; leave quiet_hours out instead")
        return v

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)


class EscalationConfig(_Strict):
    """Per category, who is told first, and who next when nobody acknowledges in time.

    A category without a chain goes to every consenting recipient at once. With a chain, the listed
    recipients are told one step at a time; consenting recipients not in the chain are told at the
    first step (an urgent alert is never kept from someone who agreed to receive it).
    """

    after_minutes: float = Field(10.0, gt=0, le=24 * 60,
                                 description="Minutes without acknowledgement before the next step.")
    urgent: list[str] = Field(default_factory=list, description="Recipient ids for urgent alerts, in order.")
    concern: list[str] = Field(default_factory=list, description="Recipient ids for concerns, in order.")
    technical: list[str] = Field(default_factory=list, description="Recipient ids for technical alerts, in order.")

    def chain(self, category: str) -> tuple[str, ...]:
        return tuple(getattr(self, category, ()) or ())


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DigestSchedule(_Strict):
    """When the daily digest and the weekly trends note go out (local time of the home).

    >>> DigestSchedule().daily_time, DigestSchedule(weekly_on="friday").weekday
    (datetime.time(9, 0), 4)
    """

    daily_at: str = Field("09:00", pattern=rf"^{_HHMM}$",
                          description="Local time (HH:MM) the digest of the day that last ended is sent.")
    weekly_on: Weekday = Field("monday", description="Day of the week the trends note of the last seven days is sent "
                                                     "(at daily_at).")
    enabled: bool = Field(True, description="Send digests and trends at all (consent still decides who gets them).")

    @property
    def daily_time(self) -> time:
        return time.fromisoformat(self.daily_at)

    @property
    def weekday(self) -> int:
        """Monday is 0, as in :meth:`datetime.date.weekday`."""
        return WEEKDAYS.index(self.weekly_on)


@dataclass(frozen=True, slots=True)
class PrivacyPause:
    """The person paused all sharing from ``start`` until ``end`` (``ended_at``: ended early)."""

    id: int
    person: str
    start: datetime
    end: datetime
    by: str
    reason: str = ""
    ended_at: datetime | None = None

    def covers(self, when: datetime) -> bool:
        stop = self.end if self.ended_at is None else min(self.end, self.ended_at)
        return self.start <= when < stop


def _error(loc: tuple[Any, ...], value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)


def check_references(cfg: Any) -> None:
    """Raise a located ``ValidationError`` for consent/escalation entries naming unknown ids.

    ``cfg`` is the home config (``people``, ``recipients``, ``consent``, ``escalation``).
    """
    people = [p.id for p in cfg.people]
    recipients = list(dict.fromkeys(r.id for r in cfg.recipients))
    errors: list[InitErrorDetails] = []
    seen: set[str] = set()
    for i, r in enumerate(cfg.recipients):
        if r.id in seen:
            errors.append(_error(("recipients", i, "id"), r.id, f"recipient id {r.id!r} appears twice"))
        seen.add(r.id)
    pairs: set[tuple[str, str]] = set()
    for i, c in enumerate(cfg.consent):
        if c.person not in people:
            errors.append(_error(("consent", i, "person"), c.person,
                                 f"person {c.person!r} is not one of people ({', '.join(people)})"))
        if c.recipient not in recipients:
            errors.append(_error(("consent", i, "recipient"), c.recipient,
                                 f"recipient {c.recipient!r} is not one of recipients ({', '.join(recipients) or 'none'})"))
        if (c.person, c.recipient) in pairs:
            errors.append(_error(("consent", i), c.recipient,
                                 f"a second consent for person {c.person!r} and recipient {c.recipient!r}; merge them"))
        pairs.add((c.person, c.recipient))
    for category in ("urgent", "concern", "technical"):
        chain = cfg.escalation.chain(category)
        for j, rid in enumerate(chain):
            if rid not in recipients:
                errors.append(_error(("escalation", category, j), rid,
                                     f"recipient {rid!r} is not one of recipients ({', '.join(recipients) or 'none'})"))
            elif rid in chain[:j]:
                errors.append(_error(("escalation", category, j), rid, f"recipient {rid!r} is listed twice"))
    if errors:
        raise ValidationError.from_exception_data("HomeConfig", errors)

