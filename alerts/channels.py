"""How a recipient is reached: one strict pydantic model per outbound channel.

Every channel is an *outbound* connection from the home (the home opens no port). Secrets (ntfy access
tokens, webhook signing secrets, SMTP and MQTT passwords) come from a file or an environment variable,
are read only when a message is sent, and are never logged or printed.

>>> NtfyChannel(server="https://ntfy.example.org", topic="hearth-sam-4f9c").topic_url
'https://ntfy.example.org/hearth-sam-4f9c'
>>> WebhookChannel(url="https://sms.example.org/hook").secret_value() is None
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_TOPIC = r"^[A-Za-z0-9_-]{1,64}$"  # ntfy's own rule for topic names


def read_secret(file: Path | None, env: str | None, what: str) -> str | None:
    """Read a secret from a file (stripped) or an environment variable; ``None`` when neither is given.

    Raises ``ValueError`` naming the file or variable (never the secret) when it cannot be read.
    """
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read {what} file {file}: {exc.strerror}") from None
    if env is not None:
        if env not in os.environ:
            raise ValueError(f"environment variable {env} for {what} is not set")
        return os.environ[env]
    return None


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _loopback(host: str) -> bool:
    """True for this machine's own addresses: nothing sent there crosses a network.

    >>> _loopback("127.0.0.1:8080/inbox"), _loopback("[::1]:80"), _loopback("care.example.org")
    (True, True, False)
    """
    name = host.split("/", 1)[0].rsplit("@", 1)[-1]
    name = name[1:].split("]", 1)[0] if name.startswith("[") else name.split(":", 1)[0]
    return name == "localhost" or name.startswith("127.") or name == "::1"


def _one_source(file: Path | None, env: str | None, what: str) -> None:
    if file is not None and env is not None:
        raise ValueError(f"give {what}_file or {what}_env, not both")


class NtfyChannel(_Channel):
    server: str = Field(description="ntfy server base URL, https (e.g. https://ntfy.sh or your own server).")
    topic: str = Field(pattern=_TOPIC,
                       description="The recipient's ntfy topic; make it hard to guess (e.g. hearth-sam-4f9c).")
    token_file: Path | None = Field(None, description="File holding an ntfy access token, if the server needs one.")
    token_env: str | None = Field(None, description="Environment variable holding an ntfy access token.")
    reply_topic: str | None = Field(
        None, pattern=_TOPIC,
        description="Topic the Acknowledge button publishes to (default: this topic + '-ack'); the gateway subscribes.")
    allow_http: bool = Field(False, description="Allow a plain-http server (tests or a LAN-only server only).")

    @field_validator("server")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.rstrip("/")
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", v):
            raise ValueError(f"an https URL such as https://ntfy.example.org, not {v!r}")
        return v

    @model_validator(mode="after")
    def _checks(self) -> NtfyChannel:
        if self.server.startswith("http://") and not self.allow_http:
            raise ValueError("ntfy server must be https (set allow_http only for a test or LAN server)")
        _one_source(self.token_file, self.token_env, "token")
        return self

    @property
    def topic_url(self) -> str:
        return f"{self.server}/{self.topic}"

    @property
    def ack_topic(self) -> str:
        return self.reply_topic or f"{self.topic}-ack"

    def token_value(self) -> str | None:
        return read_secret(self.token_file, self.token_env, "ntfy token")


class WebhookChannel(_Channel):
    url: str = Field(description="URL the signed JSON is POSTed to (an SMS gateway, a care-record system).")
    secret_file: Path | None = Field(None, description="File holding the HMAC-SHA256 signing secret.")
    secret_env: str | None = Field(None, description="Environment variable holding the HMAC-SHA256 signing secret.")
    timeout_s: float = Field(10.0, gt=0, le=120, description="Seconds to wait for the receiver before giving up.")
    allow_http: bool = Field(False, description="Allow a plain-http URL off this machine (a LAN-only receiver); "
                                                "loopback needs no opt-in.")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", v):
            raise ValueError(f"an http(s) URL, not {v!r}")
        return v

    @model_validator(mode="after")
    def _checks(self) -> WebhookChannel:
        _one_source(self.secret_file, self.secret_env, "secret")
        if self.url.startswith("http://") and not self.allow_http and not _loopback(self.url[7:]):
            raise ValueError("webhook url must be https (messages about the person would cross the network in "
                             "clear); set allow_http: true only for a receiver on your own LAN")
        return self

    def secret_value(self) -> str | None:
        return read_secret(self.secret_file, self.secret_env, "webhook secret")


class MqttChannel(_Channel):
    host: str = Field(description="The team's own MQTT broker (not the home's local one).")
    port: int = Field(8883, ge=1, le=65535, description="Broker port (8883 for TLS, 1883 plain).")
    topic_prefix: str = Field("hearth", min_length=1,
                              description="Messages go to PREFIX/HOME/alerts; acknowledgements come back on PREFIX/HOME/ack.")
    username: str | None = Field(None, description="MQTT user name on the team's broker.")
    password_file: Path | None = Field(None, description="File holding the MQTT password.")
    password_env: str | None = Field(None, description="Environment variable holding the MQTT password.")
    tls: bool = Field(True, description="Use TLS (system CA store) to the team's broker.")
    ca_file: Path | None = Field(None, description="CA certificate file for a private broker CA.")
    client_id: str | None = Field(None, description="MQTT client id (default: hearth-HOME-notify).")

    @model_validator(mode="after")
    def _checks(self) -> MqttChannel:
        _one_source(self.password_file, self.password_env, "password")
        if "#" in self.topic_prefix or "+" in self.topic_prefix:
            raise ValueError("topic_prefix must not contain MQTT wildcards")
        return self

    def password_value(self) -> str | None:
        return read_secret(self.password_file, self.password_env, "MQTT password")

    def alert_topic(self, home: str) -> str:
        return f"{self.topic_prefix.rstrip('/')}/{home}/alerts"

    def ack_topic(self, home: str) -> str:
        return f"{self.topic_prefix.rstrip('/')}/{home}/ack"


class SmtpSettings(_Channel):
    host: str = Field(description="SMTP server that relays the home's email (outbound submission).")
    port: int = Field(587, ge=1, le=65535, description="SMTP submission port (587 with STARTTLS).")
    starttls: bool = Field(True, description="Upgrade to TLS with STARTTLS before authenticating (keep on).")
    username: str | None = Field(None, description="SMTP login name, if the server needs one.")
    password_file: Path | None = Field(None, description="File holding the SMTP password.")
    password_env: str | None = Field(None, description="Environment variable holding the SMTP password.")
    from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="The From address, e.g. hearth@example.org.")
    timeout_s: float = Field(20.0, gt=0, le=300, description="Seconds to wait for the SMTP server.")
    ca_file: Path | None = Field(None, description="CA certificate file for a private server certificate.")
    allow_plaintext_auth: bool = Field(False, description="Allow logging in without STARTTLS (the password "
                                                          "crosses the network in clear); loopback needs no opt-in.")

    @model_validator(mode="after")
    def _checks(self) -> SmtpSettings:
        _one_source(self.password_file, self.password_env, "password")
        has_password = self.password_file is not None or self.password_env is not None
        if has_password and not self.starttls and not self.allow_plaintext_auth and not _loopback(self.host):
            raise ValueError("starttls: false with a password would send it in clear (AUTH PLAIN); keep starttls "
                             "on, or set allow_plaintext_auth: true if that is really intended")
        return self

    def password_value(self) -> str | None:
        return read_secret(self.password_file, self.password_env, "SMTP password")
