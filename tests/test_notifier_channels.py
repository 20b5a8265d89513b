"""Channel settings in the home's config: strict, errors that name file, line and field; secrets not shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.channels import MqttChannel, NtfyChannel, SmtpSettings, WebhookChannel
from gateway.config import ConfigError, parse_config_text

BASE = "timezone: Europe/London\npeople: [{id: p1, name: Ann}]\nrecipients:\n  - id: sam\n    name: Sam\n    group: team\n"


def problems(extra: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_text(BASE + extra, "home.yaml")
    return exc.value.problems


def test_ntfy_with_http_server_or_bad_topic_names_the_line() -> None:
    [p] = problems('    ntfy: {server: "http://ntfy.example.org", topic: hearth-sam}\n')
    assert p.startswith("home.yaml:7: recipients[0].ntfy: ") and "https" in p
    [p] = problems('    ntfy: {server: "https://ntfy.example.org", topic: "has spaces"}\n')
    assert p.startswith("home.yaml:7: recipients[0].ntfy.topic: ")


def test_unknown_field_and_two_secret_sources_are_refused() -> None:
    [p] = problems('    webhook: {url: "https://x.example.org/h", secrt_file: /x}\n')
    assert "recipients[0].webhook.secrt_file: unknown field" in p
    [p] = problems('    mqtt: {host: mq.example.org, password_file: /a, password_env: B}\n')
    assert "password_file or password_env, not both" in p


def test_defaults_and_derived_topics() -> None:
    ch = NtfyChannel(server="https://ntfy.example.org/", topic="hearth-sam-4f9c")
    assert (ch.server, ch.ack_topic) == ("https://ntfy.example.org", "hearth-sam-4f9c-ack")
    mq = MqttChannel(host="mq.example.org")
    assert (mq.port, mq.tls, mq.alert_topic("ann"), mq.ack_topic("ann")) == (8883, True, "hearth/ann/alerts",
                                                                               "hearth/ann/ack")
    smtp = SmtpSettings(host="smtp.example.org", from_address="hearth@example.org")
    assert (smtp.port, smtp.starttls) == (587, True)
    with pytest.raises(ValueError):
        MqttChannel(host="mq", topic_prefix="team/#")


def test_secrets_are_read_at_use_and_missing_ones_named_not_shown(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "s").write_text("  hunter2\n")
    assert WebhookChannel(url="https://x.example.org", secret_file=tmp_path / "s").secret_value() == "hunter2"
    monkeypatch.setenv("HEARTH_TOKEN", "tk_abc")
    ch = NtfyChannel(server="https://ntfy.example.org", topic="t", token_env="HEARTH_TOKEN")
    assert ch.token_value() == "tk_abc" and "tk_abc" not in repr(ch)
    monkeypatch.delenv("HEARTH_TOKEN")
    with pytest.raises(ValueError, match="HEARTH_TOKEN for ntfy token is not set"):
        ch.token_value()
    every_field_described = [f for m in (NtfyChannel, WebhookChannel, MqttChannel, SmtpSettings)
                             for f, info in m.model_fields.items() if not info.description]
    assert every_field_described == []


def test_plaintext_is_refused_unless_explicitly_allowed() -> None:
    import pytest
    from pydantic import ValidationError

    from alerts.channels import SmtpSettings, WebhookChannel

    with pytest.raises(ValidationError, match="webhook url must be https"):
        WebhookChannel(url="http://care.example.org/hook")
    assert WebhookChannel(url="http://care.example.org/hook", allow_http=True).allow_http
    assert WebhookChannel(url="http://127.0.0.1:8080/inbox/hook").url  # loopback never leaves the machine
    base = {"host": "smtp.example.org", "from_address": "hearth@example.org", "password_env": "X"}
    with pytest.raises(ValidationError, match="starttls: false with a password would send it in clear"):
        SmtpSettings(**base, starttls=False)
    assert SmtpSettings(**base, starttls=False, allow_plaintext_auth=True).allow_plaintext_auth
    assert SmtpSettings(**base).starttls  # the default: STARTTLS before AUTH
    assert not SmtpSettings(**(base | {"host": "localhost"}), starttls=False).starttls
