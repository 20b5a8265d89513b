"""``hub.yaml``: everything ``hearth hub run`` can be told beyond its command-line flags.

>>> HubConfig.model_validate({"database": "/var/lib/hearth-hub/hub.db"}).port
8090
>>> try:
...     HubConfig.model_validate({"databse": "x"})
... except ValidationError as exc:
...     print(exc.errors()[0]["type"])
extra_forbidden
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubBroker(_Strict):
    host: str = Field("127.0.0.1", description="The team's MQTT broker the gateways publish to.")
    port: int = Field(1883, ge=1, le=65535, description="Its port (8883 with TLS).")
    username: str | None = Field(None, description="The hub's own broker account (reads every home, writes replies).")
    password_file: Path | None = Field(None, description="File holding that account's password.")
    password_env: str | None = Field(None, description="Environment variable holding that account's password.")
    tls: bool = Field(False, description="Connect with TLS (on for any broker not on this machine).")
    ca_file: Path | None = Field(None, description="CA certificate for a private broker CA.")
    client_id: str = Field("hearth-hub", min_length=1, description="MQTT client id (its persistent session); "
                           "each hub process needs its own.")
    share_group: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                    description="Run several hub processes on one PostgreSQL: each subscribes "
                                                "as $share/GROUP/..., so the broker hands each message to one "
                                                "of them (e.g. hearth-hub). None: this process takes it all.")

    def password_value(self) -> str | None:
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        if self.password_env is not None:
            return os.environ.get(self.password_env)
        return None


class HubConfig(_Strict):
    database: Path = Field(Path("/var/lib/hearth-hub/hub.db"), description="SQLite file (the default store).")
    database_url: str | None = Field(None, description="postgresql://... to use PostgreSQL instead of SQLite.")
    host: str = Field("127.0.0.1", description="Address the web pages listen on (behind a TLS proxy for phones).")
    port: int = Field(8090, ge=0, le=65535, description="Port the web pages listen on.")
    topic_prefix: str = Field("hearth", min_length=1, description="The gateways' topic_prefix (PREFIX/HOME/...).")
    secure_cookies: bool = Field(False, description="Mark session cookies Secure (on when served over https).")
    broker: HubBroker = Field(default_factory=HubBroker, description="The team's MQTT broker.")

    @model_validator(mode="after")
    def _checks(self) -> HubConfig:
        if "#" in self.topic_prefix or "+" in self.topic_prefix:
            raise ValueError("topic_prefix must not contain MQTT wildcards")
        if self.database_url is not None and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ValueError("database_url must be a postgresql:// URL")
        return self

    @property
    def store(self) -> str:
        return self.database_url or str(self.database)


def load(path: Path) -> HubConfig:
    """Read ``hub.yaml``; errors name the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return HubConfig.model_validate(data)
    except OSError as exc:
        raise SystemExit(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SystemExit(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise SystemExit("\n".join(lines)) from None
