"""TLS on the broker link, against a real mosquitto with a TLS listener and certificates made here.

Events flow over TLS (the certificate checked against the CA, under ``server_name``); a wrong CA, a
name mismatch and a plain (non-TLS) port are each refused, with words in ``link.status``; and a
password bound for another machine without TLS is a config error unless plaintext is allowed.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from gateway.config import BrokerTls, ConfigError, parse_config_text
from gateway.mqtt import MqttLink
from tests.conftest import TLS_SERVER_NAME, Mosquitto, Pki, make_pki
from tests.test_service import wait_for

HOME = "timezone: Europe/London\npeople: [{id: p1, name: R}]\n"


def tls_config(pki: Pki, port: int, server_name: str | None = TLS_SERVER_NAME) -> BrokerTls:
    """The link's settings as a home's YAML gives them (so the YAML form is what is tested)."""
    name = f", server_name: {server_name}" if server_name else ""
    cfg = parse_config_text(HOME + f"broker: {{port: {port}, tls: {{ca_file: {pki.ca_file}{name}}}}}\n", "h.yaml")
    assert cfg.broker.tls is not None
    return cfg.broker.tls


def tls_publisher(pki: Pki, port: int) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-z2m")
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    ctx.check_hostname = False  # the test's publisher only; the gateway's link checks the name
    c.tls_set_context(ctx)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


async def test_events_flow_over_tls(tls_broker: tuple[Mosquitto, Pki]) -> None:
    broker, pki = tls_broker
    link = MqttLink("127.0.0.1", broker.port, ["zigbee2mqtt/#"], client_id="tls-ok",
                    tls=tls_config(pki, broker.port))
    await link.start()
    pub = tls_publisher(pki, broker.port)
    try:
        await wait_for(lambda: link.connected and link.subscribed)
        assert link.status == f"connected to 127.0.0.1:{broker.port}"
        for i in range(3):
            pub.publish("zigbee2mqtt/front_door", f'{{"contact": {str(i % 2 == 0).lower()}}}', qos=1).wait_for_publish(5)
        got = [await link.messages.get() for _ in range(3)]
        assert [(m.topic, m.payload) for m in got] == [
            ("zigbee2mqtt/front_door", b'{"contact": true}'), ("zigbee2mqtt/front_door", b'{"contact": false}'),
            ("zigbee2mqtt/front_door", b'{"contact": true}')]
        for m in got:
            link.ack(m)
    finally:
        pub.loop_stop()
        pub.disconnect()
        await link.stop()


async def test_plaintext_to_the_tls_port_never_connects(tls_broker: tuple[Mosquitto, Pki]) -> None:
    broker, _pki = tls_broker
    link = MqttLink("127.0.0.1", broker.port, ["zigbee2mqtt/#"], client_id="tls-plain", watch_broker=False)
    await link.start()
    try:
        await wait_for(lambda: link.failed_attempts >= 1)
        assert not link.connected and link.connects == 0
    finally:
        await link.stop()


def other_ca(tmp_path: Path) -> BrokerTls:
    pki = make_pki(tmp_path / "someone-elses-ca", [TLS_SERVER_NAME])
    return BrokerTls(ca_file=pki.ca_file, server_name=TLS_SERVER_NAME)


@pytest.mark.parametrize(("case", "words"), [
    ("wrong CA", "its certificate is not signed by the CA in broker.tls.ca_file (wrong CA file?)"),
    ("name mismatch", "its certificate is not for 127.0.0.1 (name mismatch: set broker.tls.server_name to the "
                      "name in its certificate, or connect by that name)"),
])
async def test_an_untrusted_broker_is_refused_in_words(tls_broker: tuple[Mosquitto, Pki], tmp_path: Path,
                                                       case: str, words: str) -> None:
    broker, pki = tls_broker
    tls = other_ca(tmp_path) if case == "wrong CA" else tls_config(pki, broker.port, server_name=None)
    link = MqttLink("127.0.0.1", broker.port, ["zigbee2mqtt/#"], client_id="tls-bad", tls=tls, watch_broker=False)
    await link.start()
    try:
        await wait_for(lambda: link.failed_attempts >= 1)
        assert link.status.startswith(f"TLS handshake with broker 127.0.0.1:{broker.port} failed: {words}; "
                                      "1 failed attempt, retrying in ")
        assert not link.connected and link.connects == 0
    finally:
        await link.stop()


async def test_tls_to_a_plain_port_says_so(mosquitto: Mosquitto, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", [TLS_SERVER_NAME])
    link = MqttLink("127.0.0.1", mosquitto.port, ["x/#"], client_id="tls-to-plain", watch_broker=False,
                    tls=BrokerTls(ca_file=pki.ca_file, server_name=TLS_SERVER_NAME))
    await link.start()
    try:
        await wait_for(lambda: link.failed_attempts >= 1)
        assert link.status.startswith(f"TLS handshake with broker 127.0.0.1:{mosquitto.port} failed: the broker closed "
                                      "the connection: it did not answer in TLS (is broker.port its plain port? TLS is usually 8883)")
    finally:
        await link.stop()


# ---- config: no password in clear over a network -----------------------------------------------

REMOTE = HOME + "broker:\n  host: 192.168.1.20\n  username: hearth\n  password_file: /etc/hearth/secrets/mqtt\n"


def test_a_password_to_another_machine_without_tls_is_refused() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config_text(REMOTE, "home.yaml")
    assert exc.value.problems == [
        "home.yaml:4: broker: a password for broker 192.168.1.20 (not this Pi) would cross the network in "
        "clear: add broker.tls (ca_file: the CA that signed the broker's certificate, and the broker's TLS "
        "port, usually 8883), or set broker.allow_plaintext: true on a network you fully trust"]


def test_plaintext_only_when_allowed_or_on_this_pi(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", [TLS_SERVER_NAME])
    assert parse_config_text(REMOTE + "  allow_plaintext: true\n", "h.yaml").broker.allow_plaintext
    with_tls = parse_config_text(REMOTE + f"  port: 8883\n  tls: {{ca_file: {pki.ca_file}}}\n", "h.yaml")
    assert with_tls.broker.tls is not None and with_tls.broker.tls.ca_file == pki.ca_file
    for local in ("127.0.0.1", "localhost", "::1"):
        assert parse_config_text(REMOTE.replace("192.168.1.20", f"'{local}'"), "h.yaml").broker.tls is None
    # no password, nothing secret to leak
    assert parse_config_text(HOME + "broker: {host: 192.168.1.20}\n", "h.yaml").broker.host == "192.168.1.20"


def test_tls_file_problems_are_named_at_check_time(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", [TLS_SERVER_NAME])
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate\n")
    cases = {
        f"{{ca_file: {tmp_path}/missing.pem}}": f"ca_file: cannot read {tmp_path}/missing.pem (no such file",
        f"{{ca_file: {not_pem}}}": "ca_file, cert_file and key_file must be PEM",
        f"{{ca_file: {pki.ca_file}, key_file: {pki.key_file}}}": "key_file is given without cert_file",
        f"{{ca_file: {pki.ca_file}, insecure: true}}": "broker.tls.insecure: unknown field",
    }
    for tls, words in cases.items():
        with pytest.raises(ConfigError) as exc:
            parse_config_text(HOME + f"broker:\n  tls: {tls}\n", "h.yaml")
        assert words in exc.value.problems[0] and exc.value.problems[0].startswith("h.yaml:4: broker.tls"), tls


async def test_a_client_certificate_when_the_broker_requires_one(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", [TLS_SERVER_NAME])
    client = make_pki(tmp_path / "client", ["hearth-gateway"], client=True)
    broker = Mosquitto(tmp_path / "broker")
    both = tmp_path / "cas.pem"  # the broker trusts the CA of the client's certificate too
    both.write_bytes(pki.ca_file.read_bytes() + client.ca_file.read_bytes())
    broker.conf.write_text(broker.conf.read_text() + f"cafile {both}\ncertfile {pki.cert_file}\n"
                                                      f"keyfile {pki.key_file}\nrequire_certificate true\n")
    broker.start()
    try:
        for cert, connects in ((None, False), (client, True)):
            tls = BrokerTls(ca_file=pki.ca_file, server_name=TLS_SERVER_NAME,
                            cert_file=cert.cert_file if cert else None, key_file=cert.key_file if cert else None)
            link = MqttLink("127.0.0.1", broker.port, ["x/#"], client_id="tls-client-cert", tls=tls,
                            watch_broker=False)
            await link.start()
            try:
                await wait_for(lambda link=link: link.connected or link.failed_attempts >= 1)
                assert link.connected is connects, link.status
            finally:
                await link.stop()
    finally:
        broker.stop()
