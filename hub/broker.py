"""The team's broker, secured: mosquitto config, one password per gateway, and an ACL by which a gateway
may publish only under its own home and read only its own replies; the hub reads every home and writes
only replies.

``hearth hub broker-config`` writes ``mosquitto.conf`` (TLS listener when given a certificate), the
password file and the ACL into one directory (``deploy/hub/install.sh`` points mosquitto at it);
``hearth hub add-home`` adds a gateway's account, rewrites the ACL and prints the gateway's snippet.
mosquitto re-reads both files on SIGHUP (``systemctl reload mosquitto``).

>>> print(acl("hearth", ["ann-home"]).splitlines()[-4])
topic write hearth/ann-home/alerts
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from hub.topics import GATEWAY_PUBLISHES, HOME_ID, REPLIES

HUB_USER = "hearth-hub"


def acl(prefix: str, homes: list[str]) -> str:
    lines = ["# written by `hearth hub add-home`; do not edit by hand (it is rewritten)",
             "# the hub: reads every home's uplink, writes only the replies", f"user {HUB_USER}"]
    lines += [f"topic read {prefix}/+/{kind}" for kind in GATEWAY_PUBLISHES] + [f"topic write {prefix}/+/{REPLIES}"]
    for home in sorted(homes):
        lines += ["", f"# gateway of {home}: its own topics only", f"user {home}"]
        lines += [f"topic write {prefix}/{home}/{kind}" for kind in GATEWAY_PUBLISHES]
        lines += [f"topic read {prefix}/{home}/{REPLIES}"]
    return "\n".join(lines) + "\n"


def mosquitto_conf(where: Path, port: int, *, host: str = "0.0.0.0", certfile: Path | None = None,
                   keyfile: Path | None = None) -> str:
    tls = f"certfile {certfile}\nkeyfile {keyfile}\ntls_version tlsv1.2\n" if certfile and keyfile else ""
    return (f"# written by `hearth hub broker-config`\nper_listener_settings false\nlistener {port} {host}\n{tls}"
            f"allow_anonymous false\npassword_file {where / 'passwd'}\nacl_file {where / 'acl'}\n"
            f"persistence true\npersistence_location {where}/\n"
            # the hub takes bursts from many homes: a deep queue for its session, a wide in-flight window
            "max_queued_messages 200000\nmax_inflight_messages 1000\nmessage_size_limit 524288\n")


class BrokerFiles:
    def __init__(self, where: Path, prefix: str = "hearth"):
        self.where = where
        self.prefix = prefix
        self.passwd = where / "passwd"
        self.acl = where / "acl"
        self.homes_file = where / "homes.json"

    def homes(self) -> list[str]:
        if not self.homes_file.exists():
            return []
        return list(json.loads(self.homes_file.read_text(encoding="utf-8")))

    def write_config(self, port: int, *, host: str = "0.0.0.0", certfile: Path | None = None,
                     keyfile: Path | None = None) -> str:
        """Write mosquitto.conf and the ACL, and make the hub's own account; returns its password."""
        self.where.mkdir(parents=True, exist_ok=True)
        (self.where / "mosquitto.conf").write_text(mosquitto_conf(self.where, port, host=host, certfile=certfile,
                                                                  keyfile=keyfile), encoding="utf-8")
        self._write_acl(self.homes())
        return self._set_password(HUB_USER)

    def add_home(self, home: str) -> str:
        """A gateway's account; returns its (new) password. Adding a home again gives it a new password."""
        if not HOME_ID.match(home) or home == HUB_USER:
            raise ValueError(f"a home's name is 1-64 letters, digits, '.', '_' or '-', not {home!r}")
        homes = sorted(set(self.homes()) | {home})
        password = self._set_password(home)
        self._write_acl(homes)
        self.homes_file.write_text(json.dumps(homes), encoding="utf-8")
        return password

    def _set_password(self, user: str) -> str:
        tool = shutil.which("mosquitto_passwd")
        if tool is None:
            raise RuntimeError("mosquitto_passwd is not installed (apt-get install mosquitto)")
        password = secrets.token_urlsafe(24)
        self.where.mkdir(parents=True, exist_ok=True)
        if not self.passwd.exists():
            self.passwd.touch(mode=0o600)
        subprocess.run([tool, "-b", str(self.passwd), user, password], check=True, capture_output=True)
        os.chmod(self.passwd, 0o600)
        return password

    def _write_acl(self, homes: list[str]) -> None:
        tmp = self.acl.with_suffix(".tmp")
        tmp.write_text(acl(self.prefix, homes), encoding="utf-8")
        tmp.replace(self.acl)


def gateway_snippet(home: str, password: str, *, host: str, port: int, prefix: str, tls: bool,
                    people: list[str]) -> str:
    """What the home's technician pastes into its config (and the password file it names)."""
    consent = "\n".join(f"  - person: {p}\n    recipient: team-hub\n    receives: [urgent, concern, digest, technical]"
                        for p in people or ["p1"])
    return f"""# 1. the password, readable only by the hearth user:
#    install -m 600 -o hearth /dev/stdin /etc/hearth/hub-mqtt.password <<< '{password}'
# 2. in /etc/hearth/home.yaml (name: {home}):
recipients:
  - id: team-hub
    name: Wellbeing team hub
    group: team
    mqtt:
      host: {host}
      port: {port}
      topic_prefix: {prefix}
      username: {home}
      password_file: /etc/hearth/hub-mqtt.password
      tls: {"true" if tls else "false"}
      client_id: hearth-{home}-uplink
consent:  # what the person agreed the team's hub may receive; change it with them
{consent}
"""
