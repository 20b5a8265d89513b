"""The demo with the team's hub (``hearth run --with-hub``, what ``scripts/demo.sh`` runs): three simulated
homes, each its own gateway with its own database, feeding one hub through the local broker.

Ann's home is the usual demo (she stays in bed on day four); Bob's has a quiet week; Cyd's has her
own not-up morning a day earlier. Each home shares with the hub (a recipient ``team-hub`` with an
``mqtt`` channel, through its consent gate like any recipient); the banner prints the accounts.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import HomeConfig

HUB_PORT = 8090
# (config name, person's name, zigbee2mqtt base topic, seed, day index of a not-up morning or None)
OTHER_HOMES = (("bob-home", "Bob", "zigbee2mqtt-bob", 11, None), ("cyd-home", "Cyd", "zigbee2mqtt-cyd", 23, 2))
ACCOUNTS = (("sam", "worker", None, None), ("jo", "circle", "demo-home", "jo"), ("tess", "technician", None, None))


def with_hub(cfg: HomeConfig, broker_host: str, broker_port: int) -> HomeConfig:
    """``cfg`` plus the team's hub as a recipient: urgent, concern, digest and technical about each person."""
    data = cfg.model_dump()
    data["recipients"] = [*data.get("recipients", []), {
        "id": "team-hub", "name": "Wellbeing team hub", "group": "team",
        "mqtt": {"host": broker_host, "port": broker_port, "tls": False, "client_id": f"hearth-{cfg.name}-uplink"}}]
    data["consent"] = [*data.get("consent", []), *({"person": p.id, "recipient": "team-hub",
                                                    "receives": ["urgent", "concern", "digest", "technical"],
                                                    "recorded_by": "demo"} for p in cfg.people)]
    return HomeConfig.model_validate(data)


def other_home(cfg: HomeConfig, name: str, person: str, base: str) -> HomeConfig:
    """Another demo home like ``cfg``: its own name, person, zigbee2mqtt topics and broker session."""
    data = cfg.model_dump()
    data["name"] = name
    data["people"] = [{**data["people"][0], "name": person}]
    data["zigbee2mqtt"] = {**data.get("zigbee2mqtt", {}), "base_topic": base}
    data["broker"] = {**data.get("broker", {}), "client_id": f"hearth-{name}"}
    data.pop("escalation", None)
    data["recipients"], data["consent"] = [], []
    return HomeConfig.model_validate(data)


@dataclass
class DemoAccount:
    name: str
    role: str
    password: str


def make_accounts(db_path: Path) -> list[DemoAccount]:
    """The hub's demo accounts, each with a fresh password (printed in the banner, never stored in clear)."""
    from hub import auth, store
    from hub.db import connect

    db = connect(db_path)
    store.create(db)
    out = []
    for name, role, home, recipient in ACCOUNTS:
        password = secrets.token_urlsafe(9)
        auth.add_user(db, name, role, password, time.time(), home, recipient)
        out.append(DemoAccount(name, role, password))
    db.close()
    return out


def hub_config(db_path: Path, port: int, broker_host: str, broker_port: int) -> Any:
    from hub.config import HubBroker, HubConfig

    return HubConfig(database=db_path, port=port,
                     broker=HubBroker(host=broker_host, port=broker_port, client_id="hearth-demo-hub"))
